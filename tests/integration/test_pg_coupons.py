"""The coupon registry on the shared PostgreSQL database: the CLI import and the core's lookup."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from bot.config import Settings
from bot.tickets.backends import coupon_lookup, main_import_coupons
from bot.tickets.pg.coupons import PgCouponLookup
from bot.tickets.pg.store import PgStore

FIXTURES = Path(__file__).parents[1] / "fixtures" / "coupons"
TODAY = date(2026, 11, 25)


async def _desk_start(url: str) -> None:
    """The desk's start migrates the database."""
    store = await PgStore.open(url)
    await store.close()


def test_imported_coupons_are_checked_from_the_shared_database(
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(_desk_start(pg_url))
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", pg_url)
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "var"))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    lookup = coupon_lookup(settings)
    assert isinstance(lookup, PgCouponLookup)
    try:
        # No registry imported yet: coupons are not checked at all
        assert lookup("ABCD-1234-EFGH", None, TODAY) is None
        assert main_import_coupons([str(FIXTURES / "good.csv")]) == 0
        assert "3 accepted" in capsys.readouterr().out
        assert not (tmp_path / "var").exists()  # nothing went into a SQLite file
        known = lookup(" abcd-1234-efgh", "Старт", TODAY)
        assert known is not None and known.status == "ok" and known.edition_mismatch
        expired = lookup("WXYZ-0001-AAAA", None, TODAY)
        assert expired is not None and expired.status == "expired"
        unknown = lookup("NOPE-0000-NOPE", None, TODAY)
        assert unknown is not None and unknown.status == "unknown"
    finally:
        lookup.close()


def test_an_unreachable_registry_answers_like_an_empty_one(pg_url: str) -> None:
    closed_port = pg_url.rsplit(":", 1)[0] + ":1/none"
    lookup = PgCouponLookup(closed_port)
    assert lookup("ABCD-1234-EFGH", None, TODAY) is None
    lookup.close()
