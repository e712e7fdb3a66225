"""The coupon registry on PostgreSQL: the import (`frontdesk coupons import`) and the lookup.

The same table and statements as in the SQLite file (bot/tickets/coupons.py), made by migration 3.

The intake core checks a coupon synchronously (it is a pure function of its inputs and this
lookup); on SQLite that is a local file read. Here it is one indexed read on a connection kept
open, a fraction of a millisecond on the local network, done once per coupon a customer types.
When the database cannot be reached the check answers None, as an empty registry does (the
ticket still goes out and the agent checks the license), and is not tried again for a while, so
an outage never holds the event loop on every customer's coupon.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import weakref
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import psycopg

from bot.tickets.coupons import (
    _UPSERT,
    DEFAULT_RENEW_URL,
    CouponCheck,
    CouponRecord,
    ImportReport,
    _CsvRows,
    check_coupon,
)
from bot.tickets.pg.shared import to_psycopg
from bot.tickets.values import normalise_coupon

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2  # seconds; the event loop waits for it
RETRY_AFTER = 30.0  # seconds without trying after the database could not be reached


async def import_csv(
    url: str, path: Path, coupon_pattern: str, progress: TextIO | None = None
) -> ImportReport:
    """Check every row and upsert the good ones in one transaction (as the SQLite import)."""
    rows = await asyncio.to_thread(_CsvRows, path, re.compile(coupon_pattern), progress)
    try:
        async with (
            await psycopg.AsyncConnection.connect(url) as conn,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            while batch := await asyncio.to_thread(rows.next_batch):
                await cur.executemany(to_psycopg(_UPSERT), batch)
    except psycopg.Error as exc:  # reported as any other database failure of the import
        raise OSError(str(exc)) from exc
    finally:
        rows.close()
    rows.finish()
    return ImportReport(rows.accepted, rows.rejected)


class PgCouponLookup:
    """`CouponLookup` on the shared database (see the module docstring)."""

    def __init__(self, url: str, renew: str = DEFAULT_RENEW_URL) -> None:
        self._url = url
        self._renew = renew
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._finalizer: weakref.finalize[[], PgCouponLookup] | None = None

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            )
            # The intake context that holds this lookup lives as long as the desk and has no
            # close of its own: the connection is closed when the lookup goes (or at exit).
            self._finalizer = weakref.finalize(self, self._conn.close)
        return self._conn.execute(sql, params).fetchone()

    def _record(self, coupon: str) -> tuple[bool, CouponRecord | None]:
        if time.monotonic() < self._down_until:
            return False, None
        with self._lock:
            try:
                if self._query("SELECT 1 FROM coupons LIMIT 1") is None:
                    return False, None
                row = self._query(
                    "SELECT coupon, customer, product, edition, support_until FROM coupons"
                    " WHERE coupon = %s",
                    (normalise_coupon(coupon),),
                )
            except psycopg.Error as exc:
                log.warning("coupon registry unreachable (%s); not checked for a while", exc)
                self._down_until = time.monotonic() + RETRY_AFTER
                self.close()
                return False, None
        if row is None:
            return True, None
        until = row[4] if isinstance(row[4], date) else date.fromisoformat(str(row[4]))
        return True, CouponRecord(row[0], row[1], row[2], row[3], until)

    def __call__(self, coupon: str, stated_edition: str | None, today: date) -> CouponCheck | None:
        in_use, record = self._record(coupon)
        if not in_use:
            return None
        return check_coupon(record, today, stated_edition, renew_url=self._renew, coupon=coupon)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # closes the connection, once
        self._conn = None
