"""Opening the desk's SQLite file for the tables other packages keep there (identity, policy).

It lives with the Store, below its users, so that neither of them imports the other for it.

Each table owner calls :func:`connect` with one of:

- the :class:`~bot.tickets.store.Store` (preferred): its connection AND its write lock are shared,
  so none of our statements can land inside a transaction the Store has open (the Store holds
  that lock for every write and transaction);
- a bare :class:`bot.tickets.sqlite.Connection` (``store._db``): shared connection, a lock of
  our own — fine when nothing else writes through that connection in transactions;
- a path: a connection of our own, opened the way the Store opens its own; SQLite's file lock
  and ``busy_timeout`` serialise us with the Store.

:func:`ensure_schema` runs ``CREATE ... IF NOT EXISTS`` scripts one statement at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.tickets import sqlite
from bot.tickets.store import Store


@dataclass(frozen=True)
class SharedDb:
    conn: sqlite.Connection
    lock: asyncio.Lock
    owned: bool  # opened here from a path: close it when done

    async def write(self, sql: str, params: tuple[object, ...] = ()) -> sqlite.Cursor:
        """One statement under the write lock; the cursor gives ``rowcount``/``lastrowid``."""
        async with self.lock:
            return await self.conn.execute(sql, params)

    async def close(self) -> None:
        if self.owned:
            await self.conn.close()


DbOrPath = Store | sqlite.Connection | Path | SharedDb


async def connect(db: DbOrPath) -> SharedDb:
    if isinstance(db, SharedDb):  # another table owner's: share it, never close it
        return SharedDb(db.conn, db.lock, False)
    if isinstance(db, Store):
        lock = getattr(db, "_lock", None)
        return SharedDb(db._db, lock if isinstance(lock, asyncio.Lock) else asyncio.Lock(), False)
    if isinstance(db, sqlite.Connection):
        return SharedDb(db, asyncio.Lock(), False)
    return SharedDb(await sqlite.connect(db), asyncio.Lock(), True)


async def ensure_schema(db: SharedDb, script: str) -> None:
    for statement in filter(str.strip, script.split(";")):
        await db.write(statement)


def epoch(moment: datetime) -> float:
    """Seconds since the epoch of an aware datetime (naive ones are refused: STYLE.md)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
