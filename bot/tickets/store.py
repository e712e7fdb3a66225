"""SQLite store: tickets, conversations, and the outbox of e-mails to deliver.

The embedded default, for one process; `bot/tickets/pg/` is the same store on PostgreSQL for
several replicas (the interface both satisfy: `bot/tickets/interface.py`).

A ticket and its e-mail are written in one transaction before any network I/O, so a
ticket accepted from a customer survives a restart and an SMTP outage. Ticket numbers come from an
AUTOINCREMENT key: SQLite never hands out the same one twice, even after deletions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.tickets import sqlite
from bot.tickets.model import (
    AttachmentRef,
    Classification,
    DocLink,
    Ticket,
    TicketStatus,
    format_ticket_id,
)
from bot.tickets.render import Envelope, OutboundMessage

_MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE tickets (
        number INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT UNIQUE,
        channel TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        status TEXT NOT NULL,
        message_id TEXT,
        created_at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX tickets_customer ON tickets (channel, customer_id);
    CREATE TABLE conversations (
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, user_id)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id TEXT,
        kind TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        raw BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
    """,
    # 2: each outbox row keeps the envelope its renderer decided (never read back from headers);
    # inbound e-mails already handled (so a retry never files twice); the desk's own secrets.
    """
    ALTER TABLE outbox ADD COLUMN envelope TEXT;
    CREATE TABLE inbound_processed (
        message_key TEXT PRIMARY KEY,
        outcome TEXT NOT NULL,
        ticket_id TEXT,
        processed_at TEXT NOT NULL
    );
    CREATE TABLE desk_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
)

# The inbound e-mail being handled (its Message-ID or a hash of its bytes), set by the e-mail
# channel around its work: a ticket filed or a message queued meanwhile records that e-mail as
# processed in the same transaction, so a retry after a later failure never does it twice.
inbound_key: ContextVar[str | None] = ContextVar("inbound_key", default=None)


@dataclass(frozen=True)
class OutboxRow:
    id: int
    ticket_id: str | None
    kind: str
    message_id: str
    raw: bytes
    attempts: int
    status: str
    envelope: Envelope | None = None  # None only for rows queued before envelopes were kept


def _ts(moment: datetime) -> str:
    return moment.isoformat()


# Tickets still in work: a new request like one of these is offered as a follow-up (2.5).
OPEN_STATUSES = (TicketStatus.QUEUED, TicketStatus.FILED, TicketStatus.ANSWERED)


def ticket_to_data(ticket: Ticket) -> str:
    data = asdict(ticket)
    data["created_at"] = ticket.created_at.isoformat()
    data["next_opening"] = ticket.next_opening.isoformat() if ticket.next_opening else None
    data["status"] = str(ticket.status)
    return json.dumps(data, ensure_ascii=False)


def ticket_from_data(raw: str, status: str | None = None) -> Ticket:
    data: dict[str, Any] = json.loads(raw)
    data["classification"] = Classification(**data["classification"])
    data["attachments"] = [AttachmentRef(**a) for a in data.get("attachments", [])]
    data["suggested_docs"] = [DocLink(**d) for d in data.get("suggested_docs", [])]
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    if data.get("next_opening"):
        data["next_opening"] = datetime.fromisoformat(data["next_opening"])
    data["status"] = TicketStatus(status or data.get("status", "queued"))
    known = {k: v for k, v in data.items() if k in Ticket.__dataclass_fields__}
    return Ticket(**known)


class Store:
    """One connection (bot/tickets/sqlite.py) shared by the desk, the outbox and the channels.

    Every write goes through `_lock`: a transaction spans several awaits, and any statement that
    another coroutine ran in between would otherwise join (or break) that transaction.
    """

    shared = False  # one process: its secrets may stay in the data dir

    def __init__(self, db: sqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[sqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _write(self, sql: str, params: tuple[object, ...]) -> None:
        async with self._lock:
            await self._db.execute(sql, params)

    @classmethod
    async def open(cls, path: Path) -> Store:
        store = cls(await sqlite.connect(path))
        await store._migrate()
        return store

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        await self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        row = await self._db.fetch_one("SELECT MAX(version) FROM schema_version")
        current = row[0] if row and row[0] is not None else 0
        for version, script in enumerate(_MIGRATIONS, start=1):
            if version <= current:
                continue
            async with self._transaction() as db:
                for statement in filter(str.strip, script.split(";")):
                    await db.execute(statement)
                await db.execute("INSERT INTO schema_version VALUES (?)", (version,))

    @property
    def schema_version(self) -> int:
        return len(_MIGRATIONS)

    # --- tickets ---------------------------------------------------------------------------

    async def create_ticket(
        self, ticket: Ticket, render: Callable[[Ticket], OutboundMessage], now: datetime
    ) -> Ticket:
        """Allocate the id, store the ticket and queue its e-mail, all in one transaction."""
        try:
            async with self._transaction() as db:
                cur = await db.execute(
                    "INSERT INTO tickets (channel, customer_id, status, created_at, data) "
                    "VALUES (?, ?, ?, ?, '{}')",
                    (ticket.channel, ticket.customer_id, TicketStatus.QUEUED.value, _ts(now)),
                )
                number = cur.lastrowid
                assert number is not None
                ticket.id = format_ticket_id(number)
                ticket.status = TicketStatus.QUEUED
                message = render(ticket)
                message_id = str(message["Message-ID"])
                await db.execute(
                    "UPDATE tickets SET id = ?, message_id = ?, data = ? WHERE number = ?",
                    (ticket.id, message_id, ticket_to_data(ticket), number),
                )
                await self._insert_outbox("ticket", message, now, ticket.id)
                await self._record_inbound(db, "filed", ticket.id, now)
        except BaseException:
            ticket.id = ""
            raise
        return ticket

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        row = await self._db.fetch_one(
            "SELECT data, status FROM tickets WHERE id = ?", (ticket_id,)
        )
        return ticket_from_data(row[0], row[1]) if row else None

    async def ticket_message_id(self, ticket_id: str) -> str | None:
        row = await self._db.fetch_one("SELECT message_id FROM tickets WHERE id = ?", (ticket_id,))
        return str(row[0]) if row and row[0] else None

    async def tickets_of(self, channel: str, customer_id: str, limit: int = 20) -> list[Ticket]:
        rows = await self._db.fetch_all(
            "SELECT data, status FROM tickets WHERE channel = ? AND customer_id = ? "
            "ORDER BY number DESC LIMIT ?",
            (channel, customer_id, limit),
        )
        return [ticket_from_data(r[0], r[1]) for r in rows]

    async def open_tickets_of(
        self, channel: str, customer_id: str, limit: int = 20
    ) -> list[tuple[str, str]]:
        """(id, description) of the customer's newest tickets still in work, read on every
        update for the 2.5 check: SQLite picks the description out, no ticket is decoded."""
        rows = await self._db.fetch_all(
            "SELECT id, json_extract(data, '$.description') FROM tickets "
            "WHERE channel = ? AND customer_id = ? AND status IN (?, ?, ?) "
            "ORDER BY number DESC LIMIT ?",
            (channel, customer_id, *(s.value for s in OPEN_STATUSES), limit),
        )
        return [(str(r[0]), str(r[1] or "")) for r in rows]

    async def set_ticket_status(self, ticket_id: str, status: TicketStatus) -> None:
        await self._write("UPDATE tickets SET status = ? WHERE id = ?", (status.value, ticket_id))

    async def count_tickets(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) FROM tickets")
        return int(row[0]) if row else 0

    # --- conversations ---------------------------------------------------------------------

    async def load_conversation(self, channel: str, user_id: str) -> dict[str, Any] | None:
        row = await self._db.fetch_one(
            "SELECT state FROM conversations WHERE channel = ? AND user_id = ?",
            (channel, user_id),
        )
        return json.loads(row[0]) if row else None

    async def save_conversation(
        self, channel: str, user_id: str, state: dict[str, Any], now: datetime
    ) -> None:
        await self._write(
            "INSERT INTO conversations (channel, user_id, state, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (channel, user_id) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (channel, user_id, json.dumps(state, ensure_ascii=False), _ts(now)),
        )

    async def delete_conversation(self, channel: str, user_id: str) -> None:
        await self._write(
            "DELETE FROM conversations WHERE channel = ? AND user_id = ?", (channel, user_id)
        )

    # --- outbox ----------------------------------------------------------------------------

    async def _insert_outbox(
        self, kind: str, message: OutboundMessage, now: datetime, ticket_id: str | None
    ) -> int:
        message_id = message["Message-ID"]
        if not message_id:
            raise ValueError("an outbox message needs a Message-ID (exactly-once delivery)")
        if not message.envelope.to:
            raise ValueError("an outbox message needs a recipient in its envelope")
        cur = await self._db.execute(
            "INSERT INTO outbox (ticket_id, kind, message_id, raw, next_attempt_at, created_at, "
            "envelope) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                ticket_id, kind, str(message_id), message.wire or message.as_bytes(),
                _ts(now), _ts(now),
                message.envelope.to_json(),
            ),
        )  # fmt: skip
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def enqueue(
        self, kind: str, message: OutboundMessage, now: datetime, ticket_id: str | None = None
    ) -> int:
        """Queue a follow-up, a reply to a customer or a code for delivery."""
        async with self._transaction() as db:
            row_id = await self._insert_outbox(kind, message, now, ticket_id)
            await self._record_inbound(db, kind, ticket_id, now)
            return row_id

    # --- inbound e-mail already handled ----------------------------------------------------

    async def _record_inbound(
        self, db: sqlite.Connection, outcome: str, ticket_id: str | None, now: datetime
    ) -> None:
        key = inbound_key.get()
        if key is not None:
            await db.execute(
                "INSERT OR IGNORE INTO inbound_processed (message_key, outcome, ticket_id, "
                "processed_at) VALUES (?, ?, ?, ?)",
                (key, outcome, ticket_id, _ts(now)),
            )

    async def inbound_outcome(self, key: str) -> tuple[str, str | None] | None:
        """(outcome, ticket id) of an inbound e-mail already handled, or None."""
        row = await self._db.fetch_one(
            "SELECT outcome, ticket_id FROM inbound_processed WHERE message_key = ?", (key,)
        )
        return (str(row[0]), row[1]) if row else None

    async def record_inbound(
        self, key: str, outcome: str, ticket_id: str | None, now: datetime
    ) -> None:
        """Mark an inbound e-mail handled (when nothing was filed or queued for it)."""
        await self._write(
            "INSERT OR IGNORE INTO inbound_processed (message_key, outcome, ticket_id, "
            "processed_at) VALUES (?, ?, ?, ?)",
            (key, outcome, ticket_id, _ts(now)),
        )

    async def secret(self, name: str, make: Callable[[], str]) -> str:
        """A secret of the desk kept in the database (shared by every process using it)."""
        async with self._transaction() as db:
            row = await db.fetch_one("SELECT value FROM desk_secrets WHERE name = ?", (name,))
            if row:
                return str(row[0])
            value = make()
            await db.execute("INSERT INTO desk_secrets (name, value) VALUES (?, ?)", (name, value))
            return value

    async def due_messages(self, now: datetime, limit: int = 50) -> list[OutboxRow]:
        """Queued messages whose time has come, and those a crash left in 'sending'."""
        rows = await self._db.fetch_all(
            "SELECT id, ticket_id, kind, message_id, raw, attempts, status, envelope FROM outbox "
            "WHERE status = 'sending' OR (status = 'queued' AND next_attempt_at <= ?) "
            "ORDER BY id LIMIT ?",
            (_ts(now), limit),
        )
        return [
            OutboxRow(
                r[0], r[1], r[2], r[3], bytes(r[4]), r[5], r[6],
                Envelope.from_json(r[7]) if r[7] else None,
            )
            for r in rows
        ]  # fmt: skip

    async def next_due_at(self) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'queued'"
        )
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def mark_sending(self, row_id: int, now: datetime) -> bool:
        """Always True: one process, one worker, so the row cannot have gone to another."""
        await self._write(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?",
            (row_id,),
        )
        return True

    async def mark_sent(self, row_id: int, now: datetime) -> bool:
        """Sent (and a ticket's own e-mail files its ticket); False when it was recorded
        already, as the shared store answers for another worker's record."""
        async with self._transaction() as db:
            cur = await db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL "
                "WHERE id = ? AND status <> 'sent'",
                (_ts(now), row_id),
            )
            if cur.rowcount != 1:
                return False
            await db.execute(
                "UPDATE tickets SET status = ? WHERE status = ? AND id = "
                "(SELECT ticket_id FROM outbox WHERE id = ? AND kind = 'ticket')",
                (TicketStatus.FILED.value, TicketStatus.QUEUED.value, row_id),
            )
            return True

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> None:
        await self._write(
            "UPDATE outbox SET status = 'queued', last_error = ?, next_attempt_at = ? "
            "WHERE id = ?",
            (error[:500], _ts(next_attempt_at), row_id),
        )

    async def mark_failed(self, row_id: int, error: str) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
                (error[:500], row_id),
            )
            await db.execute(
                "UPDATE tickets SET status = ? WHERE id = "
                "(SELECT ticket_id FROM outbox WHERE id = ? AND kind = 'ticket')",
                (TicketStatus.FAILED.value, row_id),
            )

    async def listen_outbox(self, wake: Callable[[], None]) -> None:
        """Nothing to listen to: only this process writes the file, and the desk wakes its own
        outbox when it queues something."""

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self._db.fetch_all("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {str(r[0]): int(r[1]) for r in rows}

    # --- outbox: recovery and operators' figures -------------------------------------------

    async def make_queued_due(self, now: datetime) -> int:
        """Bring every queued row's next attempt forward to `now`; returns how many moved.

        The outbox calls this when the mail server is known to answer again: the delays that grew
        while it was down (up to the retry ceiling, kept across restarts) no longer mean anything.
        """
        async with self._lock:
            cur = await self._db.execute(
                "UPDATE outbox SET next_attempt_at = ? "
                "WHERE status = 'queued' AND next_attempt_at > ?",
                (_ts(now), _ts(now)),
            )
            return max(cur.rowcount, 0)

    async def outbox_figures(self) -> dict[str, Any]:
        """Figures for `frontdesk status`, read only: counts by status (`queued`, `sending`,
        `sent`, `failed`), `oldest_waiting_at` (created_at of the oldest row not yet delivered,
        queued or sending), `next_attempt_at`, `last_sent_at` and `last_error` (of the oldest
        waiting row); timestamps as datetimes, None when there is none."""
        counts = await self.outbox_counts()
        row = await self._db.fetch_one(
            "SELECT MIN(created_at), MIN(CASE WHEN status = 'queued' THEN next_attempt_at END), "
            "(SELECT MAX(sent_at) FROM outbox WHERE status = 'sent'), "
            "(SELECT last_error FROM outbox WHERE status IN ('queued', 'sending') "
            " ORDER BY id LIMIT 1) "
            "FROM outbox WHERE status IN ('queued', 'sending')"
        )
        oldest, next_at, last_sent, last_error = row if row else (None, None, None, None)

        def moment(value: object) -> datetime | None:
            return datetime.fromisoformat(str(value)) if value else None

        figures: dict[str, Any] = {s: counts.get(s, 0) for s in ("queued", "sending", "sent")}
        figures["failed"] = counts.get("failed", 0)
        figures["oldest_waiting_at"] = moment(oldest)
        figures["next_attempt_at"] = moment(next_at)
        figures["last_sent_at"] = moment(last_sent)
        figures["last_error"] = str(last_error) if last_error else None
        return figures
