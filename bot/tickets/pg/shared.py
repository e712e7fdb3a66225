"""The PostgreSQL store's database for the tables other packages own (limits, identity, ...).

Those owners write their statements once, with SQLite's ``?`` placeholders and SQL both databases
speak (:class:`bot.tickets.shared_db.SqlDb`); here the placeholders become psycopg's ``%s``.
Their tables are made by the versioned migrations (bot/tickets/pg/migrations.py), so
`ensure_schema` has nothing to do.
"""

from __future__ import annotations

import select
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

Conn = AsyncConnection[tuple[Any, ...]]


async def check_when_spoken_to(conn: Conn) -> None:
    """The pools' check of a connection they are about to lend: a round trip to the server only
    when the server has sent something since the connection was last used.

    An idle connection hears nothing; one the server closed (a restart, an administrator's
    `pg_terminate_backend`) has its end-of-stream waiting to be read. Checking every loan with a
    round trip instead (psycopg_pool's `check_connection`) doubled the statements per update.
    If the check fails, the pool drops the connection and lends another."""
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        await AsyncConnectionPool.check_connection(conn)


@dataclass(frozen=True)
class Written:
    rowcount: int


@lru_cache(maxsize=256)
def to_psycopg(sql: str) -> str:
    """``?`` placeholders to ``%s`` (a literal ``%`` doubled first). The owners' statements
    hold no ``?`` inside string literals."""
    return sql.replace("%", "%%").replace("?", "%s")


@lru_cache(maxsize=8)
def _advisory_locks(count: int) -> str:
    return "SELECT " + ", ".join(["pg_advisory_xact_lock(hashtextextended(%s, 0))"] * count)


class PgShared:
    def __init__(self, pool: AsyncConnectionPool[Conn], *, owned: bool = False) -> None:
        self._pool = pool
        self._owned = owned  # a pool of its own (`connect`): closed with it

    @classmethod
    async def connect(cls, url: str, max_size: int = 2) -> PgShared:
        """A small pool of its own on the shared database, for a part that has no store at hand
        (a channel). The migrations have already run: the store opens first."""
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            url, min_size=1, max_size=max_size, kwargs={"autocommit": True}, open=False,
            check=check_when_spoken_to,
        )  # fmt: skip
        await pool.open(wait=True)
        return cls(pool, owned=True)

    def shared_db(self) -> PgShared:
        """Another owner's view: the same pool, never closed by it."""
        return PgShared(self._pool)

    async def write(
        self, sql: str, params: tuple[object, ...] = (), *, serialise: tuple[str, ...] = ()
    ) -> Written:
        async with self._pool.connection() as conn:
            if not serialise:
                cur = await conn.execute(to_psycopg(sql), params)
                return Written(max(cur.rowcount, 0))
            async with conn.transaction():
                # Held until this transaction ends, by every replica asking for one of the same
                # keys; taken in one order (left to right, sorted) so two writers cannot each
                # hold a key the other waits for.
                await conn.execute(_advisory_locks(len(serialise)), sorted(serialise))
                cur = await conn.execute(to_psycopg(sql), params)
                return Written(max(cur.rowcount, 0))

    async def fetch_one(self, sql: str, params: tuple[object, ...] = ()) -> Any:
        async with self._pool.connection() as conn:
            cur = await conn.execute(to_psycopg(sql), params)
            return await cur.fetchone()

    async def fetch_all(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(to_psycopg(sql), params)
            return await cur.fetchall()

    async def has_table(self, name: str) -> bool:
        row = await self.fetch_one("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(row and row[0])

    async def ensure_schema(self, script: str) -> None:
        """Nothing: the migrations made these tables (and run before any owner opens)."""

    async def close(self) -> None:
        """The pool only when it is this object's own; the store's is closed with the store."""
        if self._owned:
            await self._pool.close()
