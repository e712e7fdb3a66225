"""The e-mail channel's own small state (SQLite beside the desk's database).

- `sent`: Message-IDs of the replies the channel sent, with their ticket (threads our customers
  answer to map back to the ticket even though those Message-IDs are random).

The per-sender limit on automatic replies (RFC 3834 §2) is not kept here but by the desk, in
its `limit_events` (:mod:`bot.policy.auto_replies`). Databases of earlier versions have a table
`auto_replies` for it: the channel hands its rows to the desk once (`legacy_auto_replies`; the
desk counts those of the last hour) and then drops it (`drop_legacy_auto_replies`), so an
upgrade neither fails nor hands a sender a fresh allowance.
"""

from __future__ import annotations

from datetime import UTC, datetime
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

    async def legacy_auto_replies(self) -> list[tuple[str, datetime]]:
        """(sender, sent at) of the old `auto_replies` table; [] without it."""
        async with self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'auto_replies'"
        ) as cur:
            if await cur.fetchone() is None:
                return []
        async with self._db.execute("SELECT sender, sent_at FROM auto_replies") as cur:
            rows = await cur.fetchall()
        return [(str(sender), _aware(datetime.fromisoformat(at))) for sender, at in rows]

    async def drop_legacy_auto_replies(self) -> None:
        await self._db.execute("DROP TABLE IF EXISTS auto_replies")  # its index goes with it


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
