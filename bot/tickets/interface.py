"""The store the desk, the outbox and the channels use: one interface, two implementations.

- :class:`bot.tickets.store.Store`: SQLite in the data dir, the embedded default (one process);
- :class:`bot.tickets.pg.store.PgStore`: PostgreSQL (``FRONTDESK_DATABASE_URL``), shared by
  several replicas.

The interface is what the desk actually calls, nothing more. Both keep the same promises:
a ticket, its id and its e-mail are one transaction; ids are unique and never reused; an outbox
row is handed to one worker at a time (``due_messages`` claims it), and ``mark_sending`` says
whether the claim still holds before anything goes out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from bot.tickets.model import Ticket, TicketStatus
from bot.tickets.render import OutboundMessage
from bot.tickets.store import OutboxRow


class TicketStore(Protocol):
    # True when several processes share the store: what else they must share (secrets, locks)
    # is then kept in it rather than in the data dir.
    shared: bool

    # --- tickets ---------------------------------------------------------------------------
    async def create_ticket(
        self, ticket: Ticket, render: Callable[[Ticket], OutboundMessage], now: datetime
    ) -> Ticket:
        """Allocate the id, store the ticket and queue its e-mail, all in one transaction."""

    async def get_ticket(self, ticket_id: str) -> Ticket | None: ...

    async def ticket_message_id(self, ticket_id: str) -> str | None: ...

    async def tickets_of(
        self, channel: str, customer_id: str, limit: int = 20
    ) -> list[Ticket]: ...

    async def open_tickets_of(
        self, channel: str, customer_id: str, limit: int = 20
    ) -> list[tuple[str, str]]: ...

    async def set_ticket_status(self, ticket_id: str, status: TicketStatus) -> None: ...

    async def count_tickets(self) -> int: ...

    # --- conversations ---------------------------------------------------------------------
    async def load_conversation(self, channel: str, user_id: str) -> dict[str, Any] | None: ...

    async def save_conversation(
        self, channel: str, user_id: str, state: dict[str, Any], now: datetime
    ) -> None: ...

    async def delete_conversation(self, channel: str, user_id: str) -> None: ...

    # --- inbound e-mail already handled, the desk's secrets ---------------------------------
    async def inbound_outcome(self, key: str) -> tuple[str, str | None] | None: ...

    async def record_inbound(
        self, key: str, outcome: str, ticket_id: str | None, now: datetime
    ) -> None: ...

    async def secret(self, name: str, make: Callable[[], str]) -> str: ...

    # --- outbox ----------------------------------------------------------------------------
    async def enqueue(
        self, kind: str, message: OutboundMessage, now: datetime, ticket_id: str | None = None
    ) -> int: ...

    async def due_messages(self, now: datetime, limit: int = 50) -> list[OutboxRow]:
        """Rows to deliver now, claimed for this worker (see the module docstring)."""

    async def next_due_at(self) -> datetime | None: ...

    async def mark_sending(self, row_id: int, now: datetime) -> bool:
        """Record the attempt; False when the row is no longer this worker's to send."""

    async def mark_sent(self, row_id: int, now: datetime) -> bool:
        """True when this call marked it (another worker may have confirmed it first)."""

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> None: ...

    async def mark_failed(self, row_id: int, error: str) -> None: ...

    async def make_queued_due(self, now: datetime) -> int: ...

    async def outbox_counts(self) -> dict[str, int]: ...

    async def outbox_figures(self) -> dict[str, Any]: ...

    async def listen_outbox(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever another process queues a message; returns when there is
        nothing to listen to (one process: the desk wakes its own outbox)."""

    async def close(self) -> None: ...
