"""The e-mail channel: the front-desk mailbox → the desk → replies in the customer's thread.

An adapter. Every message the IMAP watcher hands over (`handle_raw`) is parsed, handed to the
desk as what it is, and what the desk answers is rendered as a reply (`Re: <subject>`, threaded,
`Auto-Submitted: auto-replied`, the privacy footer). The rules are not the channel's own:

- robots never get an answer (RFC 3834: auto-replies, bounces, lists, mailer-daemon/no-reply
  senders, our own messages): bot/mail/inbound.py;
- the sender's proof and what it allows (an agent's answer, the customer's follow-up, a new
  request of a stranger's, forgetting): bot/identity/proof.py and the desk's guard;
- the ticket a thread names (4.4): bot/policy/threads.py; an agent closing it (4.3):
  bot/policy/closure.py; the answer applied to the ticket: `Desk.agent_answer`,
  `Desk.customer_answer`;
- a new request or a draft's continuation: the core's form mode, with the one reply it makes
  (the confirmation, the code hint, or the guided form): `Desk.form_request`,
  bot/intake/form_reply.py;
- the hourly limit on automatic replies per sender: bot/policy/auto_replies.py, applied by the
  desk when it queues the reply.

The channel keeps only its own bookkeeping: the Message-IDs of the replies it sent, with their
ticket (customers answer those; bot/channels/email/state.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.channel_names import EMAIL
from bot.channels.email import texts as mail_texts
from bot.channels.email.state import EmailState
from bot.clock import utc_now
from bot.config import Settings
from bot.identity.authres import auth_results_verdict, trusted_ids
from bot.identity.forget import customer_key
from bot.identity.proof import (
    SenderEvidence,
    Standing,
    address_domain,
    is_agent_address,
    thread_standing,
    unproven_notice,
)
from bot.intake import texts as intake_texts
from bot.intake.attachments import check_attachment, store_attachment
from bot.intake.events import Reply
from bot.intake.form_reply import FormOutcome, FormRequest
from bot.mail.imap import ImapWatcher
from bot.mail.inbound import (
    InboundMessage,
    auto_reply_reason,
    normalize_subject,
    parse_message,
    ticket_ids,
)
from bot.ops.metrics import Metrics
from bot.policy.auto_replies import AutoReply
from bot.policy.closure import closes_ticket, without_closure_line
from bot.policy.threads import ThreadClues, thread_candidates
from bot.ports import DeskPort
from bot.replicas.leader import Leadership
from bot.tickets.model import AttachmentRef, Ticket
from bot.tickets.render import OutboundMessage, render_customer_reply

__all__ = [
    "EmailChannel", "EmailChannelConfig", "Outcome", "run_email_channel", "watcher_leader_key",
]  # fmt: skip

log = logging.getLogger(__name__)

# Seconds a stopping watcher gets beyond its handler's grace (the LOGOUT, the last save).
STOP_SLACK = 10.0
_TAG_RE = re.compile(r"\[?\bWAS-\d{6}\b\]?")
# The e-mail form of /forget (documented in README).
_FORGET_SUBJECT = re.compile(r"удалить\s+мои\s+данные|forget\s+me", re.IGNORECASE)
# What the desk's answer to a ticket's customer or agent does, by the sender's standing.
_ON_TICKET = frozenset(
    {Standing.AGENT, Standing.CUSTOMER, Standing.UNPROVEN_AGENT, Standing.UNPROVEN_CUSTOMER}
)


@dataclass(frozen=True)
class EmailChannelConfig:
    """Conventions of the channel; `from_settings` gives the defaults."""

    front_address: str
    support_address: str
    agent_domains: frozenset[str]
    own_domains: frozenset[str]
    extra_own_addresses: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> EmailChannelConfig:
        front = settings.from_address.lower()
        values: dict[str, Any] = {
            "front_address": front,
            "support_address": settings.support_address.lower(),
            "agent_domains": frozenset({address_domain(settings.support_address)}),
            "own_domains": frozenset({address_domain(front)}),
        }
        values.update(overrides)
        return cls(**values)

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset({self.front_address, *self.extra_own_addresses})

    def is_agent(self, address: str) -> bool:
        return is_agent_address(address, self.support_address, self.agent_domains)


@dataclass
class Outcome:
    """What `handle_raw` did with one message (for logs and tests)."""

    kind: str  # ignored | guided | filed | rate_limited | relayed | closed | followup | reopened
    reason: str = ""  # ... | unproven | forgotten
    ticket_id: str | None = None
    sent: list[str] = field(default_factory=list)  # Message-IDs of the replies queued


class EmailChannel:
    """See the module docstring. `start()` before use; `watcher()` builds the IMAP watcher."""

    def __init__(
        self,
        desk: DeskPort,
        settings: Settings,
        *,
        config: EmailChannelConfig | None = None,
        clock: Callable[[], datetime] = utc_now,
        metrics: Metrics | None = None,
    ) -> None:
        self.desk = desk
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.config = config or EmailChannelConfig.from_settings(settings)
        self._clock = clock
        self._state: EmailState | None = None
        self.outcomes: dict[str, int] = {}
        self.recent: deque[tuple[str, Outcome]] = deque(maxlen=200)  # (Message-ID, outcome)
        self._trusted = trusted_ids(settings.authserv_id)

    async def start(self) -> None:
        self._state = await EmailState.open_for(self.settings)
        # Earlier versions counted their automatic replies in a table of their own: its last
        # hour still counts (nobody gets a fresh allowance by an upgrade), then the table goes.
        await self.desk.count_auto_replies(await self.state.legacy_auto_replies())
        await self.state.drop_legacy_auto_replies()
        self.desk.subscribe(EMAIL, self._notify)

    async def close(self) -> None:
        # Let go of the state before closing it: a desk notice arriving meanwhile must not
        # write into a database that is being closed.
        state, self._state = self._state, None
        if state is not None:
            await state.close()

    def watcher(self, **kwargs: Any) -> ImapWatcher:
        """The IMAP watcher of the front-desk mailbox (FRONTDESK_IMAP_*) feeding this channel."""
        kwargs.setdefault("metrics", self.metrics)
        return ImapWatcher.from_settings(self.settings, self.handle_raw, **kwargs)

    async def run(self, leadership: Leadership | None = None, **watcher_options: Any) -> None:
        """Start, watch the mailbox until cancelled, close.

        With `leadership` (several replicas sharing Redis) only the replica that leads watches
        the mailbox; the others stand by to take over, and meanwhile still send the channel's
        notices (a ticket they delivered is announced by them)."""
        await self.start()
        try:
            if leadership is None:
                await self._watch(watcher_options)
            else:
                await leadership.run(lambda: self._watch(watcher_options))
        finally:
            await self.close()

    async def _watch(self, watcher_options: dict[str, Any]) -> None:
        # A watcher of its own for each term as leader: it reads the mailbox position where the
        # previous leader saved it, never one this replica remembered from an earlier term.
        watcher = self.watcher(**watcher_options)
        self.metrics.watching(True)
        running = asyncio.create_task(watcher.run(), name="imap-watcher")
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            # Asked to stop (the desk stops, or the lease is lost): `stop()` ends an IDLE at once
            # and lets the message in hand finish; a cancelled IDLE would first wait for its
            # LOGOUT to time out, and the next leader with it.
            watcher.stop()
            await asyncio.wait({running}, timeout=watcher.stop_grace + STOP_SLACK)
            if not running.done():
                running.cancel()
                await asyncio.wait({running})
            if not running.cancelled() and running.exception() is not None:
                log.error("IMAP watcher failed while stopping", exc_info=running.exception())
            raise
        finally:
            watcher.stop()
            self.metrics.watching(False)

    @property
    def state(self) -> EmailState:
        if self._state is None:
            raise RuntimeError("EmailChannel.start() was not called")
        return self._state

    # --- entry point --------------------------------------------------------------------------

    async def handle_raw(self, raw: bytes) -> None:
        """The watcher's handler: never raises for what a message contains.

        Idempotent: a message is recorded as handled in the same transaction as the ticket or
        reply it caused (`Desk.handling_inbound`), so when the watcher retries it after a later
        failure (or after a crash before it saved its mailbox position) nothing is filed or
        sent twice.
        """
        self.metrics.update_received(EMAIL)
        msg = parse_message(raw)
        key = _message_key(msg, raw)
        done = await self.desk.inbound_outcome(key)
        if done is not None:
            log.info("e-mail %s already handled (%s): skipped", msg.message_id, done[0])
            kind, ticket_id = done
            if kind == "filed" and ticket_id:
                await self._confirm_filed(msg, ticket_id)
            return
        try:
            with self.desk.handling_inbound(key):
                outcome = await self.handle(msg)
        except Exception:
            log.exception("e-mail from %s (%s) failed", msg.from_addr, msg.message_id)
            raise  # the watcher retries a few times (transient errors), then skips it
        await self.desk.record_inbound(key, outcome.kind, outcome.ticket_id)
        self.outcomes[outcome.kind] = self.outcomes.get(outcome.kind, 0) + 1
        self.recent.append((msg.message_id, outcome))
        log.info(
            "e-mail %s from %s: %s %s %s",
            msg.message_id, msg.from_addr, outcome.kind, outcome.ticket_id or "", outcome.reason,
        )  # fmt: skip

    async def handle(self, msg: InboundMessage) -> Outcome:
        cfg = self.config
        reason = auto_reply_reason(msg, cfg.own_addresses, cfg.own_domains)
        if reason:
            return Outcome("ignored", reason)
        if self.desk.is_blocked(EMAIL, msg.from_addr):
            return Outcome("ignored", "blocked sender")
        sender = self._evidence(msg)
        if sender.refuted:
            return Outcome("ignored", "sender authentication failed (Authentication-Results)")
        if _FORGET_SUBJECT.search(msg.subject):
            return await self._forget(msg, sender)
        ticket = await self._thread_ticket(msg, sender)
        standing = thread_standing(ticket, sender, is_agent=cfg.is_agent(msg.from_addr))
        if ticket is not None and standing in _ON_TICKET:
            return await self._on_ticket(standing, ticket, msg)
        if standing is Standing.AGENT_OUTSIDE_THREAD:
            return Outcome("ignored", "agent message outside any ticket thread")
        if ticket is not None:
            log.warning(
                "e-mail from %s refers to %s but is neither its customer nor an agent: "
                "treated as a new request",
                msg.from_addr, ticket.id,
            )  # fmt: skip
        return await self._request(msg, sender)

    # --- what the message shows ---------------------------------------------------------------

    def _evidence(self, msg: InboundMessage) -> SenderEvidence:
        """The sender's address, the trusted server's verdict on it, and the tickets whose
        genuine reply address the message was sent to."""
        verdict = auth_results_verdict(
            list(msg.auth_results), address_domain(msg.from_addr), self._trusted
        )
        replies = self.desk.reply_addresses
        tickets = tuple(replies.tickets_in(msg.addressed_to)) if replies else ()
        return SenderEvidence(msg.from_addr, verdict, tickets)

    async def _thread_ticket(self, msg: InboundMessage, sender: SenderEvidence) -> Ticket | None:
        clues = ThreadClues(
            reply_address_tickets=sender.reply_address_tickets,
            thread_ids=msg.thread_ids,
            subject=msg.subject,
            answered_reply_ticket=await self.state.ticket_of(msg.thread_ids),
        )
        return await self.desk.find_ticket(thread_candidates(clues, self.config.own_domains))

    async def _attachments(
        self, msg: InboundMessage, lang: str, address: str
    ) -> tuple[list[AttachmentRef], list[str]]:
        """The message's files stored for the customer, and notes on those refused (4.6)."""
        refs: list[AttachmentRef] = []
        notes: list[str] = []
        for att in msg.attachments:
            refusal = check_attachment(att.name, att.content_type, att.size, lang)
            if refusal:
                notes.append(refusal)
                continue
            ref, note = await store_attachment(
                self.settings.data_dir, customer_key(EMAIL, address), att.name, att.data, lang
            )
            if note:
                notes.append(note)
            if ref is not None:
                refs.append(ref)
        return refs, notes

    # --- what the desk does with it -----------------------------------------------------------

    async def _forget(self, msg: InboundMessage, sender: SenderEvidence) -> Outcome:
        """The e-mail form of /forget (subject «Удалить мои данные» / "Forget me")."""
        answer = await self.desk.forget_on_request(EMAIL, sender, _guess_lang(msg))
        sent = await self._reply(AutoReply.FORGET, msg.from_addr, msg, answer.text)
        if not answer.forgotten:
            return Outcome("ignored", "forget request from an unauthenticated sender", sent=sent)
        return Outcome("forgotten", sent=sent)

    async def _on_ticket(self, standing: Standing, ticket: Ticket, msg: InboundMessage) -> Outcome:
        if standing is Standing.AGENT:
            return await self._from_agent(ticket, msg)
        if standing is Standing.CUSTOMER:
            return await self._from_customer(ticket, msg)
        log.warning(
            "e-mail from %s about %s without proof of its sender: not acted on",
            msg.from_addr, ticket.id,
        )  # fmt: skip
        if standing is Standing.UNPROVEN_AGENT:  # agents answer at the ticket's reply address
            return Outcome("ignored", "agent reply without proof of sender", ticket.id)
        body = unproven_notice(ticket.id, ticket.lang)
        sent = await self._reply(AutoReply.UNPROVEN, msg.from_addr, msg, body, ticket.id)
        return Outcome("unproven", "sender not proven", ticket.id, sent)

    async def _from_agent(self, ticket: Ticket, msg: InboundMessage) -> Outcome:
        """An agent's answer: the desk applies it; what the customer is told is mailed in the
        agent's thread (e-mail tickets; others are told through their own channel)."""
        closing = closes_ticket(msg.subject, msg.text)
        customer = ticket.contact_email.lower()
        told = await self.desk.agent_answer(
            ticket,
            without_closure_line(msg.text),
            [a.name for a in msg.attachments],
            closing=closing,
            customer_has_it=customer in msg.recipients,
        )
        outcome = Outcome("closed" if closing else "relayed", ticket_id=ticket.id)
        if ticket.channel != EMAIL:
            outcome.reason = f"relayed to {ticket.channel}"
        elif told and customer:
            body = "\n\n".join(told)
            outcome.sent = await self._reply(AutoReply.RELAY, customer, msg, body, ticket.id)
        elif not told:
            outcome.reason = "customer already in To/Cc"
        return outcome

    async def _from_customer(self, ticket: Ticket, msg: InboundMessage) -> Outcome:
        """The customer's answer in the ticket's thread: the desk files it (and reopens, 5.1)."""
        refs, notes = await self._attachments(msg, ticket.lang, msg.from_addr)
        support_has_it = self.config.support_address in msg.recipients
        reopened = await self.desk.customer_answer(
            ticket, msg.text.strip(), tuple(refs), self._clock(), support_has_it=support_has_it
        )
        outcome = Outcome("reopened" if reopened else "followup", ticket_id=ticket.id)
        if support_has_it and not reopened:
            outcome.reason = "support already in To/Cc"
        if reopened:
            body = reopened + ("\n\n" + "\n".join(notes) if notes else "")
            kind = AutoReply.REOPENED
            outcome.sent = await self._reply(kind, msg.from_addr, msg, body, ticket.id)
        return outcome

    async def _request(self, msg: InboundMessage, sender: SenderEvidence) -> Outcome:
        """A new request, or the continuation of the sender's draft: one reply at most."""
        address = msg.from_addr
        lang = await self.desk.language_of(EMAIL, address) or _guess_lang(msg)
        refs, notes = await self._attachments(msg, lang, address)
        request = FormRequest(
            text=msg.text,
            subject=normalize_subject(msg.subject),
            attachments=tuple(refs),
            notes=tuple(notes),
            lang=lang,
            sender_authenticated=sender.authenticated,
        )
        reply = await self.desk.form_request(EMAIL, address, request)
        if reply.outcome is FormOutcome.FILED:
            kind, tid = AutoReply.CONFIRMATION, reply.ticket_id
            sent = await self._reply(kind, address, msg, reply.text, tid)
            return Outcome("filed", ticket_id=tid, sent=sent)
        sent = await self._reply(AutoReply.GUIDED, address, msg, reply.text)
        if not sent:
            return Outcome("rate_limited", "hourly limit of automatic replies reached")
        return Outcome("guided", sent=sent)

    async def _confirm_filed(self, msg: InboundMessage, ticket_id: str) -> None:
        """The ticket was filed, but the process stopped before its confirmation was queued
        (the confirmation follows the filing's transaction): queue it now, once."""
        if await self.state.replied(ticket_id, AutoReply.CONFIRMATION):
            return
        ticket = await self.desk.find_ticket((ticket_id,))
        if ticket is None or ticket.channel != EMAIL:
            return
        body = intake_texts.t("queued", ticket.lang, id=ticket.id)
        await self._reply(AutoReply.CONFIRMATION, ticket.customer_id, msg, body, ticket.id)
        log.info("confirmation of %s queued on the retry of %s", ticket.id, msg.message_id)

    # --- replies ------------------------------------------------------------------------------

    async def _reply(
        self,
        kind: AutoReply,
        to: str,
        msg: InboundMessage | None,
        body: str,
        ticket_id: str | None = None,
        *,
        subject: str | None = None,
    ) -> list[str]:
        """Render a reply to `to` in the thread of `msg` and hand it to the desk; its Message-ID
        in a list, or [] when the sender's hourly limit held it back."""
        now = self._clock()
        message = self._render(to, msg, body, ticket_id, subject, now)
        if not await self.desk.send_auto_reply(kind, to, message, ticket_id):
            return []
        message_id = str(message["Message-ID"])
        if self._state is not None:
            await self._state.record_sent(message_id, ticket_id, kind, to, now)
        else:  # a desk notice while the desk stops, after the channel: it is queued all the same
            log.info("%s reply to %s queued after the channel closed", kind.value, to)
        return [message_id]

    def _render(
        self,
        to: str,
        msg: InboundMessage | None,
        body: str,
        ticket_id: str | None,
        subject: str | None,
        now: datetime,
    ) -> OutboundMessage:
        # 152-FZ: e-mail customers are not asked for consent (they wrote to us); every reply
        # says where the personal-data policy is and how to have the data deleted.
        body = f"{body}\n\n-- \n{mail_texts.privacy_footer(self.settings.privacy_policy_url)}"
        replies = self.desk.reply_addresses
        return render_customer_reply(
            to,
            subject if subject is not None else _reply_subject(msg, ticket_id),
            body,
            self.settings,
            in_reply_to=(msg.message_id or None) if msg else None,
            references=list(msg.references) if msg else [],
            now=now,
            reply_address=replies.for_ticket(ticket_id) if ticket_id and replies else None,
            auto_submitted="auto-replied",
        )

    async def _notify(self, user_id: str, reply: Reply) -> None:
        """Desk notices for e-mail customers ("filed" once support accepted it, failures)."""
        ids = ticket_ids(reply.text)
        subject = mail_texts.notice_subject(ids[0] if ids else None)
        tid = ids[0] if ids else None
        await self._reply(AutoReply.NOTICE, user_id, None, reply.text, tid, subject=subject)


