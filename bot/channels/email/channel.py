"""The guided e-mail channel: the front-desk mailbox → the desk → replies and tickets.

Every message the IMAP watcher hands over (`handle_raw`) goes one of these ways:

1. Robots never get an answer (RFC 3834): auto-replies, bounces, lists, mailer-daemon/no-reply
   senders, and our own messages (From = the front-desk address, or a Message-ID of our domain).
2. A message in the thread of an existing ticket — found by In-Reply-To/References (the ticket's
   and follow-ups' Message-IDs, or one of our replies) or by the `[WAS-…]` subject tag — counts
   only when its sender belongs there:
   - an agent (the support address's domain, configurable): relayed to the customer's channel
     (Telegram through the desk; by e-mail only when the customer is not in To/Cc already). A
     closure (a line `Статус: закрыто`, or `[Закрыто]` in the subject) tells the customer and
     reminds them of 4.3;
   - the ticket's customer: a follow-up forwarded to support in the same thread (unless support
     is already a recipient); a reply to a closed ticket reopens it (5.1).
   Anyone else is treated as a new request and never touches that ticket (zammad#5064).
3. Otherwise a new request (or the continuation of the sender's draft): the desk's intake core
   extracts and validates the 4.2 fields (the conversation is the desk's, channel "email", user
   id = the From address, which is also the contact e-mail). Complete → the desk files the ticket
   through the outbox and the customer gets a confirmation with the ticket id and what to expect.
   Incomplete → one guided reply (`Re: <subject>`, threaded) saying what was understood and
   listing exactly the missing or invalid fields as a fill-in form with labels the parser reads.

Our replies carry `Auto-Submitted: auto-replied`. Every one counts towards the per-sender rule
`guided_replies_hour` of :mod:`bot.policy.limits` (FRONTDESK_LIMIT_GUIDED_REPLIES_PER_HOUR, key
`email:<address>`); guided, reopened and forget replies are not sent once a sender has had that
many automatic replies in the last hour (RFC 3834 §2). Confirmations, relays and desk notices
always go, and count.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.channels.email import texts as mail_texts
from bot.channels.email.state import EmailState
from bot.clock import utc_now
from bot.config import Settings
from bot.desk import Desk
from bot.identity.authres import auth_results_verdict, trusted_ids
from bot.identity.forget import forget_text
from bot.intake import texts
from bot.intake.attachments import check_attachment, store_attachment
from bot.intake.events import AttachmentEvent, CommandEvent, FormEvent, Reply
from bot.intake.extract import extract_fields
from bot.intake.fields import FIELD_ORDER, Field, Invalid, Valid, validate
from bot.intake.form import CATEGORY_LABEL, CRITICAL_LABEL
from bot.intake.machine import CATEGORIES, Conversation
from bot.mail.imap import ImapWatcher
from bot.mail.inbound import (
    InboundMessage,
    auto_reply_reason,
    normalize_subject,
    parse_message,
    ticket_ids,
)
from bot.mail.reply_address import ReplyAddresses, open_reply_addresses
from bot.policy.limits import GUIDED_REPLIES_HOUR, Limits, rules_from_settings
from bot.tickets.model import AttachmentRef, Ticket
from bot.tickets.render import render_customer_reply
from bot.tickets.store import Store, inbound_key

__all__ = ["EmailChannel", "EmailChannelConfig", "Outcome", "run_email_channel"]

log = logging.getLogger(__name__)

CHANNEL = "email"
_CLOSURE_LINE = r"^\s*(статус|status)\s*:\s*(закрыто|закрыт|closed)\s*\.?\s*$"
_CLOSURE_SUBJECT = r"\[\s*(закрыто|closed)\s*\]"
_TICKET_MSGID_RE = re.compile(r"^<(WAS-\d{6})\.(?:ticket|followup-\d+)@([^>]+)>$")
_TAG_RE = re.compile(r"\[?\bWAS-\d{6}\b\]?")
# The e-mail form of /forget (documented in README).
_FORGET_SUBJECT = re.compile(r"удалить\s+мои\s+данные|forget\s+me", re.IGNORECASE)
# Free text of the customer's that a reply to an unproven sender does not quote back.
_PROSE_FIELDS = frozenset({Field.DESCRIPTION, Field.STEPS})


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower().strip(">")


@dataclass(frozen=True)
class EmailChannelConfig:
    """Conventions of the channel; `from_settings` gives the defaults."""

    front_address: str
    support_address: str
    agent_domains: frozenset[str]
    own_domains: frozenset[str]
    closure_line: re.Pattern[str] = re.compile(_CLOSURE_LINE, re.IGNORECASE | re.MULTILINE)
    closure_subject: re.Pattern[str] = re.compile(_CLOSURE_SUBJECT, re.IGNORECASE)
    extra_own_addresses: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> EmailChannelConfig:
        front = settings.from_address.lower()
        values: dict[str, Any] = {
            "front_address": front,
            "support_address": settings.support_address.lower(),
            "agent_domains": frozenset({_domain(settings.support_address)}),
            "own_domains": frozenset({_domain(front)}),
        }
        values.update(overrides)
        return cls(**values)

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset({self.front_address, *self.extra_own_addresses})

    def is_agent(self, address: str) -> bool:
        address = address.lower()
        return address == self.support_address or _domain(address) in self.agent_domains

    def is_closure(self, msg: InboundMessage) -> bool:
        return bool(self.closure_subject.search(msg.subject) or self.closure_line.search(msg.text))


@dataclass
class Outcome:
    """What `handle_raw` did with one message (for logs and tests)."""

    kind: str  # ignored | guided | filed | rate_limited | relayed | closed | followup | reopened
    reason: str = ""
    ticket_id: str | None = None
    sent: list[str] = field(default_factory=list)  # Message-IDs of the replies queued


class EmailChannel:
    """See the module docstring. `start()` before use; `watcher()` builds the IMAP watcher.

    `limits`: the desk's shared limiter (the composition root passes the guard's); without it
    the desk's guard's is used, or one is opened on the desk's store (the same `limit_events`).
    """

    def __init__(
        self,
        desk: Desk,
        settings: Settings,
        *,
        config: EmailChannelConfig | None = None,
        clock: Callable[[], datetime] = utc_now,
        limits: Limits | None = None,
    ) -> None:
        self.desk = desk
        self.settings = settings
        self.config = config or EmailChannelConfig.from_settings(settings)
        self._clock = clock
        self._state: EmailState | None = None
        self._limits = limits
        self._owns_limits = False
        self.outcomes: dict[str, int] = {}
        self.recent: deque[tuple[str, Outcome]] = deque(maxlen=200)  # (Message-ID, outcome)
        self._replies: ReplyAddresses | None = None
        self._trusted = trusted_ids(settings.authserv_id)

    async def start(self) -> None:
        self._state = await EmailState.open(self.settings.data_dir / "email-channel.sqlite3")
        if self._limits is None and self.desk.guard is not None:
            self._limits = self.desk.guard.limits
        if self._limits is None:
            rules = rules_from_settings(self.settings)
            self._limits = await Limits.open(self.desk.store, rules)
            self._owns_limits = True
        await self._carry_over_legacy_auto_replies()
        self._replies = await open_reply_addresses(self.settings, self.desk.store)
        self.desk.subscribe(CHANNEL, self._notify)

    async def _carry_over_legacy_auto_replies(self) -> None:
        """Earlier versions counted auto-replies in their own table: its last hour goes to
        `limit_events` (nobody gets a fresh allowance by an upgrade), then the table goes."""
        since = self._clock() - self.limits.rules[GUIDED_REPLIES_HOUR].window
        for sender, sent_at in await self.state.legacy_auto_replies(since):
            await self.limits.record(GUIDED_REPLIES_HOUR, _limit_key(sender), sent_at)
        await self.state.drop_legacy_auto_replies()

    async def close(self) -> None:
        if self._state is not None:
            await self._state.close()
            self._state = None
        if self._owns_limits and self._limits is not None:
            await self._limits.close()  # shares the store's connection: closes nothing of it
            self._limits, self._owns_limits = None, False

    def watcher(self, **kwargs: Any) -> ImapWatcher:
        """The IMAP watcher of the front-desk mailbox (FRONTDESK_IMAP_*) feeding this channel."""
        return ImapWatcher.from_settings(self.settings, self.handle_raw, **kwargs)

    async def run(self, **watcher_options: Any) -> None:
        """Start, watch the mailbox until cancelled, close."""
        await self.start()
        watcher = self.watcher(**watcher_options)
        try:
            await watcher.run()
        finally:
            watcher.stop()
            await self.close()

    @property
    def state(self) -> EmailState:
        if self._state is None:
            raise RuntimeError("EmailChannel.start() was not called")
        return self._state

    @property
    def limits(self) -> Limits:
        if self._limits is None:
            raise RuntimeError("EmailChannel.start() was not called")
        return self._limits

    # --- entry point --------------------------------------------------------------------------

    async def handle_raw(self, raw: bytes) -> None:
        """The watcher's handler: never raises for what a message contains.

        Idempotent: a message is recorded as handled in the same transaction as the ticket or
        reply it caused (see `inbound_key`), so when the watcher retries it after a later failure
        (or after a crash before it saved its mailbox position) nothing is filed or sent twice.
        """
        msg = parse_message(raw)
        key = _message_key(msg, raw)
        store = self.desk.store
        done = await store.inbound_outcome(key)
        if done is not None:
            log.info("e-mail %s already handled (%s): skipped", msg.message_id, done[0])
            return
        token = inbound_key.set(key)
        try:
            outcome = await self.handle(msg)
        except Exception:
            log.exception("e-mail from %s (%s) failed", msg.from_addr, msg.message_id)
            raise  # the watcher retries a few times (transient errors), then skips it
        finally:
            inbound_key.reset(token)
        await store.record_inbound(key, outcome.kind, outcome.ticket_id, self._clock())
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
        guard = self.desk.guard
        if guard is not None and guard.is_blocked(CHANNEL, msg.from_addr):
            return Outcome("ignored", "blocked sender")
        # A sender the receiving server could not authenticate (SPF/DKIM/DMARC fail) gets
        # nothing: no ticket, no reply with anyone's data, no mail to a forged address.
        verdict = self._verdict(msg)
        if verdict == "fail":
            return Outcome("ignored", "sender authentication failed (Authentication-Results)")
        if _FORGET_SUBJECT.search(msg.subject):
            proven = verdict == "pass" or await self._answers_own_ticket(msg)
            return await self._forget(msg, verified=proven)
        ticket = await self._thread_ticket(msg)
        if ticket is not None:
            agent = cfg.is_agent(msg.from_addr)
            if agent or self._is_customer(ticket, msg.from_addr):
                if not self._proven(ticket, msg, verdict):
                    return await self._unproven(ticket, msg, agent=agent)
                if agent:
                    return await self._from_agent(ticket, msg)
                return await self._from_customer(ticket, msg)
            log.warning(
                "e-mail from %s refers to %s but is neither its customer nor an agent: "
                "treated as a new request",
                msg.from_addr, ticket.id,
            )  # fmt: skip
        elif cfg.is_agent(msg.from_addr):
            return Outcome("ignored", "agent message outside any ticket thread")
        return await self._request(msg, verified=verdict == "pass")

    # --- who sent it ----------------------------------------------------------------------------

    def _verdict(self, msg: InboundMessage) -> str:
        """The trusted server's Authentication-Results verdict for the From domain."""
        return auth_results_verdict(list(msg.auth_results), _domain(msg.from_addr), self._trusted)

    def _proven(self, ticket: Ticket, msg: InboundMessage, verdict: str) -> bool:
        """Whether the sender proved their From address for an action on `ticket`.

        Two proofs count (README "Privacy and abuse safety"): the trusted receiving server
        authenticated the From domain, or the message went to the ticket's own reply address,
        which only recipients of the desk's mail about that ticket know.
        """
        if verdict == "pass":
            return True
        return self._replies is not None and ticket.id in self._replies.tickets_in(
            msg.addressed_to
        )

    async def _answers_own_ticket(self, msg: InboundMessage) -> bool:
        """Whether the message went to the reply address of one of its sender's own tickets."""
        if self._replies is None:
            return False
        for ticket_id in self._replies.tickets_in(msg.addressed_to):
            ticket = await self.desk.store.get_ticket(ticket_id)
            if ticket is not None and self._is_customer(ticket, msg.from_addr):
                return True
        return False

    async def _unproven(self, ticket: Ticket, msg: InboundMessage, *, agent: bool) -> Outcome:
        """A message about `ticket` whose sender proved nothing never acts on it.

        A customer's address gets a fixed text (none of the message's words) asking to answer
        at the ticket's reply address: if it was really them, their answer is proven; if the
        From was forged, its owner learns that someone tried. Agents get nothing back (their
        replies are expected through the ticket's reply address).
        """
        log.warning(
            "e-mail from %s about %s without proof of its sender: not acted on",
            msg.from_addr, ticket.id,
        )  # fmt: skip
        if agent:
            return Outcome("ignored", "agent reply without proof of sender", ticket.id)
        body = mail_texts.t("unproven", ticket.lang, id=ticket.id)
        mid = await self._send(msg.from_addr, msg, body, ticket.lang, ticket.id, "unproven")
        return Outcome("unproven", "sender not proven", ticket.id, [mid] if mid else [])

    async def _forget(self, msg: InboundMessage, *, verified: bool) -> Outcome:
        """The e-mail form of /forget (subject «Удалить мои данные» / "Forget me"). Deleting is
        destructive, so only a proven sender may ask for it by mail; others get a fixed answer
        pointing to the ways that prove who they are. The guard forgets, as for /forget."""
        lang = _guess_lang(msg)
        guard = self.desk.guard
        if not verified or guard is None:
            body = mail_texts.FORGET_UNVERIFIED.get(lang, mail_texts.FORGET_UNVERIFIED["ru"])
            mid = await self._send(msg.from_addr, msg, body, lang, None, "forget")
            return Outcome("ignored", "forget request from an unauthenticated sender",
                           sent=[mid] if mid else [])  # fmt: skip
        report = await guard.forget(CHANNEL, msg.from_addr, self.desk.conversations)
        mid = await self._send(msg.from_addr, msg, forget_text(report, lang), lang, None, "forget")
        return Outcome("forgotten", sent=[mid] if mid else [])

    # --- threads ------------------------------------------------------------------------------

    async def _thread_ticket(self, msg: InboundMessage) -> Ticket | None:
        candidates: list[str] = []
        if self._replies is not None:
            candidates += self._replies.tickets_in(msg.addressed_to)
        for mid in msg.thread_ids:
            m = _TICKET_MSGID_RE.match(mid)
            if m and m.group(2).lower() in self.config.own_domains:
                candidates.append(m.group(1))
        ours = await self.state.ticket_of(msg.thread_ids)
        if ours:
            candidates.append(ours)
        candidates += ticket_ids(msg.subject)
        for tid in dict.fromkeys(candidates):
            ticket = await self.desk.store.get_ticket(tid)
            if ticket is not None:
                return ticket
        return None

    @staticmethod
    def _is_customer(ticket: Ticket, address: str) -> bool:
        address = address.lower()
        if ticket.contact_email and ticket.contact_email.lower() == address:
            return True
        return ticket.channel == CHANNEL and ticket.customer_id.lower() == address

    async def _from_agent(self, ticket: Ticket, msg: InboundMessage) -> Outcome:
        """An agent's answer: the desk applies it; what the customer is told is mailed in the
        agent's thread (e-mail tickets; others are told through their own channel)."""
        closing = self.config.is_closure(msg)
        customer = ticket.contact_email.lower()
        told = await self.desk.agent_answer(
            ticket,
            self.config.closure_line.sub("", msg.text).strip(),
            [a.name for a in msg.attachments],
            closing=closing,
            customer_has_it=customer in msg.recipients,
        )
        outcome = Outcome("closed" if closing else "relayed", ticket_id=ticket.id)
        if ticket.channel != CHANNEL:
            outcome.reason = f"relayed to {ticket.channel}"
        elif told and customer:
            mid = await self._send(
                customer, msg, "\n\n".join(told), ticket.lang, ticket.id, "relay", limited=False
            )
            outcome.sent.append(mid)
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
            mid = await self._send(msg.from_addr, msg, body, ticket.lang, ticket.id, "reopened")
            if mid:
                outcome.sent.append(mid)
        return outcome

    # --- new requests and drafts --------------------------------------------------------------

    async def _request(self, msg: InboundMessage, *, verified: bool = False) -> Outcome:
        desk, sender = self.desk, msg.from_addr
        conv = await desk.conversation(CHANNEL, sender)
        lang = conv.lang if conv else _guess_lang(msg)
        if conv is not None and conv.step in ("filed", "idle"):
            await desk.handle(CHANNEL, sender, CommandEvent("new"))
        refs, notes = await self._attachments(msg, lang, sender)
        for ref in refs:
            await desk.handle(CHANNEL, sender, AttachmentEvent(ref), lang_hint=lang)
        conv = await desk.conversation(CHANNEL, sender)
        text = msg.text.strip()
        if not text and not (conv and conv.fields):
            text = normalize_subject(msg.subject)  # a subject-only message still says something
        if conv is None or Field.CONTACT_EMAIL.value not in conv.fields:
            text = self._with_sender_as_contact(text, sender, lang)
        # The whole message at once: the core reads its fields and form lines and settles
        # every step it can (its non-interactive mode), so one e-mail needs one reply at most.
        replies = await desk.handle(CHANNEL, sender, FormEvent(text), lang_hint=lang)
        conv = await desk.conversation(CHANNEL, sender)
        assert conv is not None
        if conv.step == "filed" and conv.ticket_id:
            body = "\n\n".join(r.text for r in replies if r.text)
            body += ("\n\n" + "\n".join(notes)) if notes else ""
            mid = await self._send(
                sender, msg, body, conv.lang, conv.ticket_id, "confirmation", limited=False
            )
            return Outcome("filed", ticket_id=conv.ticket_id, sent=[mid] if mid else [])
        if conv.verify_address:
            # The customer asked for answers at another address: it confirms a code first
            # (fixed text to that address); the customer answers this mail with the code.
            body = "\n\n".join(
                [*(r.text for r in replies if r.text), mail_texts.t("code_hint", conv.lang)]
            )
        else:
            body = self._guided_text(conv, msg, notes, verified=verified)
        mid = await self._send(sender, msg, body, conv.lang, None, "guided")
        if not mid:
            limit = self.limits.rules[GUIDED_REPLIES_HOUR].limit
            return Outcome("rate_limited", f"over {limit}/hour")
        return Outcome("guided", sent=[mid])

    def _with_sender_as_contact(self, text: str, sender: str, lang: str) -> str:
        """The From address is the contact e-mail unless the customer's own labelled line names
        another one the desk accepts (which then confirms a code); a refused one (malformed, or
        the desk's own address) is overridden by the sender's, the last line read winning."""
        label = mail_texts.form_label(Field.CONTACT_EMAIL, lang)
        named = extract_fields(text, self.settings.coupon_pattern).values.get(Field.CONTACT_EMAIL)
        if named is None:
            return f"{label}: {sender}\n{text}"
        verdict = validate(Field.CONTACT_EMAIL, named, self.settings.coupon_pattern)
        reserved = self.settings.reserved_addresses
        if isinstance(verdict, Valid) and verdict.value.lower() not in reserved:
            return text
        return f"{text}\n{label}: {sender}"

    async def _attachments(
        self, msg: InboundMessage, lang: str, customer_key: str
    ) -> tuple[list[AttachmentRef], list[str]]:
        refs: list[AttachmentRef] = []
        notes: list[str] = []
        for att in msg.attachments:
            refusal = check_attachment(att.name, att.content_type, att.size, lang)
            if refusal:
                notes.append(refusal)
                continue
            ref, note = await store_attachment(
                self.settings.data_dir, f"{CHANNEL}:{customer_key}", att.name, att.data, lang
            )
            if note:
                notes.append(note)
            if ref is not None:
                refs.append(ref)
        return refs, notes

    def _guided_text(
        self, conv: Conversation, msg: InboundMessage, notes: list[str], *, verified: bool
    ) -> str:
        """The guided reply. A sender nothing has proven may be someone else's forged address:
        the customer's own prose (description, steps) is then acknowledged, not quoted back, so
        the desk cannot be made to carry a stranger's words to that address."""
        lang = conv.lang
        lines = [mail_texts.t("greeting", lang), "", mail_texts.t("guided_intro", lang)]
        understood = [
            f"  {texts.field_label(f, lang)}: "
            + (
                _short(conv.displays.get(f) or conv.fields[f])
                if verified or f not in _PROSE_FIELDS
                else mail_texts.t("received", lang)
            )
            for f in FIELD_ORDER
            if f in conv.fields
        ]
        if conv.attachments:
            names = ", ".join(a["name"] for a in conv.attachments)
            understood.append(f"  {'Файлы' if lang == 'ru' else 'Files'}: {names}")
        if understood:
            lines += ["", mail_texts.t("understood_head", lang), *understood]
        invalid = _invalid_notes(msg.text, conv, self.settings)
        form: list[str] = []
        hints: list[str] = []
        missing = [f for f in FIELD_ORDER if f not in conv.fields]
        for f in missing:
            form.append(f"{mail_texts.form_label(f, lang)}: ")
            hints.append(f"- {texts.t(f'ask_{f.value}', lang)}")
            if f is Field.COUPON:
                hints.append(f"  {mail_texts.t('coupon_hint', lang)}")
        if conv.step == "category":
            form.append(f"{CATEGORY_LABEL[lang]}: ")
            names = "; ".join(texts.category_name(c, lang) for c in CATEGORIES)
            hints.append("- " + mail_texts.t("category_hint", lang, names=names))
        elif conv.step == "critical":
            form.append(f"{CRITICAL_LABEL[lang]}: ")
            hints.append(f"- {texts.t('ask_critical', lang)}")
        if invalid or notes:
            lines += ["", mail_texts.t("notes_head", lang), *invalid, *notes]
        lines += [
            "",
            mail_texts.t("form_head", lang),
            "",
            *form,
            "",
            mail_texts.t("hints_head", lang),
        ]
        lines += hints
        lines += ["", mail_texts.t("signature", lang)]
        return "\n".join(lines)

    # --- sending ------------------------------------------------------------------------------

    async def _send(
        self,
        to: str,
        msg: InboundMessage | None,
        body: str,
        lang: str,
        ticket_id: str | None,
        kind: str,
        *,
        limited: bool = True,
        subject: str | None = None,
    ) -> str:
        """Queue an auto-reply to `to` in the thread of `msg`; "" when the hourly limit holds.

        Every auto-reply is one `limit_events` row; a `limited` one takes its slot with the check
        (one statement) and gives it back if it could not be queued after all.
        """
        now = self._clock()
        key = _limit_key(to)
        if limited and not (await self.limits.hit(GUIDED_REPLIES_HOUR, key, now)).allowed:
            log.warning("auto-reply limit reached for %s; %s reply not sent", to, kind)
            return ""
        try:
            message_id = await self._queue(to, msg, body, ticket_id, kind, subject, now)
        except Exception:
            if limited:
                await self.limits.undo(GUIDED_REPLIES_HOUR, key, now)
            raise
        if not limited:
            await self.limits.record(GUIDED_REPLIES_HOUR, key, now)
        return message_id

    async def _queue(
        self,
        to: str,
        msg: InboundMessage | None,
        body: str,
        ticket_id: str | None,
        kind: str,
        subject: str | None,
        now: datetime,
    ) -> str:
        """Render the reply and put it in the outbox; its Message-ID."""
        if subject is None:
            original = msg.subject if msg else ""
            base = normalize_subject(original)
            if ticket_id is None:  # a new request never carries another ticket's tag
                base = " ".join(_TAG_RE.sub(" ", base).split())
            base = base or "Обращение в техническую поддержку"
            if ticket_id and ticket_id not in base:
                base = f"[{ticket_id}] {base}"
            subject = f"Re: {base}"
        references = list(msg.references) if msg else []
        # 152-FZ: e-mail customers are not asked for consent (they wrote to us); every reply
        # says where the personal-data policy is and how to have the data deleted.
        body = f"{body}\n\n-- \n{mail_texts.privacy_footer(self.settings.privacy_policy_url)}"
        message = render_customer_reply(
            to,
            subject,
            body,
            self.settings,
            in_reply_to=(msg.message_id or None) if msg else None,
            references=references,
            now=now,
            reply_address=self._replies.for_ticket(ticket_id)
            if ticket_id and self._replies
            else None,
            auto_submitted="auto-replied",
        )
        message_id = str(message["Message-ID"])
        await self.desk.queue_mail("reply", message, now, ticket_id)
        await self.state.record_sent(message_id, ticket_id, kind, to, now)
        return message_id

    async def _notify(self, user_id: str, reply: Reply) -> None:
        """Desk notices for e-mail customers ("filed" once support accepted it, failures)."""
        ids = ticket_ids(reply.text)
        subject = f"[{ids[0]}] Что за софт: обращение" if ids else "Что за софт: обращение"
        await self._send(
            user_id, None, reply.text, "ru", ids[0] if ids else None, "notice",
            limited=False, subject=subject,
        )  # fmt: skip


