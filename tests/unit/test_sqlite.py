"""bot/tickets/sqlite.py: SQLite run on the event loop's thread, aiosqlite-style."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bot.tickets import sqlite


async def test_statements_run_on_the_loop_thread_when_awaited(tmp_path: Path) -> None:
    conn = await sqlite.connect(tmp_path / "db.sqlite3")
    threads: list[int] = []
    conn._conn.create_function("where_am_i", 0, lambda: threads.append(threading.get_ident()))
    pending = conn.execute("SELECT where_am_i()")
    assert threads == []  # nothing runs before the await, as with aiosqlite
    await pending
    assert threads == [threading.get_ident()]
    await conn.close()


async def test_cursor_results_and_counts(tmp_path: Path) -> None:
    conn = await sqlite.connect(tmp_path / "db.sqlite3")
    await conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
    first = await conn.execute("INSERT INTO t (v) VALUES (?)", ("а",))
    second = await conn.execute("INSERT INTO t (v) VALUES (?)", ("б",))
    assert (first.lastrowid, second.lastrowid) == (1, 2)
    updated = await conn.execute("UPDATE t SET v = v || '!'")
    assert updated.rowcount == 2
    async with conn.execute("SELECT v FROM t ORDER BY id") as cur:
        assert await cur.fetchone() == ("а!",)
        assert await cur.fetchall() == [("б!",)]
    assert await conn.fetch_all("SELECT id FROM t WHERE v = ?", ("б!",)) == [(2,)]
    assert await conn.fetch_one("SELECT id FROM t WHERE v = ?", ("нет",)) is None
    with pytest.raises(sqlite.sqlite3.OperationalError):
        await conn.execute("SELECT nope FROM t")
    await conn.close()


async def test_a_transaction_is_not_interleaved_and_other_connections_see_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    writer, reader = await sqlite.connect(path), await sqlite.connect(path)
    await writer.executescript("CREATE TABLE t (n INTEGER);")
    seen: list[int] = []

    async def transfer() -> None:
        await writer.execute("BEGIN IMMEDIATE")
        for n in range(100):
            await writer.execute("INSERT INTO t VALUES (?)", (n,))
        await writer.execute("COMMIT")

    async def peek() -> None:
        for _ in range(50):
            (count,) = await reader.fetch_one("SELECT COUNT(*) FROM t")
            seen.append(count)
            await asyncio.sleep(0)

    await asyncio.gather(peek(), transfer(), peek())
    assert set(seen) <= {0, 100}  # never a half-done transaction
    assert seen[-1] == 100
    journal = await reader.fetch_one("PRAGMA journal_mode")
    assert journal == ("wal",)
    await writer.close()
    await reader.close()
