"""The e-mail channel's own small state (SQLite beside the desk's database).

- `sent`: Message-IDs of the replies the channel sent, with their ticket (threads our customers
  answer to map back to the ticket even though those Message-IDs are random).
- `auto_replies`: when each sender got an automatic reply, for the per-hour limit (RFC 3834 §2).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    message_id TEXT PRIMARY KEY,
    ticket_id TEXT,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS auto_replies (
    sender TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS auto_replies_sender ON auto_replies (sender, sent_at);
"""


class EmailState:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path) -> EmailState:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.executescript(_SCHEMA)
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def record_sent(
        self, message_id: str, ticket_id: str | None, kind: str, recipient: str, now: datetime
    ) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO sent (message_id, ticket_id, kind, recipient, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (message_id, ticket_id, kind, recipient, now.isoformat()),
        )

    async def ticket_of(self, message_ids: tuple[str, ...]) -> str | None:
        """The ticket of the first of these Message-IDs that is one of our replies."""
        for mid in message_ids:
            async with self._db.execute(
                "SELECT ticket_id FROM sent WHERE message_id = ? AND ticket_id IS NOT NULL",
                (mid,),
            ) as cur:
                row = await cur.fetchone()
            if row:
                return str(row[0])
        return None

    async def auto_replies_since(self, sender: str, since: datetime) -> int:
        async with self._db.execute(
            "SELECT COUNT(*) FROM auto_replies WHERE sender = ? AND sent_at > ?",
            (sender, since.isoformat()),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def note_auto_reply(self, sender: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO auto_replies (sender, sent_at) VALUES (?, ?)", (sender, now.isoformat())
        )
        await self._db.execute(
            "DELETE FROM auto_replies WHERE sent_at < ?", ((now - timedelta(days=1)).isoformat(),)
        )
