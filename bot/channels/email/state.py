"""The e-mail channel's own small state: SQLite beside the desk's database, or, with
FRONTDESK_DATABASE_URL, the shared PostgreSQL database (its table made by the migrations there).

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

from bot.config import Settings
from bot.tickets.shared_db import SqlDb, open_own

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
    def __init__(self, db: SqlDb) -> None:
        self._db = db

    @classmethod
    async def open_for(cls, settings: Settings) -> EmailState:
        """Where the settings keep the desk's data: the shared database when there is one."""
        return cls(await open_own(settings, "email-channel.sqlite3", _SCHEMA))

    async def close(self) -> None:
        await self._db.close()

    async def record_sent(
        self, message_id: str, ticket_id: str | None, kind: str, recipient: str, now: datetime
    ) -> None:
        await self._db.write(
            "INSERT INTO sent (message_id, ticket_id, kind, recipient, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET "
            "ticket_id = excluded.ticket_id, kind = excluded.kind, "
            "recipient = excluded.recipient, created_at = excluded.created_at",
            (message_id, ticket_id, kind, recipient, now.isoformat()),
        )

    async def replied(self, ticket_id: str, kind: str) -> bool:
        """Whether a reply of `kind` about the ticket was sent."""
        row = await self._db.fetch_one(
            "SELECT 1 FROM sent WHERE ticket_id = ? AND kind = ?", (ticket_id, kind)
        )
        return row is not None

    async def ticket_of(self, message_ids: tuple[str, ...]) -> str | None:
        """The ticket of the first of these Message-IDs that is one of our replies."""
        for mid in message_ids:
            row = await self._db.fetch_one(
                "SELECT ticket_id FROM sent WHERE message_id = ? AND ticket_id IS NOT NULL",
                (mid,),
            )
            if row:
                return str(row[0])
        return None

    async def legacy_auto_replies(self) -> list[tuple[str, datetime]]:
        """(sender, sent at) of the old `auto_replies` table; [] without it."""
        if not await self._db.has_table("auto_replies"):
            return []
        rows = await self._db.fetch_all("SELECT sender, sent_at FROM auto_replies")
        return [(str(sender), _aware(datetime.fromisoformat(at))) for sender, at in rows]

    async def drop_legacy_auto_replies(self) -> None:
        if await self._db.has_table("auto_replies"):
            await self._db.write("DROP TABLE auto_replies")  # its index goes with it


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