# --- helpers ---


def _message_key(msg: InboundMessage, raw: bytes) -> str:
    """What identifies one inbound e-mail: its sender and Message-ID, else a hash of its bytes."""
    if msg.message_id:
        return f"{msg.from_addr} {msg.message_id}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _limit_key(address: str) -> str:
    """The limits key of an e-mail customer, as the guard keys them: `email:<address>`."""
    return f"{CHANNEL}:{address.lower()}"


def _short(value: str, limit: int = 200) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _guess_lang(msg: InboundMessage) -> str:
    sample = msg.text or msg.subject
    cyr = sum(1 for ch in sample if "а" <= ch.lower() <= "я" or ch in "ёЁ")
    lat = sum(1 for ch in sample if "a" <= ch.lower() <= "z")
    return "en" if lat > 3 * max(cyr, 1) else "ru"


def _invalid_notes(text: str, conv: Conversation, settings: Settings) -> list[str]:
    """Fields the customer gave but the validators refused (they stay missing in the form)."""
    extracted = extract_fields(text, settings.coupon_pattern)
    notes: list[str] = []
    for f, raw in extracted.values.items():
        verdict = validate(f, raw, settings.coupon_pattern)
        if f is Field.CONTACT_EMAIL and isinstance(verdict, Valid):
            if verdict.value.lower() in settings.reserved_addresses:
                verdict = Invalid("email_ours")
        elif f in conv.fields:
            continue
        if isinstance(verdict, Invalid):
            notes.append(
                "- "
                + texts.t(
                    "invalid",
                    conv.lang,
                    label=texts.field_label(f, conv.lang),
                    value=_short(raw, 60),
                    reason=texts.reason(verdict.reason, conv.lang),
                )
            )
    return notes


async def run_email_channel(
    settings: Settings,
    desk: Desk,
    store: Store | None = None,
    *,
    limits: Limits | None = None,
    **watcher_options: Any,
) -> None:
    """The composition root's entry: watch FRONTDESK_IMAP_* and run the channel until cancelled.

    Replies are queued in the desk's store; the outbox is woken through the desk's waker;
    `limits` is the desk's shared limiter (see `EmailChannel`).
    """
    if store is not None and store is not desk.store:
        raise ValueError("the e-mail channel queues replies in the desk's own store")

    channel = EmailChannel(desk, settings, limits=limits)
    await channel.run(**watcher_options)
