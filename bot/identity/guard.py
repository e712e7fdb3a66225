"""Who may talk to the desk and in whose name, in front of the intake dialog.

The desk asks the guard twice:
- `intercept` for every event: blocked senders are ignored; /forget and /privacy are answered;
  personal-data consent is asked at the first contact (152-FZ) before anything is kept; a six-digit
  code typed while a verification is pending is checked.
- `before_filing` when the dialog wants to file: the contact e-mail must be verified for this
  customer (a code to that address, with fixed text only) and the ticket limits must allow it.
Filing goes on only when both say so; nothing with the customer's text is mailed before that.

The guard sends nothing itself: a verification e-mail comes back in its answer (`mail`) and the
desk queues it, as it queues all mail. Forgetting on an e-mail's request (`forget_on_request`)
needs a proven sender (bot/identity/proof.py).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.channel_names import SENDER_ADDRESS_CHANNELS
from bot.config import Settings
from bot.identity.consent import (
    CONSENT_BUTTONS,
    POLICY_VERSION,
    Consents,
    consent_given_text,
    consent_refused_text,
    consent_request_text,
    parse_consent_answer,
    privacy_policy_text,
)
from bot.identity.forget import (
    ForgetReport,
    customer_key,
    forget_customer,
    forget_text,
    forget_unproven_text,
)
from bot.identity.proof import SenderEvidence, proves_own_ticket
from bot.identity.verification import (
    VERIFICATION_KIND,
    Verifier,
    verification_email,
    verification_text,
)
from bot.intake import texts
from bot.intake.conversation import Conversation
from bot.intake.events import (
    AttachmentEvent,
    ChoiceEvent,
    CommandEvent,
    Event,
    FormEvent,
    Option,
    Reply,
    TextEvent,
)
from bot.policy.blocklist import Blocklist
from bot.policy.limits import TICKETS_DAY, TICKETS_HOUR, Limits, limit_text, rules_from_settings
from bot.replicas.memory import ChatMemory, LocalMemory
from bot.tickets.interface import TicketStore
from bot.tickets.model import AttachmentRef, Ticket
from bot.tickets.render import OutboundMessage

if TYPE_CHECKING:
    from bot.tickets.conversations import Conversations

log = logging.getLogger(__name__)

_CODE_RE = re.compile(r"^\s*(\d{3})[\s-]?(\d{3})\s*$")
_MAX_PENDING = 10_000
RESEND = "resend_code"


@dataclass(frozen=True)
class OutgoingMail:
    """A message the guard wants sent (a verification code): the desk queues it."""

    kind: str
    message: OutboundMessage


@dataclass(frozen=True)
class Intercept:
    """What the guard did with an event: replies to show, and the event (or a replacement) to
    pass on to the dialog — None when the guard answered it completely — and mail to send."""

    replies: tuple[Reply, ...] = ()
    event: Event | None = None
    mail: tuple[OutgoingMail, ...] = ()


@dataclass(frozen=True)
class Hold:
    """Filing waits: what to tell the customer, and mail to send (the code, if one was made)."""

    replies: tuple[Reply, ...]
    mail: tuple[OutgoingMail, ...] = ()


@dataclass(frozen=True)
class ForgetAnswer:
    """The outcome of a request to forget made by e-mail: deleted or not, and what to say."""

    forgotten: bool
    text: str


def _channels(value: str) -> frozenset[str]:
    return frozenset(c.strip() for c in value.split(",") if c.strip())


@dataclass
class Guard:
    settings: Settings
    store: TicketStore
    consents: Consents
    verifier: Verifier
    limits: Limits
    blocklist: Blocklist
    consent_channels: frozenset[str]
    verify_channels: frozenset[str]
    # What a customer wrote before consenting, until they answer: never in the database. In this
    # process's memory; with several replicas in Redis (for an hour), where the replica that
    # gets the answer finds it.
    pending: ChatMemory = field(default_factory=lambda: LocalMemory(_MAX_PENDING))
    # Customers known to have consented: spares a database read on every update. Only "yes" is
    # cached and /forget removes it; with several replicas (Redis) nothing is cached, since a
    # withdrawal made through another replica would go unseen here.
    _consented: set[str] = field(default_factory=set)

    @classmethod
    async def open(cls, settings: Settings, store: TicketStore) -> Guard:
        limits = await Limits.open(store, rules_from_settings(settings))
        return cls(
            settings=settings,
            store=store,
            consents=await Consents.open(store),
            verifier=await Verifier.open(store, settings.data_dir, limits),
            limits=limits,
            blocklist=Blocklist(),
            consent_channels=_channels(settings.consent_channels),
            verify_channels=_channels(settings.verify_channels),
        )

    async def intercept(
        self,
        channel: str,
        user_id: str,
        event: Event,
        state: Conversation,
        conversations: Conversations,
        now: datetime,
    ) -> Intercept:
        lang = state.lang
        if self.is_blocked(channel, user_id):
            return Intercept()
        command = event.name.lower().lstrip("/") if isinstance(event, CommandEvent) else ""
        if command == "forget":
            report = await self.forget(channel, user_id, conversations)
            return Intercept((Reply(forget_text(report, lang)),))
        if command == "privacy":
            return Intercept((Reply(privacy_policy_text(lang)),))
        if channel in self.consent_channels:
            asked = await self._consent(channel, user_id, event, lang, now)
            if asked is not None:
                return asked
        if state.verify_address and state.step == "confirm":
            return await self._code(channel, user_id, event, state, now)
        return Intercept(event=event)

    def is_blocked(self, channel: str, user_id: str) -> bool:
        """Whether the operator's blocklist names this sender (they get no answer at all)."""
        if self.blocklist.is_blocked(channel, user_id):
            log.info("blocked sender ignored channel=%s", channel)
            return True
        return False

    async def forget(
        self, channel: str, user_id: str, conversations: Conversations
    ) -> ForgetReport:
        """Everything kept about this customer deleted (their filed tickets stay with support),
        in every channel's way of asking: /forget, or the e-mail with the forget subject."""
        key = customer_key(channel, user_id)
        self._consented.discard(key)
        await self.pending.delete(key)
        report = await forget_customer(self.store, self.settings.data_dir, channel, user_id)
        await conversations.delete(channel, user_id)
        return report

    async def forget_on_request(
        self, channel: str, sender: SenderEvidence, conversations: Conversations, lang: str
    ) -> ForgetAnswer:
        """The e-mail form of /forget. Deleting cannot be undone, so only a proven sender may ask
        for it by mail (authenticated, or answering the desk's mail about one of their own
        tickets); anyone else is told, in fixed words, the ways that prove who they are."""
        if not (sender.authenticated or await self._answers_own_ticket(sender)):
            return ForgetAnswer(False, forget_unproven_text(lang))
        report = await self.forget(channel, sender.address, conversations)
        return ForgetAnswer(True, forget_text(report, lang))

    async def _answers_own_ticket(self, sender: SenderEvidence) -> bool:
        tickets = [await self.store.get_ticket(t) for t in sender.reply_address_tickets]
        return proves_own_ticket(sender, [t for t in tickets if t is not None])

    # --- consent (152-FZ) -----------------------------------------------------------------

    async def _consent(
        self, channel: str, user_id: str, event: Event, lang: str, now: datetime
    ) -> Intercept | None:
        key = customer_key(channel, user_id)
        if key in self._consented:
            return None
        if await self.consents.has_consent(key, POLICY_VERSION):
            if not self.settings.redis_url:
                self._consented.add(key)
            return None
        answer: bool | None = None
        if isinstance(event, ChoiceEvent) and event.value in ("consent_yes", "consent_no"):
            answer = event.value == "consent_yes"
        elif isinstance(event, TextEvent):
            answer = parse_consent_answer(event.text)
        if answer is True:
            await self.consents.record(key, now, POLICY_VERSION)
            pending = await self._take_pending(key)
            return Intercept((Reply(consent_given_text(lang)),), pending or CommandEvent("start"))
        if answer is False:
            await self.pending.delete(key)
            return Intercept((Reply(consent_refused_text(lang, self.settings)),))
        if isinstance(event, TextEvent | AttachmentEvent):
            await self.pending.set(key, pending_to_json(event))
        labels = CONSENT_BUTTONS.get(lang, CONSENT_BUTTONS["ru"])
        options = (Option("consent_yes", labels[0]), Option("consent_no", labels[1]))
        request = consent_request_text(lang, self.settings, channel)
        replies = [Reply(request, options)]
        if isinstance(event, CommandEvent) and event.name.lower().lstrip("/") == "start":
            replies.insert(0, Reply(texts.t("greeting", lang)))
        return Intercept(tuple(replies))

    async def _take_pending(self, key: str) -> Event | None:
        raw = await self.pending.get(key)
        if raw is None:
            return None
        await self.pending.delete(key)
        return pending_from_json(raw)

    async def needs_consent(self, channel: str, user_id: str) -> bool:
        """Whether this customer must still consent before anything of theirs is kept."""
        if channel not in self.consent_channels:
            return False
        key = customer_key(channel, user_id)
        return key not in self._consented and not await self.consents.has_consent(
            key, POLICY_VERSION
        )

    async def record_consent(self, channel: str, user_id: str, now: datetime) -> None:
        """Consent given in one step with the request (a ticked box on a web form)."""
        await self.consents.record(customer_key(channel, user_id), now, POLICY_VERSION)

    # --- verification of the contact e-mail --------------------------------------------------

    async def _code(
        self, channel: str, user_id: str, event: Event, state: Conversation, now: datetime
    ) -> Intercept:
        address = state.verify_address or ""
        key = customer_key(channel, user_id)
        if isinstance(event, ChoiceEvent) and event.value == RESEND:
            sent = await self._send_code(key, address, state.lang, now)
            return Intercept(sent.replies, mail=sent.mail)
        match = _CODE_RE.match(event.text) if isinstance(event, TextEvent) else None
        if match is None:
            return Intercept(event=event)
        result = await self.verifier.check(key, address, match.group(1) + match.group(2), now)
        text = verification_text(
            result.status, state.lang, address=address, attempts_left=result.attempts_left
        )
        if result.status == "ok":  # verified: carry on with the "send" the customer pressed
            return Intercept((Reply(text),), ChoiceEvent("send"))
        options = () if result.status == "wrong" else (self._resend_option(state.lang),)
        return Intercept((Reply(text, options),))

    def _resend_option(self, lang: str) -> Option:
        return Option(RESEND, "Отправить код ещё раз" if lang == "ru" else "Send the code again")

    async def _send_code(self, key: str, address: str, lang: str, now: datetime) -> Hold:
        """A new code for `address` (when the verifier allows one): its e-mail, and the reply."""
        result = await self.verifier.start(key, address, now)
        mail: tuple[OutgoingMail, ...] = ()
        if result.status == "sent" and result.code:
            message = verification_email(address, result.code, lang, self.settings, now)
            mail = (OutgoingMail(VERIFICATION_KIND, message),)
        text = verification_text(
            result.status, lang, address=address, retry_at=result.retry_at, now=now,
            settings=self.settings,
        )  # fmt: skip
        return Hold((Reply(text, (self._resend_option(lang),)),), mail)

    def _needs_code(self, channel: str, user_id: str, ticket: Ticket) -> bool:
        """Whether the contact address must confirm a code before it gets the customer's words.

        In a channel whose user id is the sender's own e-mail address, that address needs no
        code (the customer wrote from it); any other contact does, whatever the settings say.
        """
        if channel in SENDER_ADDRESS_CHANNELS:
            return ticket.contact_email.lower() != user_id.lower()
        return channel in self.verify_channels

    async def before_filing(
        self, channel: str, user_id: str, ticket: Ticket, state: Conversation, now: datetime
    ) -> Hold | None:
        """None when the ticket may be filed; otherwise what to tell the customer (the draft and
        its summary stay as they are)."""
        key = customer_key(channel, user_id)
        if self._needs_code(channel, user_id, ticket) and not await self.verifier.is_verified(
            key, ticket.contact_email
        ):
            state.verify_address = ticket.contact_email
            return await self._send_code(key, ticket.contact_email, state.lang, now)
        result = await self.limits.hit_all((TICKETS_HOUR, TICKETS_DAY), key, now)
        if not result.allowed:
            return Hold((Reply(limit_text(result, state.lang, self.settings, now)),))
        state.verify_address = None
        return None


def pending_to_json(event: TextEvent | AttachmentEvent) -> str:
    """A held event as the guard's pending memory keeps it (a string, possibly in Redis)."""
    if isinstance(event, AttachmentEvent):
        return json.dumps({"attachment": asdict(event.ref)}, ensure_ascii=False)
    kind = "form" if isinstance(event, FormEvent) else "text"
    return json.dumps({kind: event.text}, ensure_ascii=False)


def pending_from_json(raw: str) -> Event:
    data = json.loads(raw)
    if "attachment" in data:
        return AttachmentEvent(AttachmentRef(**data["attachment"]))
    if "form" in data:
        return FormEvent(str(data["form"]))
    return TextEvent(str(data["text"]))
