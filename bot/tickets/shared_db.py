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

On PostgreSQL (``FRONTDESK_DATABASE_URL``) the owners get the same :class:`SqlDb` interface from
the PgStore (:mod:`bot.tickets.pg.shared`): their statements are written once, with ``?``
placeholders and SQL both databases speak, and the versioned migrations make the tables there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bot.config import Settings
from bot.tickets import sqlite
from bot.tickets.interface import TicketStore
from bot.tickets.store import Store


class Written(Protocol):
    @property
    def rowcount(self) -> int: ...


class SqlDb(Protocol):
    """What the table owners need of a database: statements with ``?`` placeholders."""

    async def write(
        self, sql: str, params: tuple[object, ...] = (), *, serialise: tuple[str, ...] = ()
    ) -> Written:
        """One statement; with `serialise`, never at the same time as another write given one of
        the same keys, in any process (a check-and-insert that must not take a slot twice)."""

    async def fetch_one(self, sql: str, params: tuple[object, ...] = ()) -> Any: ...

    async def fetch_all(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]: ...

    async def has_table(self, name: str) -> bool: ...

    async def ensure_schema(self, script: str) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class SharedDb:
    conn: sqlite.Connection
    lock: asyncio.Lock
    owned: bool  # opened here from a path: close it when done

    async def write(
        self, sql: str, params: tuple[object, ...] = (), *, serialise: tuple[str, ...] = ()
    ) -> sqlite.Cursor:
        """One statement under the write lock; the cursor gives ``rowcount``/``lastrowid``.

        `serialise` needs nothing more here: one process writes the file, and the lock already
        keeps every write of it apart."""
        async with self.lock:
            return await self.conn.execute(sql, params)

    async def fetch_one(self, sql: str, params: tuple[object, ...] = ()) -> Any:
        return await self.conn.fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        return await self.conn.fetch_all(sql, params)

    async def has_table(self, name: str) -> bool:
        row = await self.conn.fetch_one(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
        return row is not None

    async def ensure_schema(self, script: str) -> None:
        for statement in filter(str.strip, script.split(";")):
            await self.write(statement)

    async def close(self) -> None:
        if self.owned:
            await self.conn.close()


class _HasSharedDb(Protocol):
    def shared_db(self) -> SqlDb: ...


DbOrPath = TicketStore | sqlite.Connection | Path | SqlDb


async def connect(db: DbOrPath) -> SqlDb:
    if isinstance(db, SharedDb):  # another table owner's: share it, never close it
        return SharedDb(db.conn, db.lock, False)
    if isinstance(db, Store):
        lock = getattr(db, "_lock", None)
        return SharedDb(db._db, lock if isinstance(lock, asyncio.Lock) else asyncio.Lock(), False)
    if isinstance(db, sqlite.Connection):
        return SharedDb(db, asyncio.Lock(), False)
    if isinstance(db, Path):
        return SharedDb(await sqlite.connect(db), asyncio.Lock(), True)
    shared = getattr(db, "shared_db", None)
    if callable(shared):  # the PostgreSQL store (or another owner's view of it): share its pool
        result: SqlDb = shared()
        return result
    raise TypeError(f"not a database: {type(db).__name__}")


async def open_own(settings: Settings, sqlite_file: str, schema: str) -> SqlDb:
    """A channel's own tables: in the shared PostgreSQL database when the settings name one (the
    migrations there make them), else in a SQLite file of the channel's own in the data dir."""
    if settings.database_url:
        from bot.tickets.pg.shared import PgShared  # the SQLite default never loads psycopg

        return await PgShared.connect(settings.database_url)
    path = settings.data_dir / sqlite_file
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await connect(path)
    await db.ensure_schema(schema)
    return db


async def ensure_schema(db: SqlDb, script: str) -> None:
    await db.ensure_schema(script)


def epoch(moment: datetime) -> float:
    """Seconds since the epoch of an aware datetime (naive ones are refused: STYLE.md)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
