"""Which store the settings choose: PostgreSQL when FRONTDESK_DATABASE_URL is set, else SQLite.

Every part of the desk that keeps data reaches it through the store this returns (or its
`shared_db`), so the two are never mixed. A part whose data is not on PostgreSQL yet would keep it
per replica, beside the shared store: with such a part configured, :func:`open_store` refuses to
start instead (:class:`NotOnPostgres`, README "Operations").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.tickets.coupons import CouponCheck, CouponLookup, ImportReport, main_import, renew_url
from bot.tickets.interface import TicketStore
from bot.tickets.store import Store


class NotOnPostgres(RuntimeError):
    """FRONTDESK_DATABASE_URL is set, but a configured part still keeps its data elsewhere."""


def not_on_postgres(settings: Settings) -> list[str]:
    """The configured parts whose data would not be in the shared database."""
    parts = []
    if settings.database_path.exists():
        # Its tickets would be out of reach, and their numbers handed out again (never reused).
        parts.append(f"the SQLite database {settings.database_path} (tickets, coupon registry)")
    return parts


async def open_store(settings: Settings) -> TicketStore:
    if settings.database_url:
        missing = not_on_postgres(settings)
        if missing:
            raise NotOnPostgres(
                "not yet on PostgreSQL: " + "; ".join(missing)
                + ". Unset FRONTDESK_DATABASE_URL to run on SQLite."
            )  # fmt: skip
        # Imported only here: the SQLite default never loads psycopg.
        from bot.tickets.pg.store import PgStore

        return await PgStore.open(settings.database_url, lease=settings.outbox_lease)
    return await Store.open(settings.database_path)


def coupon_lookup(settings: Settings) -> Callable[[str, str | None, date], CouponCheck | None]:
    """The intake core's coupon check, on the registry of the chosen database."""
    if settings.database_url:
        from bot.tickets.pg.coupons import PgCouponLookup

        return PgCouponLookup(settings.database_url, renew_url(settings))
    return CouponLookup(settings.database_path, renew_url(settings))


async def _shared_import(
    url: str, path: Path, pattern: str, progress: TextIO | None
) -> ImportReport:
    from bot.tickets.pg.coupons import import_csv

    return await import_csv(url, path, pattern, progress)


def main_import_coupons(argv: list[str]) -> int:
    """`frontdesk coupons import`: into the chosen database (bot/tickets/coupons.py)."""
    return main_import(argv, _shared_import)
