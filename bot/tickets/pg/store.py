"""The desk's store on PostgreSQL: :class:`PgStore`, shared by every replica.

The same promises as the SQLite store (bot/tickets/interface.py), kept across processes:

- **Ticket ids** come from the sequence `ticket_number`, taken inside the transaction that stores
  the ticket and queues its e-mail. Two replicas never get the same number, and a number taken by
  a transaction that rolled back is never handed out again (the id format WAS-000001 is kept).
- **The outbox** is delivered by a worker on every replica. `due_messages` claims rows with
  ``FOR UPDATE SKIP LOCKED`` (two workers never claim the same row) and a lease
  (`claimed_until`, on the database's clock so the replicas' clocks do not matter). A worker that
  dies simply stops renewing: the lease runs out and another worker takes the row — a ``queued``
  row as it is, a ``sending`` one only after the outbox has confirmed it was not delivered
  (bot/mail/outbox.py). `mark_sending` succeeds only while the claim is still the worker's.
- **Wake-ups**: queueing a row sends ``NOTIFY frontdesk_outbox`` in the same transaction (it is
  delivered at commit), and `listen_outbox` wakes this replica's worker on it.

Statements run on a psycopg pool in autocommit mode; a transaction is explicit
(``conn.transaction()``) and lives on one pooled connection, so coroutines never share one.
The pool checks a connection (an empty query) before handing it out: after the database
restarts, the connections it cut are replaced instead of failing a customer's filing each; and
`listen_outbox` listens again (tests/integration/test_pg_replicas.py restarts it under load).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from psycopg import AsyncConnection, Error, OperationalError
from psycopg_pool import AsyncConnectionPool

from bot.tickets.model import Ticket, TicketStatus, format_ticket_id
from bot.tickets.pg.migrate import migrate, schema_version
from bot.tickets.pg.shared import PgShared, check_when_spoken_to
from bot.tickets.render import Envelope, OutboundMessage
from bot.tickets.store import (
    OPEN_STATUSES,
    OutboxRow,
    inbound_key,
    ticket_from_data,
    ticket_to_data,
)

log = logging.getLogger(__name__)

CHANNEL = "frontdesk_outbox"
# Longer than one delivery can take (SMTP timeout 30 s, plus the IMAP confirmation): the worker
# renews its claims on every pass, so only a replica that stopped working loses them.
DEFAULT_LEASE = 120.0
_RECONNECT = 2.0  # seconds between attempts to listen again after the connection dropped

Conn = AsyncConnection[tuple[Any, ...]]


class PgStore:
    """See the module docstring. Open with :meth:`open`; `lease` in seconds (tests shorten it)."""

    shared = True  # several replicas: the desk's secrets live in the database, not the data dir

    def __init__(self, pool: AsyncConnectionPool[Conn], url: str, lease: float) -> None:
        self._pool = pool
        self._url = url
        self.lease = lease
        # One worker per store (per replica): its claims carry this name, which tells an
        # operator looking at the outbox table which replica holds a row.
        self.worker = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @classmethod
    async def open(cls, url: str, *, lease: float = DEFAULT_LEASE, max_size: int = 10) -> PgStore:
        async with await AsyncConnection.connect(url, autocommit=True) as conn:
            await migrate(conn)
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            url, min_size=1, max_size=max_size, kwargs={"autocommit": True}, open=False,
            name="frontdesk", check=check_when_spoken_to,
        )  # fmt: skip
        await pool.open(wait=True)
        return cls(pool, url, lease)

    async def close(self) -> None:
        """Hand this worker's claims back first: a replica stopped for a deploy leaves its rows
        to the others at once, not when its lease runs out. (The outbox has stopped before the
        store closes; a row it left 'sending' is confirmed by the next worker before any
        resend.)"""
        try:
            await self._count(
                "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL "
                "WHERE claimed_by = %s AND status IN ('queued', 'sending')",
                (self.worker,),
            )
        except Error as exc:  # the database is gone: the leases will run out
            log.warning("outbox: claims not handed back (%s)", exc)
        finally:
            await self._pool.close()

    @property
    def schema_version(self) -> int:
        return schema_version()

    def shared_db(self) -> PgShared:
        """The same database for the tables other packages own (limits, identity, ...)."""
        return PgShared(self._pool)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Conn]:
        async with self._pool.connection() as conn, conn.transaction():
            yield conn

    async def _one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchone()

    async def _all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Any]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()

    async def _count(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return max(cur.rowcount, 0)

    # --- tickets ---------------------------------------------------------------------------

    async def create_ticket(
        self, ticket: Ticket, render: Callable[[Ticket], OutboundMessage], now: datetime
    ) -> Ticket:
        """Take the number, store the ticket and queue its e-mail, all in one transaction.

        A connection cut while the transaction runs (the database restarting, a fail-over) is
        tried once more on another connection, instead of telling the customer that pressed
        Send that something went wrong: nothing had been committed, so nothing is filed twice
        (the number taken is lost, never reused). A connection lost at COMMIT is not retried:
        the ticket may be stored then, and the error goes up as before."""
        for attempt in (1, 2):
            cut_before_commit = False
            try:
                async with self._transaction() as conn:
                    try:
                        await self._file(conn, ticket, render, now)
                    except OperationalError:
                        cut_before_commit = conn.broken
                        raise
                return ticket
            except BaseException as exc:
                ticket.id = ""
                if attempt == 1 and cut_before_commit and isinstance(exc, OperationalError):
                    log.warning("ticket not filed (%s); trying again on another connection", exc)
                    continue
                raise
        raise AssertionError("unreachable")

    async def _file(
        self,
        conn: Conn,
        ticket: Ticket,
        render: Callable[[Ticket], OutboundMessage],
        now: datetime,
    ) -> None:
        cur = await conn.execute("SELECT nextval('ticket_number')")
        row = await cur.fetchone()
        assert row is not None
        number = int(row[0])
        ticket.id = format_ticket_id(number)
        ticket.status = TicketStatus.QUEUED
        message = render(ticket)
        await conn.execute(
            "INSERT INTO tickets (number, id, channel, customer_id, status, message_id, "
            "created_at, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (number, ticket.id, ticket.channel, ticket.customer_id,
             TicketStatus.QUEUED.value, str(message["Message-ID"]), now,
             ticket_to_data(ticket)),
        )  # fmt: skip
        await self._insert_outbox(conn, "ticket", message, now, ticket.id)
        await self._record_inbound(conn, "filed", ticket.id, now)

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        row = await self._one("SELECT data, status FROM tickets WHERE id = %s", (ticket_id,))
        return ticket_from_data(row[0], row[1]) if row else None

    async def ticket_message_id(self, ticket_id: str) -> str | None:
        row = await self._one("SELECT message_id FROM tickets WHERE id = %s", (ticket_id,))
        return str(row[0]) if row and row[0] else None

    async def tickets_of(self, channel: str, customer_id: str, limit: int = 20) -> list[Ticket]:
        rows = await self._all(
            "SELECT data, status FROM tickets WHERE channel = %s AND customer_id = %s "
            "ORDER BY number DESC LIMIT %s",
            (channel, customer_id, limit),
        )
        return [ticket_from_data(r[0], r[1]) for r in rows]

    async def open_tickets_of(
        self, channel: str, customer_id: str, limit: int = 20
    ) -> list[tuple[str, str]]:
        rows = await self._all(
            "SELECT id, data::jsonb ->> 'description' FROM tickets "
            "WHERE channel = %s AND customer_id = %s AND status = ANY(%s) "
            "ORDER BY number DESC LIMIT %s",
            (channel, customer_id, [s.value for s in OPEN_STATUSES], limit),
        )
        return [(str(r[0]), str(r[1] or "")) for r in rows]

    async def set_ticket_status(self, ticket_id: str, status: TicketStatus) -> None:
        await self._count(
            "UPDATE tickets SET status = %s WHERE id = %s", (status.value, ticket_id)
        )

    async def count_tickets(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM tickets")
        return int(row[0]) if row else 0

    # --- conversations ---------------------------------------------------------------------

    async def load_conversation(self, channel: str, user_id: str) -> dict[str, Any] | None:
        row = await self._one(
            "SELECT state FROM conversations WHERE channel = %s AND user_id = %s",
            (channel, user_id),
        )
        return dict(json.loads(row[0])) if row else None

    async def save_conversation(
        self, channel: str, user_id: str, state: dict[str, Any], now: datetime
    ) -> None:
        await self._count(
            "INSERT INTO conversations (channel, user_id, state, updated_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (channel, user_id) DO UPDATE SET "
            "state = excluded.state, updated_at = excluded.updated_at",
            (channel, user_id, json.dumps(state, ensure_ascii=False), now.isoformat()),
        )

    async def delete_conversation(self, channel: str, user_id: str) -> None:
        await self._count(
            "DELETE FROM conversations WHERE channel = %s AND user_id = %s", (channel, user_id)
        )

    # --- inbound e-mail already handled, secrets --------------------------------------------

    async def _record_inbound(
        self, conn: Conn, outcome: str, ticket_id: str | None, now: datetime
    ) -> None:
        key = inbound_key.get()
        if key is not None:
            await conn.execute(
                "INSERT INTO inbound_processed (message_key, outcome, ticket_id, processed_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (message_key) DO NOTHING",
                (key, outcome, ticket_id, now),
            )

    async def inbound_outcome(self, key: str) -> tuple[str, str | None] | None:
        row = await self._one(
            "SELECT outcome, ticket_id FROM inbound_processed WHERE message_key = %s", (key,)
        )
        return (str(row[0]), row[1]) if row else None

    async def record_inbound(
        self, key: str, outcome: str, ticket_id: str | None, now: datetime
    ) -> None:
        await self._count(
            "INSERT INTO inbound_processed (message_key, outcome, ticket_id, processed_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (message_key) DO NOTHING",
            (key, outcome, ticket_id, now),
        )

    async def secret(self, name: str, make: Callable[[], str]) -> str:
        """A secret of the desk, the same for every replica: the first one to start makes it."""
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO desk_secrets (name, value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, make()),
            )
            cur = await conn.execute("SELECT value FROM desk_secrets WHERE name = %s", (name,))
            row = await cur.fetchone()
            assert row is not None
            return str(row[0])

    # --- outbox ----------------------------------------------------------------------------

    async def _insert_outbox(
        self, conn: Conn, kind: str, message: OutboundMessage, now: datetime,
        ticket_id: str | None,
    ) -> int:  # fmt: skip
        message_id = message["Message-ID"]
        if not message_id:
            raise ValueError("an outbox message needs a Message-ID (exactly-once delivery)")
        if not message.envelope.to:
            raise ValueError("an outbox message needs a recipient in its envelope")
        # The listeners hear of it when this transaction commits, never before; one statement
        # with the INSERT (a round trip saved per e-mail).
        cur = await conn.execute(
            "WITH queued AS (INSERT INTO outbox (ticket_id, kind, message_id, raw, "
            "next_attempt_at, created_at, envelope) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id) SELECT id, pg_notify(%s, '') FROM queued",
            (ticket_id, kind, str(message_id), message.wire or message.as_bytes(), now, now,
             message.envelope.to_json(), CHANNEL),
        )  # fmt: skip
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def enqueue(
        self, kind: str, message: OutboundMessage, now: datetime, ticket_id: str | None = None
    ) -> int:
        async with self._transaction() as conn:
            row_id = await self._insert_outbox(conn, kind, message, now, ticket_id)
            await self._record_inbound(conn, kind, ticket_id, now)
            return row_id

    async def due_messages(self, now: datetime, limit: int = 50) -> list[OutboxRow]:
        """Claim the rows whose time has come: ``queued`` and due, or ``sending`` (possibly
        delivered), that nobody holds or whose holder's lease ran out, or that are ours."""
        rows = await self._all(
            "WITH due AS ("
            " SELECT id FROM outbox"
            " WHERE (status = 'sending' OR (status = 'queued' AND next_attempt_at <= %(now)s))"
            " AND (claimed_by IS NULL OR claimed_by = %(me)s"
            "      OR claimed_until < clock_timestamp())"
            " ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
            " UPDATE outbox o SET claimed_by = %(me)s,"
            " claimed_until = clock_timestamp() + make_interval(secs => %(lease)s)"
            " FROM due WHERE o.id = due.id"
            " RETURNING o.id, o.ticket_id, o.kind, o.message_id, o.raw, o.attempts, o.status,"
            " o.envelope",
            {"now": now, "me": self.worker, "limit": limit, "lease": self.lease},
        )
        return sorted(
            (
                OutboxRow(
                    int(r[0]), r[1], r[2], r[3], bytes(r[4]), int(r[5]), r[6],
                    Envelope.from_json(r[7]) if r[7] else None,
                )
                for r in rows
            ),
            key=lambda row: row.id,
        )  # fmt: skip

    async def next_due_at(self) -> datetime | None:
        """When a row may next be claimed here: a queued row's next attempt, or the end of
        another worker's lease (a dead replica's rows are taken as soon as it runs out)."""
        row = await self._one(
            "SELECT MIN(CASE WHEN claimed_by IS NULL OR claimed_by = %(me)s"
            " THEN next_attempt_at ELSE GREATEST(next_attempt_at, claimed_until) END)"
            " FILTER (WHERE status = 'queued'),"
            " MIN(claimed_until) FILTER (WHERE status = 'sending' AND claimed_by <> %(me)s)"
            " FROM outbox WHERE status IN ('queued', 'sending')",
            {"me": self.worker},
        )
        moments = [m for m in (row or ()) if m is not None]
        return min(moments) if moments else None

    async def mark_sending(self, row_id: int, now: datetime) -> bool:
        """Record the attempt and renew the lease, only if the claim is still ours."""
        return (
            await self._count(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, "
                "claimed_until = clock_timestamp() + make_interval(secs => %s) "
                "WHERE id = %s AND claimed_by = %s AND status IN ('queued', 'sending')",
                (self.lease, row_id, self.worker),
            )
            == 1
        )

    async def mark_sent(self, row_id: int, now: datetime) -> bool:
        """Sent, whoever holds the claim (the mail server accepted it: that is a fact); False
        when another worker had already recorded it. A ticket's own e-mail files the ticket in
        the same statement (one round trip instead of a transaction of two)."""
        row = await self._one(
            "WITH sent AS (UPDATE outbox SET status = 'sent', sent_at = %s, last_error = NULL,"
            " claimed_by = NULL, claimed_until = NULL WHERE id = %s AND status <> 'sent'"
            " RETURNING ticket_id, kind),"
            " filed AS (UPDATE tickets SET status = %s FROM sent"
            " WHERE sent.kind = 'ticket' AND tickets.id = sent.ticket_id AND tickets.status = %s)"
            " SELECT COUNT(*) FROM sent",
            (now, row_id, TicketStatus.FILED.value, TicketStatus.QUEUED.value),
        )
        return bool(row and row[0] == 1)

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> None:
        await self._count(
            "UPDATE outbox SET status = 'queued', last_error = %s, next_attempt_at = %s, "
            "claimed_by = NULL, claimed_until = NULL WHERE id = %s AND status <> 'sent'",
            (error[:500], next_attempt_at, row_id),
        )

    async def mark_failed(self, row_id: int, error: str) -> None:
        async with self._transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET status = 'failed', last_error = %s, claimed_by = NULL, "
                "claimed_until = NULL WHERE id = %s AND status <> 'sent'",
                (error[:500], row_id),
            )
            if cur.rowcount != 1:
                return
            await conn.execute(
                "UPDATE tickets SET status = %s WHERE id = "
                "(SELECT ticket_id FROM outbox WHERE id = %s AND kind = 'ticket')",
                (TicketStatus.FAILED.value, row_id),
            )

    async def make_queued_due(self, now: datetime) -> int:
        return await self._count(
            "UPDATE outbox SET next_attempt_at = %s "
            "WHERE status = 'queued' AND next_attempt_at > %s",
            (now, now),
        )

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self._all("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {str(r[0]): int(r[1]) for r in rows}

    async def outbox_figures(self) -> dict[str, Any]:
        """The same figures as the SQLite store's (see `Store.outbox_figures`)."""
        counts = await self.outbox_counts()
        row = await self._one(
            "SELECT MIN(created_at), MIN(next_attempt_at) FILTER (WHERE status = 'queued'), "
            "(SELECT MAX(sent_at) FROM outbox WHERE status = 'sent'), "
            "(SELECT last_error FROM outbox WHERE status IN ('queued', 'sending') "
            " ORDER BY id LIMIT 1) "
            "FROM outbox WHERE status IN ('queued', 'sending')"
        )
        oldest, next_at, last_sent, last_error = row if row else (None, None, None, None)
        figures: dict[str, Any] = {s: counts.get(s, 0) for s in ("queued", "sending", "sent")}
        figures["failed"] = counts.get("failed", 0)
        figures["oldest_waiting_at"] = oldest
        figures["next_attempt_at"] = next_at
        figures["last_sent_at"] = last_sent
        figures["last_error"] = str(last_error) if last_error else None
        return figures

    async def listen_outbox(self, wake: Callable[[], None]) -> None:
        """Wake this replica's worker on every NOTIFY; runs until cancelled. A connection of its
        own (LISTEN holds it); after it drops, listen again and wake once for what was missed."""
        while True:
            try:
                async with await AsyncConnection.connect(self._url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    wake()
                    async for _ in conn.notifies():
                        wake()
            except Error as exc:  # unreachable, restarted, or the connection cut
                log.warning("outbox: LISTEN connection lost (%s); listening again", exc)
            await asyncio.sleep(_RECONNECT)


def without_password(url: str) -> str:
    """The URL to show an operator: the password left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def read_outbox_figures(url: str) -> dict[str, Any] | None:
    """`outbox_figures` for `frontdesk status`, reading only (no migration, read-only
    transactions); None when the desk has never migrated this database."""
    options = "-c default_transaction_read_only=on"
    async with await AsyncConnection.connect(url, autocommit=True, options=options) as conn:
        cur = await conn.execute("SELECT to_regclass('outbox') IS NOT NULL")
        found = await cur.fetchone()
    if not found or not found[0]:
        return None
    pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
        url, min_size=1, max_size=1, open=False,
        kwargs={"autocommit": True, "options": options},
    )  # fmt: skip
    await pool.open(wait=True)
    try:
        return await PgStore(pool, url, DEFAULT_LEASE).outbox_figures()
    finally:
        await pool.close()