# --- helpers ---


def _message_key(msg: InboundMessage, raw: bytes) -> str:
    """What identifies one inbound e-mail: its sender and Message-ID, else a hash of its bytes."""
    if msg.message_id:
        return f"{msg.from_addr} {msg.message_id}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _reply_subject(msg: InboundMessage | None, ticket_id: str | None) -> str:
    """`Re: <their subject>`; a reply about a ticket carries its tag, any other reply none."""
    base = normalize_subject(msg.subject if msg else "")
    if ticket_id is None:  # a new request never carries another ticket's tag
        base = " ".join(_TAG_RE.sub(" ", base).split())
    base = base or mail_texts.DEFAULT_SUBJECT
    if ticket_id and ticket_id not in base:
        base = f"[{ticket_id}] {base}"
    return f"Re: {base}"


def _guess_lang(msg: InboundMessage) -> str:
    sample = msg.text or msg.subject
    cyr = sum(1 for ch in sample if "а" <= ch.lower() <= "я" or ch in "ёЁ")
    lat = sum(1 for ch in sample if "a" <= ch.lower() <= "z")
    return "en" if lat > 3 * max(cyr, 1) else "ru"


async def run_email_channel(
    settings: Settings,
    desk: DeskPort,
    *,
    metrics: Metrics | None = None,
    leadership: Leadership | None = None,
    **watcher_options: Any,
) -> None:
    """The composition root's entry: watch FRONTDESK_IMAP_* and run the channel until cancelled.
    Replies are queued by the desk, within its shared limiter."""
    channel = EmailChannel(desk, settings, metrics=metrics)
    await channel.run(leadership, **watcher_options)


def watcher_leader_key(settings: Settings) -> str:
    """The Redis key of the watcher's leadership: one per mailbox, so that desks watching
    different mailboxes may share a Redis server."""
    mailbox = f"{settings.imap_user or settings.from_address}@{settings.imap_host}"
    return f"frontdesk:leader:imap:{mailbox}:{settings.imap_port or ''}/{settings.imap_mailbox}"
