"""The desk: runs the intake core for every channel, persists conversations, files tickets.

Channels do I/O only: they reach the desk through one port (bot/ports.py), turn updates into
events, call `Desk.handle` (or `Desk.form_request` for a whole e-mail), and show the replies.
Notices that arrive later (the support mail server accepted a ticket; an agent answered) reach the
channel through the callback it subscribed with. The desk is the one place that changes a
ticket's state and queues mail: tickets, follow-ups, the guard's verification codes and the
e-mail channel's automatic replies (counted against the sender's hourly limit).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from bot.channel_names import EMAIL, SENDER_ADDRESS_CHANNELS
from bot.clock import Clock, utc_now
from bot.identity.consent import consent_request_text
from bot.identity.forget import forget_unproven_text
from bot.identity.guard import ForgetAnswer, Guard, OutgoingMail
from bot.identity.proof import SenderEvidence
from bot.intake import machine, texts
from bot.intake.conversation import Conversation, Step
from bot.intake.events import (
    AddFollowUp,
    AttachmentEvent,
    CommandEvent,
    Deflected,
    Effect,
    Event,
    FileTicket,
    FormEvent,
    Reply,
    TextEvent,
    clean_event,
)
from bot.intake.form_reply import FormReply, FormRequest, form_reply, form_text, starts_new_request
from bot.intake.machine import IntakeContext
from bot.mail.reply_address import ReplyAddresses
from bot.ops.metrics import Metrics
from bot.policy.auto_replies import AutoReply, AutoReplyQuota
from bot.policy.limits import ORIGIN_POSTS_HOUR, Limits, limit_text
from bot.policy.secrets import redact
from bot.ports import AgentNotify, Alert, Notify
from bot.tickets.conversations import Conversations, SqliteConversations
from bot.tickets.interface import TicketStore
from bot.tickets.model import AttachmentRef, Ticket, TicketStatus, is_unknown_value
from bot.tickets.render import OutboundMessage
from bot.tickets.store import OutboxRow, inbound_key

log = logging.getLogger(__name__)

RenderTicket = Callable[[Ticket], OutboundMessage]
RenderFollowUp = Callable[[Ticket, str, tuple[AttachmentRef, ...], int], OutboundMessage]
# (site URL) -> a note for the agent ("сайт отвечает 500") and whether the site looks down (2.2)
SiteProbe = Callable[[str], Awaitable[tuple[str, bool]]]

STATUS_LABELS = {
    TicketStatus.QUEUED: {"ru": "в очереди на отправку", "en": "queued for sending"},
    TicketStatus.FILED: {"ru": "зарегистрировано", "en": "filed"},
    TicketStatus.ANSWERED: {"ru": "есть ответ", "en": "answered"},
    TicketStatus.CLOSED: {"ru": "закрыто", "en": "closed"},
    TicketStatus.FAILED: {"ru": "не доставлено", "en": "not delivered"},
}


class Desk:
    def __init__(
        self,
        store: TicketStore,
        context: IntakeContext,
        render_ticket: RenderTicket,
        render_followup: RenderFollowUp,
        *,
        support_address: str,
        wake_outbox: Callable[[], None] = lambda: None,
        clock: Clock = utc_now,
        conversations: Conversations | None = None,
        delivers_to_files: bool = False,
        site_probe: SiteProbe | None = None,
        guard: Guard | None = None,
        limits: Limits | None = None,
        reply_addresses: ReplyAddresses | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.guard = guard
        self.metrics = metrics or Metrics()
        self._limits = limits  # for the automatic replies; else the guard's (see below)
        self._reply_addresses = reply_addresses
        self._site_probe = site_probe
        self._delivers_to_files = delivers_to_files  # no SMTP: "filed" would not be true
        self.store = store
        self.conversations = conversations or SqliteConversations(store)
        self._context = context
        self._render_ticket = render_ticket
        self._render_followup = render_followup
        self._support_address = support_address
        self._wake_outbox = wake_outbox
        self._clock = clock
        self._subscribers: dict[str, Notify] = {}
        self._agent_subscribers: list[AgentNotify] = []
        self._alert_subscribers: list[Alert] = []
        self._followups: dict[str, int] = {}
        self.counters: dict[str, int] = {
            "tickets": 0, "followups": 0, "out_of_scope": 0, "deflected": 0,
        }  # fmt: skip

    def set_outbox_waker(self, wake: Callable[[], None]) -> None:
        self._wake_outbox = wake

    def subscribe(self, channel: str, notify: Notify) -> None:
        self._subscribers[channel] = notify

    def subscribe_agents(self, notify: AgentNotify) -> None:
        self._agent_subscribers.append(notify)

    def subscribe_alerts(self, alert: Alert) -> None:
        """Operator alerts (the agents' chat): a ticket the mail server refused for good."""
        self._alert_subscribers.append(alert)

    async def tickets_of(self, channel: str, user_id: str) -> list[Ticket]:
        return await self.store.tickets_of(channel, user_id)

    async def conversation(self, channel: str, user_id: str) -> Conversation | None:
        data = await self.conversations.load(channel, user_id)
        return Conversation.from_dict(data) if data else None

    async def handle(
        self, channel: str, user_id: str, event: Event, *, lang_hint: str | None = None
    ) -> list[Reply]:
        """One event from one customer; events of the same customer are handled in order."""
        event = clean_event(event)  # whatever a channel missed: SQLite refuses lone surrogates
        started = time.perf_counter()  # the wait for the customer's turn is part of the answer
        async with self.conversations.lock(channel, user_id):
            replies = await self._handle(channel, user_id, event, lang_hint)
        self.metrics.event_answered(channel, len(replies), time.perf_counter() - started)
        return replies

    async def _handle(
        self, channel: str, user_id: str, event: Event, lang_hint: str | None
    ) -> list[Reply]:
        now = self._clock()
        data = await self.conversations.load(channel, user_id)
        state = (
            Conversation.from_dict(data) if data else machine.new_conversation(_lang(lang_hint))
        )
        prefix: list[Reply] = []
        if self.guard is not None:
            verdict = await self.guard.intercept(
                channel, user_id, event, state, self.conversations, now
            )
            prefix = list(verdict.replies)
            await self._queue_guard_mail(verdict.mail, now)
            if verdict.event is None:
                return prefix
            event = verdict.event
        if isinstance(event, CommandEvent) and event.name.lower().lstrip("/") == "status":
            return [*prefix, await self._status(channel, user_id, state.lang)]
        ctx = replace(
            self._context, channel=channel, open_tickets=await self._open_tickets(channel, user_id)
        )
        after_filing = state.step in (Step.FILED, Step.REOPEN)
        if state.ticket_id and after_filing and isinstance(event, TextEvent):  # a message only
            ticket = await self.store.get_ticket(state.ticket_id)
            state.ticket_closed = ticket is not None and ticket.status == TicketStatus.CLOSED
        step = machine.handle(state, event, now, ctx)
        state, replies = step.state, [*prefix, *step.replies]
        for effect in step.effects:
            state, more = await self._apply(channel, user_id, state, effect, now, ctx)
            replies.extend(more)
        await self.conversations.save(channel, user_id, state.to_dict(), now)
        return replies

    async def _probe_site(self, ticket: Ticket) -> Ticket:
        """Record what the site answers; a dead site is a hint for 2.2, not a verdict."""
        assert self._site_probe is not None
        try:
            note, down = await self._site_probe(ticket.site_url)
        except Exception:
            log.exception("site check failed ticket draft site=%s", ticket.site_url)
            return ticket
        notes = [*ticket.notes, f"Проверка сайта при подаче: {note}"]
        if down and not ticket.classification.critical:
            notes.append("Сайт не отвечает нормально — возможно, обращение критично (п. 2.2).")
        return replace(ticket, notes=notes)

    async def _open_tickets(self, channel: str, user_id: str) -> tuple[tuple[str, str], ...]:
        """2.5: the customer's tickets still in work, for the "already filed" check."""
        return tuple(await self.store.open_tickets_of(channel, user_id))

    async def _apply(
        self,
        channel: str,
        user_id: str,
        state: Conversation,
        effect: Effect,
        now: datetime,
        ctx: IntakeContext,
    ) -> tuple[Conversation, list[Reply]]:
        if isinstance(effect, FileTicket):
            ticket = replace(effect.ticket, customer_id=user_id, channel=channel)
            if self.guard is None:
                ticket = _sender_is_contact(ticket, channel, user_id)
            else:
                # Verifies the contact address by a code when it is not the customer's own.
                held = await self.guard.before_filing(channel, user_id, ticket, state, now)
                if held is not None:
                    await self._queue_guard_mail(held.mail, now)
                    return state, list(held.replies)
            if self._site_probe is not None and not is_unknown_value(ticket.site_url):
                ticket = await self._probe_site(ticket)
            ticket = await self.store.create_ticket(ticket, self._render_ticket, now)
            self.counters["tickets"] += 1
            if not ticket.classification.in_scope:
                self.counters["out_of_scope"] += 1
            log.info(
                "ticket queued id=%s channel=%s category=%s in_scope=%s critical=%s",
                ticket.id,
                channel,
                ticket.classification.category,
                ticket.classification.in_scope,
                ticket.classification.critical,
            )
            log.info("counters %s", self.counters)
            c = ticket.classification
            self.metrics.ticket_filed(
                c.category,
                critical=c.critical,
                in_scope=c.in_scope,
                told=c.surely_out_of_scope,
                confidence=c.confidence,
            )
            self._wake_outbox()
            step = machine.on_ticket_queued(state, ticket, now, ctx)
            state, replies = step.state, list(step.replies)
            for more in step.effects:  # 2.6: the next problem may already be complete
                state, extra = await self._apply(channel, user_id, state, more, now, ctx)
                replies.extend(extra)
            return state, replies
        if isinstance(effect, AddFollowUp):
            # Through the same door as an e-mail in the ticket's thread: a closed ticket is
            # reopened (5.1); the core has told the customer.
            filed = await self.store.get_ticket(effect.ticket_id)
            if filed is None:
                raise LookupError(effect.ticket_id)
            await self.customer_answer(filed, effect.text, effect.attachments, now)
            return state, []
        if isinstance(effect, Deflected):
            self.counters["deflected"] += 1
            self.metrics.request_deflected(channel)
            log.info("request solved by the documentation (1.3) channel=%s", channel)
            log.info("counters %s", self.counters)
            return state, []
        raise TypeError(f"unknown effect {effect!r}")

    async def add_followup(
        self,
        ticket_id: str,
        text: str,
        attachments: tuple[AttachmentRef, ...] = (),
        now: datetime | None = None,
    ) -> None:
        """Queue the customer's addition as `Re: <subject>` in the ticket's thread (4.4).

        Every channel's follow-ups pass here, so secrets are removed here too (4.2.7)."""
        text, _ = redact(text)
        ticket = await self.store.get_ticket(ticket_id)
        if ticket is None:
            raise LookupError(ticket_id)
        n = self._followups.get(ticket_id, 0) + 1
        self._followups[ticket_id] = n
        moment = now or self._clock()
        message = self._render_followup(ticket, text, attachments, int(moment.timestamp() * 1000))
        await self._queue("followup", message, moment, ticket_id)
        self.counters["followups"] += 1

    async def _status(self, channel: str, user_id: str, lang: str) -> Reply:
        tickets = await self.store.tickets_of(channel, user_id)
        if not tickets:
            return Reply(texts.t("status_none", lang))
        lines = [texts.t("status_head", lang)]
        for ticket in tickets:
            label = STATUS_LABELS[ticket.status].get(lang, STATUS_LABELS[ticket.status]["ru"])
            when = ticket.created_at.strftime("%d.%m.%Y")
            lines.append(f"• {ticket.id} — {when} — {label}: {ticket.summary}")
        return Reply("\n".join(lines))

    # --- notices from the outbox ----------------------------------------------------------

    async def on_delivered(self, row: OutboxRow) -> None:
        """The support mail server accepted a message: now (and only now) say 'filed'."""
        if row.kind != "ticket" or not row.ticket_id:
            return
        ticket = await self.store.get_ticket(row.ticket_id)
        if ticket is None:
            return
        subject = f"[{ticket.id}]"
        text = (
            texts.t("filed_file", ticket.lang, id=ticket.id)
            if self._delivers_to_files
            else texts.t(
                "filed", ticket.lang, id=ticket.id, email=ticket.contact_email, subject=subject
            )
        )
        await self._notify(ticket, Reply(text))
        for notify in self._agent_subscribers:
            try:
                await notify(ticket)
            except Exception:
                log.exception("agent notification failed ticket=%s", ticket.id)

    async def on_failed(self, row: OutboxRow, error: str) -> None:
        text = f"Письмо ({row.kind}) {row.ticket_id or row.message_id} не доставлено: {error}"
        for alert in self._alert_subscribers:
            try:
                await alert(text)
            except Exception:
                log.exception("operator alert failed")
        if row.kind != "ticket" or not row.ticket_id:
            return
        ticket = await self.store.get_ticket(row.ticket_id)
        if ticket is not None:
            text = texts.t("failed", ticket.lang, id=ticket.id, support=self._support_address)
            await self._notify(ticket, Reply(text))

    async def agent_answer(
        self,
        ticket: Ticket,
        text: str,
        attachment_names: Sequence[str] = (),
        *,
        closing: bool,
        customer_has_it: bool = False,
    ) -> tuple[str, ...]:
        """An agent answered `ticket` by e-mail: it is marked answered, or closed with the 4.3
        reminder to change the passwords given to support. Returns what the customer is to be
        told. The e-mail channel mails that in the agent's thread; a customer of any other
        channel is told here, through their channel. `customer_has_it`: the agent's mail went
        to the customer too, so only the closure notice is left to tell."""
        status = TicketStatus.CLOSED if closing else TicketStatus.ANSWERED
        await self.store.set_ticket_status(ticket.id, status)
        lang = ticket.lang
        relay = texts.t("agent_reply", lang, id=ticket.id, text=text or "—")
        if attachment_names:
            names = ", ".join(attachment_names)
            relay += "\n\n" + texts.t("attachments_note", lang, names=names)
        closed = [texts.t("closed", lang, id=ticket.id)] if closing else []
        if ticket.channel == EMAIL:  # told in the thread of the agent's own mail
            return (*([] if customer_has_it else [relay]), *closed)
        for part in (relay, *closed):
            await self.notify_customer(ticket, Reply(part))
        return ()

    async def customer_answer(
        self,
        ticket: Ticket,
        text: str,
        attachments: tuple[AttachmentRef, ...] = (),
        now: datetime | None = None,
        *,
        support_has_it: bool = False,
    ) -> str | None:
        """The ticket's customer wrote in its thread: a closed ticket is reopened (5.1) and the
        message goes to support as a follow-up (unless support got it directly). Returns the
        notice for the customer when the ticket was reopened, else None."""
        reopening = ticket.status == TicketStatus.CLOSED
        if reopening:
            await self.store.set_ticket_status(ticket.id, TicketStatus.FILED)
            text = texts.t("reopen_note", "ru") + ("\n\n" + text if text else "")
        if (text or attachments) and (reopening or not support_has_it):
            await self.add_followup(ticket.id, text, attachments, now)
        return texts.t("reopened", ticket.lang, id=ticket.id) if reopening else None

    async def find_ticket(self, candidates: Iterable[str]) -> Ticket | None:
        """The first of these ticket ids (a thread's candidates, bot/policy/threads.py) that
        names a ticket."""
        for ticket_id in candidates:
            ticket = await self.store.get_ticket(ticket_id)
            if ticket is not None:
                return ticket
        return None

    # --- customers who answer by form (e-mail) --------------------------------------------

    async def language_of(self, channel: str, user_id: str) -> str | None:
        conversation = await self.conversation(channel, user_id)
        return conversation.lang if conversation else None

    async def form_request(self, channel: str, user_id: str, request: FormRequest) -> FormReply:
        """One whole message of a customer who cannot press buttons: a new request unless one
        is in progress, its files, then its text, read at once by the core's form mode. The
        customer of an e-mail is the address they write from: their contact unless they name
        another one (which then confirms a code)."""
        if starts_new_request(await self.conversation(channel, user_id)):
            await self.handle(channel, user_id, CommandEvent("new"))
        for ref in request.attachments:
            await self.handle(channel, user_id, AttachmentEvent(ref), lang_hint=request.lang)
        draft = await self.conversation(channel, user_id)
        sender = user_id if channel in SENDER_ADDRESS_CHANNELS else None
        text = form_text(draft, request, sender, self._context)
        replies = await self.handle(channel, user_id, FormEvent(text), lang_hint=request.lang)
        state = await self.conversation(channel, user_id)
        state = state or machine.new_conversation(request.lang)  # the guard kept nothing
        return form_reply(state, replies, request, self._context)

    async def form_state(self, channel: str, user_id: str) -> FormReply | None:
        """Where a form customer's request stands, as the reply to their last message would
        show it to a channel that draws the form (a page drawn again); None when nothing is
        being written."""
        conv = await self.conversation(channel, user_id)
        if conv is None or (conv.step in (Step.IDLE, Step.FILED) and not conv.held_text):
            return None
        request = FormRequest(text="", lang=conv.lang, draws_form=True)
        return form_reply(conv, [], request, self._context)

    # --- identity ---------------------------------------------------------------------------

    async def consent_request(self, channel: str, user_id: str, lang: str) -> str | None:
        """The consent request (152-FZ) when this customer must still consent before anything
        of theirs is kept, else None. For a channel that asks it with its own control (a box
        ticked with the request) instead of the dialog's question."""
        if self.guard is None or not await self.guard.needs_consent(channel, user_id):
            return None
        return consent_request_text(lang, self.guard.settings, channel)

    async def give_consent(self, channel: str, user_id: str) -> None:
        """The customer consented with their request (see `consent_request`)."""
        if self.guard is not None:
            await self.guard.record_consent(channel, user_id, self._clock())

    async def admit(self, channel: str, origin: str, lang: str) -> str | None:
        """One more post from a network origin (an IP address) of a public channel: None while
        within the hourly limit, else what to tell the sender. Bots that start a new session for
        every post still come from somewhere."""
        if self.guard is None:
            return None
        now = self._clock()
        limits = await self.auto_reply_limits()
        result = await limits.hit(ORIGIN_POSTS_HOUR, f"{channel}-origin:{origin}", now)
        return None if result.allowed else limit_text(result, lang, self.guard.settings, now)

    def is_blocked(self, channel: str, user_id: str) -> bool:
        """Whether the operator's blocklist names this customer (they get no answer at all)."""
        return self.guard is not None and self.guard.is_blocked(channel, user_id)

    async def forget_on_request(
        self, channel: str, sender: SenderEvidence, lang: str
    ) -> ForgetAnswer:
        """A request to forget made by e-mail: the guard decides by the sender's proof."""
        if self.guard is None:  # nobody to forget with: nothing is deleted
            return ForgetAnswer(False, forget_unproven_text(lang))
        return await self.guard.forget_on_request(channel, sender, self.conversations, lang)

    @property
    def reply_addresses(self) -> ReplyAddresses | None:
        return self._reply_addresses

    # --- mail -------------------------------------------------------------------------------

    async def send_auto_reply(
        self, kind: AutoReply, to: str, message: OutboundMessage, ticket_id: str | None = None
    ) -> bool:
        """Queue an automatic reply a channel rendered, within `to`'s hourly limit
        (bot/policy/auto_replies.py); False when the limit holds it back."""
        now = self._clock()
        quota = AutoReplyQuota(await self.auto_reply_limits())
        if not await quota.take(kind, to, now):
            return False
        try:
            await self._queue("reply", message, now, ticket_id)
        except Exception:
            await quota.give_back(to, now)
            raise
        return True

    async def count_auto_replies(self, sent: Iterable[tuple[str, datetime]]) -> None:
        """Automatic replies sent before the desk counted them (address, sent at)."""
        quota = AutoReplyQuota(await self.auto_reply_limits())
        await quota.count_earlier(sent, self._clock())

    async def auto_reply_limits(self) -> Limits:
        """The limiter the automatic replies count in: the one given to the desk, else the
        guard's (one limiter per desk), else one opened on the store with the default rules
        (it shares the store's connection, so there is nothing to close)."""
        if self._limits is not None:
            return self._limits
        if self.guard is not None:
            return self.guard.limits
        self._limits = await Limits.open(self.store)
        return self._limits

    async def _queue_guard_mail(self, mail: Sequence[OutgoingMail], now: datetime) -> None:
        for item in mail:
            await self._queue(item.kind, item.message, now)

    async def _queue(
        self, kind: str, message: OutboundMessage, now: datetime, ticket_id: str | None = None
    ) -> None:
        """Every message the desk sends goes here: into the outbox, delivered at once."""
        await self.store.enqueue(kind, message, now, ticket_id)
        self._wake_outbox()

    # --- inbound e-mail handled once --------------------------------------------------------

    async def inbound_outcome(self, key: str) -> tuple[str, str | None] | None:
        return await self.store.inbound_outcome(key)

    @contextlib.contextmanager
    def handling_inbound(self, key: str) -> Iterator[None]:
        """A ticket filed or a message queued meanwhile records the inbound message `key` as
        handled in the same transaction (a retry never does it twice)."""
        token = inbound_key.set(key)
        try:
            yield
        finally:
            inbound_key.reset(token)

    async def record_inbound(self, key: str, outcome: str, ticket_id: str | None) -> None:
        await self.store.record_inbound(key, outcome, ticket_id, self._clock())

    async def notify_customer(self, ticket: Ticket, reply: Reply) -> None:
        await self._notify(ticket, reply)

    async def _notify(self, ticket: Ticket, reply: Reply) -> None:
        notify = self._subscribers.get(ticket.channel)
        if notify is None:
            return
        try:
            await notify(ticket.customer_id, reply)
        except Exception:
            log.exception("customer notification failed ticket=%s", ticket.id)
            return
        self.metrics.notice_sent(ticket.channel)


def _lang(hint: str | None) -> str:
    if hint and hint.lower().startswith("en"):
        return "en"
    return "ru"


def _sender_is_contact(ticket: Ticket, channel: str, user_id: str) -> Ticket:
    """Without a guard to verify it by a code, an e-mail customer's contact is the address they
    wrote from: another address they named gets nothing, and agents are told of it."""
    if channel not in SENDER_ADDRESS_CHANNELS or ticket.contact_email.lower() == user_id.lower():
        return ticket
    note = (
        f"Клиент указал другой адрес для ответа ({ticket.contact_email}); он не подтверждён, "
        "поэтому ответ уходит на адрес отправителя."
    )
    return replace(ticket, contact_email=user_id, notes=[*ticket.notes, note])
