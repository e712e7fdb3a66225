"""The web channel's own small state: SQLite beside the desk's database, or, with
FRONTDESK_DATABASE_URL, the shared PostgreSQL database (its tables made by the migrations there),
so that every replica serves every customer's pages.

- `status_links`: the status page of a filed ticket is reached only by a random token e-mailed
  to the customer; only the token's SHA-256 is kept, with the ticket it opens, the session that
  filed it and what the desk said at filing (what to expect, 2.1–2.5).
- `notices`: what the desk later told the web customer about a ticket (filed officially, not
  delivered, support's answer), shown on that ticket's status page.
- `web_secrets`: the key that signs session cookies and CSRF tokens when none is configured,
  made once by the first process and the same for every replica.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.tickets.shared_db import SqlDb, open_own

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
CREATE TABLE IF NOT EXISTS web_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SIGNING_KEY = "signing"


@dataclass(frozen=True)
class StatusLink:
    ticket_id: str
    session_id: str
    said: str


class WebState:
    def __init__(self, db: SqlDb) -> None:
        self._db = db

    @classmethod
    async def open_for(cls, settings: Settings) -> WebState:
        """Where the settings keep the desk's data: the shared database when there is one."""
        return cls(await open_own(settings, "web-channel.sqlite3", _SCHEMA))

    async def close(self) -> None:
        await self._db.close()

    async def signing_key(self) -> str:
        """The cookie and CSRF key: the first process to ask makes it, every later one reads it."""
        await self._db.write(
            "INSERT INTO web_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (SIGNING_KEY, secrets.token_hex(32)),
        )
        row = await self._db.fetch_one(
            "SELECT value FROM web_secrets WHERE name = ?", (SIGNING_KEY,)
        )
        return str(row[0])

    async def add_link(
        self, token_hash: str, ticket_id: str, session_id: str, said: str, now: datetime
    ) -> None:
        await self._db.write(
            "INSERT INTO status_links (token_hash, ticket_id, session_id, said, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (token_hash, ticket_id, session_id, said, now.isoformat()),
        )

    async def link(self, token_hash: str) -> StatusLink | None:
        row = await self._db.fetch_one(
            "SELECT ticket_id, session_id, said FROM status_links WHERE token_hash = ?",
            (token_hash,),
        )
        return StatusLink(str(row[0]), str(row[1]), str(row[2])) if row else None

    async def add_notice(self, ticket_id: str, text: str, now: datetime) -> None:
        await self._db.write(
            "INSERT INTO notices (ticket_id, at, text) VALUES (?, ?, ?)",
            (ticket_id, now.isoformat(), text),
        )

    async def notices(self, ticket_id: str) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT text FROM notices WHERE ticket_id = ? ORDER BY at", (ticket_id,)
        )
        return [str(row[0]) for row in rows]

    async def forget_session(self, session_id: str) -> None:
        """The customer asked to be forgotten: their links and what was said there go."""
        await self._db.write(
            "DELETE FROM notices WHERE ticket_id IN "
            "(SELECT ticket_id FROM status_links WHERE session_id = ?)",
            (session_id,),
        )
        await self._db.write("DELETE FROM status_links WHERE session_id = ?", (session_id,))
