"""The one port every channel reaches the desk through (bot/desk.py implements it).

A channel only translates: its updates become events and requests, and what the desk answers
becomes messages. The regulation's rules, identity and limits, ticket state and the outbox are
the desk's. A chat channel (Telegram, the console) needs the first group of methods; the e-mail
channel also uses the ones for customers who answer by form, for a ticket's thread, for the
identity of an e-mail's sender and for its own replies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from bot.identity.guard import ForgetAnswer
from bot.identity.proof import SenderEvidence
from bot.intake.events import Event, Reply
from bot.intake.form_reply import FormReply, FormRequest
from bot.mail.reply_address import ReplyAddresses
from bot.policy.auto_replies import AutoReply
from bot.tickets.model import AttachmentRef, Ticket
from bot.tickets.render import OutboundMessage

__all__ = ["AgentNotify", "Alert", "DeskPort", "Notify"]

Notify = Callable[[str, Reply], Awaitable[None]]  # (user_id, reply)
AgentNotify = Callable[[Ticket], Awaitable[None]]
Alert = Callable[[str], Awaitable[None]]


class DeskPort(Protocol):
    """The channel-agnostic service: the channel only translates updates and renders replies."""

    # --- every channel ---------------------------------------------------------------------

    async def handle(
        self, channel: str, user_id: str, event: Event, *, lang_hint: str | None = None
    ) -> list[Reply]:
        """One event of one customer; the replies to show."""
        ...

    def subscribe(self, channel: str, notify: Notify) -> None:
        """Later notices for the channel's customers (filed, not delivered, an agent's answer)."""
        ...

    def subscribe_agents(self, notify: AgentNotify) -> None: ...

    def subscribe_alerts(self, alert: Alert) -> None: ...

    # --- customers who answer by form (e-mail) ---------------------------------------------

    async def language_of(self, channel: str, user_id: str) -> str | None:
        """The language of the customer's conversation, None before there is one."""
        ...

    async def form_request(self, channel: str, user_id: str, request: FormRequest) -> FormReply:
        """One whole message: the core settles what it can; the one reply to send back."""
        ...

    async def form_state(self, channel: str, user_id: str) -> FormReply | None:
        """The reply as it stands for a request being written (a page drawn again)."""
        ...

    # --- customers of a public form (the web) ----------------------------------------------

    async def consent_request(self, channel: str, user_id: str, lang: str) -> str | None:
        """The consent request (152-FZ) while the customer has not consented, else None."""
        ...

    async def give_consent(self, channel: str, user_id: str) -> None: ...

    async def admit(self, channel: str, origin: str, lang: str) -> str | None:
        """None while posts from `origin` (an IP address) are within the limit, else why not."""
        ...

    # --- a ticket's thread -----------------------------------------------------------------

    async def find_ticket(self, candidates: Iterable[str]) -> Ticket | None:
        """The first of these ticket ids that names a ticket."""
        ...

    async def agent_answer(
        self,
        ticket: Ticket,
        text: str,
        attachment_names: Sequence[str] = (),
        *,
        closing: bool,
        customer_has_it: bool = False,
    ) -> tuple[str, ...]:
        """An agent answered: what the e-mail customer is to be told in the agent's thread."""
        ...

    async def customer_answer(
        self,
        ticket: Ticket,
        text: str,
        attachments: tuple[AttachmentRef, ...] = (),
        now: datetime | None = None,
        *,
        support_has_it: bool = False,
    ) -> str | None:
        """The ticket's customer wrote in its thread: the notice when it was reopened (5.1)."""
        ...

    # --- who an e-mail is from -------------------------------------------------------------

    def is_blocked(self, channel: str, user_id: str) -> bool: ...

    async def forget_on_request(
        self, channel: str, sender: SenderEvidence, lang: str
    ) -> ForgetAnswer: ...

    @property
    def reply_addresses(self) -> ReplyAddresses | None:
        """The tickets' reply addresses (None when the front-desk address has none)."""
        ...

    # --- the channel's own mail and its record of handled messages ---------------------------

    async def send_auto_reply(
        self, kind: AutoReply, to: str, message: OutboundMessage, ticket_id: str | None = None
    ) -> bool:
        """Queue an automatic reply the channel rendered; False when the sender's hourly limit
        holds it back."""
        ...

    async def count_auto_replies(self, sent: Iterable[tuple[str, datetime]]) -> None:
        """Automatic replies sent before the desk counted them, (address, sent at)."""
        ...

    async def inbound_outcome(self, key: str) -> tuple[str, str | None] | None:
        """What the message `key` came to when it was handled before, else None."""
        ...

    def handling_inbound(self, key: str) -> AbstractContextManager[None]:
        """While the message `key` is handled, what it causes is recorded with it."""
        ...

    async def record_inbound(self, key: str, outcome: str, ticket_id: str | None) -> None: ...
