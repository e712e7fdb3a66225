"""Opening the desk's SQLite file for the identity and policy tables.

Each table owner calls :func:`connect` with either the Store's connection (shared: the tables live
in the same file, and SQLite serialises the writes) or a path (a connection of its own, opened
the way the Store opens its own). :func:`ensure_schema` runs ``CREATE ... IF NOT EXISTS`` scripts,
one statement at a time so that it never opens a transaction inside someone else's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

DbOrPath = aiosqlite.Connection | Path


async def connect(db: DbOrPath) -> tuple[aiosqlite.Connection, bool]:
    """The connection to use and whether the caller owns it (and so must close it)."""
    if isinstance(db, aiosqlite.Connection):
        return db, False
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(db, isolation_level=None)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    await conn.execute("PRAGMA busy_timeout=5000")
    return conn, True


async def ensure_schema(db: aiosqlite.Connection, script: str) -> None:
    for statement in filter(str.strip, script.split(";")):
        await db.execute(statement)


def epoch(moment: datetime) -> float:
    """Seconds since the epoch of an aware datetime (naive ones are refused: STYLE.md)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
