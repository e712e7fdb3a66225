"""SQLite on the event loop's own thread, behind the part of aiosqlite's interface the desk uses.

The desk's statements are small indexed reads and single-row writes on a local WAL file: tens of
microseconds each. Handing every one to aiosqlite's worker thread cost far more than the
statement: a queue, a thread wake-up, a self-pipe write, the GIL passed back and forth. Under
load (benchmarks/telegram_load.py, 500 customers) that was a third of the bot's CPU: 5.7 ms per
update with aiosqlite, 3.6 ms with the statements run here, where they are awaited.

Two consequences, both wanted:
- a transaction made of these statements (BEGIN ... COMMIT with nothing else awaited between)
  cannot interleave with another coroutine's statements;
- a slow statement holds the loop for its duration. Nothing on the desk's database is slow:
  bulk work (the coupon import) keeps aiosqlite and a file of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator
from pathlib import Path
from typing import Any

Params = tuple[object, ...] | dict[str, object]

# The desk's own database is written by one process; the wait only matters when an operator's
# tool holds the file for a moment.
BUSY_TIMEOUT_MS = 5000


class Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()


class _Statement:
    """`await conn.execute(...)` and `async with conn.execute(...) as cur`, as in aiosqlite.

    The statement runs when awaited or entered, not when `execute` is called."""

    def __init__(self, conn: sqlite3.Connection, sql: str, params: Params) -> None:
        self._conn, self._sql, self._params = conn, sql, params
        self._cursor: Cursor | None = None

    def _run(self) -> Cursor:
        return Cursor(self._conn.execute(self._sql, self._params))

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._run()
        yield  # a generator that never suspends: the statement ran synchronously

    async def __aenter__(self) -> Cursor:
        self._cursor = self._run()
        return self._cursor

    async def __aexit__(self, *exc_info: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class Connection:
    """An autocommit connection (transactions are explicit BEGIN ... COMMIT)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> _Statement:
        return _Statement(self._conn, sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Any:
        """The first row, or None."""
        return self._conn.execute(sql, params).fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Any]:
        return self._conn.execute(sql, params).fetchall()

    async def executescript(self, script: str) -> None:
        self._conn.executescript(script)

    async def close(self) -> None:
        self._conn.close()


async def connect(path: Path) -> Connection:
    """The desk's database: WAL (readers never wait for the writer), synchronous=NORMAL (a
    commit survives a crash of the process; only a power cut may lose the last ones)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return Connection(conn)
