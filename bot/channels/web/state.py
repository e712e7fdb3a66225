"""The web channel's own small state (SQLite beside the desk's database).

- `status_links`: the status page of a filed ticket is reached only by a random token e-mailed
  to the customer; only the token's SHA-256 is kept, with the ticket it opens, the session that
  filed it and what the desk said at filing (what to expect, 2.1–2.5).
- `notices`: what the desk later told the web customer about a ticket (filed officially, not
  delivered, support's answer), shown on that ticket's status page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

__all__ = ["StatusLink", "WebState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS status_links (
    token_hash TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    said TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notices (
    ticket_id TEXT NOT NULL,
    at TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notices_ticket ON notices (ticket_id, at);
"""


@dataclass(frozen=True)
class StatusLink:
    ticket_id: str
    session_id: str
    said: str


class WebState:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path) -> WebState:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.executescript(_SCHEMA)
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def add_link(
        self, token_hash: str, ticket_id: str, session_id: str, said: str, now: datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO status_links (token_hash, ticket_id, session_id, said, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (token_hash, ticket_id, session_id, said, now.isoformat()),
        )

    async def link(self, token_hash: str) -> StatusLink | None:
        async with self._db.execute(
            "SELECT ticket_id, session_id, said FROM status_links WHERE token_hash = ?",
            (token_hash,),
        ) as cur:
            row = await cur.fetchone()
        return StatusLink(str(row[0]), str(row[1]), str(row[2])) if row else None

    async def add_notice(self, ticket_id: str, text: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO notices (ticket_id, at, text) VALUES (?, ?, ?)",
            (ticket_id, now.isoformat(), text),
        )

    async def notices(self, ticket_id: str) -> list[str]:
        async with self._db.execute(
            "SELECT text FROM notices WHERE ticket_id = ? ORDER BY at", (ticket_id,)
        ) as cur:
            return [str(row[0]) for row in await cur.fetchall()]

    async def forget_session(self, session_id: str) -> None:
        """The customer asked to be forgotten: their links and what was said there go."""
        async with self._db.execute(
            "SELECT ticket_id FROM status_links WHERE session_id = ?", (session_id,)
        ) as cur:
            tickets = [str(row[0]) for row in await cur.fetchall()]
        for ticket_id in tickets:
            await self._db.execute("DELETE FROM notices WHERE ticket_id = ?", (ticket_id,))
        await self._db.execute("DELETE FROM status_links WHERE session_id = ?", (session_id,))
