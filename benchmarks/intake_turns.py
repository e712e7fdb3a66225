"""How many turns a customer needs to get a ticket filed: scripted customers play the real desk.

The customers (benchmarks/customers.py) are site owners with a problem and the facts they know.
Each plays the real app (`build_app` on a temporary data dir: SQLite, the trained classifier, the
identity guard, the outbox writing .eml files) in every channel:

- console: `Desk.handle` as the console chat calls it (the greeting is not the customer's turn);
- telegram: a new customer, as the Telegram channel calls the desk (the opening /start is not a
  turn; consent and the e-mailed code are); the code is read from the .eml the desk wrote;
- telegram-returning: a customer with a verified address and an earlier ticket (filed in a
  session that is not counted, then closed by an agent) who comes back with this problem;
- email: through the real e-mail channel (`EmailChannel.handle_raw`, one `FormEvent` per e-mail);
  a turn is one e-mail; guided replies are the e-mails the desk sends back before filing, and the
  customer answers their form lines.

A turn is one customer message or one button press. A generic answering model reads what the
desk asks (the reply's buttons and the conversation's public state: step, the field asked,
language) and answers from the customer's facts; it is a table of rules (RULES for chats,
FORM_ROWS for the guided e-mail's form lines), so a new kind of question is one more entry. A
question no rule answers is counted and printed as "unhandled".

Printed per group and channel: customers, tickets filed, median and max turns to a filed ticket,
guided replies (e-mail), questions asking for something the customer had already written
(a field or a 4.2.6 detail asked after any earlier message gave it), the turn whose reply asked
whether the site is down (2.2), tickets filed as critical, and whether the reply to the first
message was in the customer's language; then a total line and the targets met or missed. The
exit code is 0 either way: this is a measurement.

    python benchmarks/intake_turns.py [--customers N] [--channel MODE ...] [--json FILE]
                                      [--verbose]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.customers import CUSTOMERS, GROUPS, Customer  # noqa: E402
from bot.app import App, build_app  # noqa: E402
from bot.channels.email.channel import EmailChannel, Outcome  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.desk import Desk  # noqa: E402
from bot.intake import texts  # noqa: E402
from bot.intake.conversation import Conversation  # noqa: E402
from bot.intake.events import (  # noqa: E402
    ChoiceEvent,
    CommandEvent,
    Event,
    Option,
    Reply,
    TextEvent,
)
from bot.intake.fields import FIELD_ORDER, Field  # noqa: E402
from bot.intake.form import CATEGORY_LABEL, CRITICAL_LABEL  # noqa: E402
from bot.tickets.values import EDITION_ALIASES, EDITION_NAMES_EN  # noqa: E402

MODES = ("console", "telegram", "telegram-returning", "email")
CHANNEL_OF = {
    "console": "console",
    "telegram": "telegram",
    "telegram-returning": "telegram",
    "email": "email",
}
# A Wednesday, 10:00 in Moscow: support is open, so no answer depends on the hour of the run.
START = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
MAX_TURNS = 25  # a chat customer gives up after this many turns
MAX_EMAILS = 6
MAIL_WAIT = 30.0  # seconds to wait for a message the desk queued to appear in the outbox folder

UNKNOWN = {"ru": "не знаю", "en": "I don't know"}
WHERE = {"ru": "где это смотреть?", "en": "where do I find that?"}
YES_NO = {"ru": ("да", "нет"), "en": ("yes", "no")}
NO_STEPS = re.compile(r"шаг\w*(?: воспроизведения)? нет|нет шагов|no steps", re.IGNORECASE)
SETUP_PROBLEM = {
    "ru": "Не приходят письма о регистрации новых пользователей.",
    "en": "New users get no registration e-mails.",
}

T = TypeVar("T")


# ------------------------------------------------------------------------ what was measured


@dataclass
class Play:
    """One customer in one channel, and what happened."""

    customer: Customer
    mode: str
    turns: int = 0
    filed: bool = False
    ticket_id: str | None = None
    critical_filed: bool | None = None
    guided: int = 0  # e-mail: guided replies before filing
    asked_again: list[str] = field(default_factory=list)  # fields / 4.2.6 questions re-asked
    critical_turn: int | None = None  # the turn whose reply asked whether the site is down
    first_reply_lang: str | None = None
    unhandled: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        self.transcript.append(line)


@dataclass
class Memory:
    """What the customer knows and has said so far in this play."""

    customer: Customer
    mail: MailFolder
    said: list[str] = field(default_factory=list)  # every message written
    answered: set[str] = field(default_factory=set)  # fields and questions answered on request
    wondered: set[str] = field(default_factory=set)  # fields asked "where do I find that?"

    def already_gave(self, topic: str) -> bool:
        """Whether an earlier message gave `topic` (a field or a 4.2.6 question id)."""
        return topic in self.answered or any(
            mentions(self.customer, topic, text) for text in self.said
        )


def mentions(c: Customer, topic: str, text: str) -> bool:
    """Whether `text` carries the customer's fact `topic`, as the customer writes it."""
    low = text.casefold()
    facts: dict[str, str | None] = {
        Field.DESCRIPTION: c.first if text == c.first else c.description,
        Field.SITE_URL: c.site,
        Field.VERSION: c.version,
        Field.COUPON: c.coupon,
        Field.CONTACT_EMAIL: c.email,
    }
    if topic == Field.STEPS:
        return (c.steps or "").casefold() in low if c.steps else bool(NO_STEPS.search(text))
    if topic == Field.EDITION:
        return c.edition is not None and any(
            re.search(rf"(?<!\w){re.escape(s)}(?!\w)", low) for s in edition_spellings(c.edition)
        )
    value = facts.get(topic) if topic in facts else c.details.get(topic)
    return bool(value) and str(value).casefold() in low


def edition_spellings(edition: str) -> list[str]:
    return [alias for alias, name in EDITION_ALIASES.items() if name == edition]


def language_of(text: str) -> str:
    """ "en" when a reply has more Latin than Cyrillic letters, else "ru" (addresses and quoted
    names, which keep their own script in either language, are not counted)."""
    prose = re.sub(r"\S+@\S+|https?://\S+|«[^»]*»|\S+\.(?:ru|рф|com|net|org)\b\S*", " ", text)
    latin = len(re.findall(r"[a-z]", prose, re.IGNORECASE))
    cyrillic = len(re.findall(r"[а-яё]", prose, re.IGNORECASE))
    return "en" if latin > cyrillic else "ru"


# --------------------------------------------------------- the customers' mailboxes (.eml)


class MailFolder:
    """The .eml files the desk's outbox writes without SMTP, read as the customers' mailboxes:
    verification codes by recipient, every message by its Message-ID."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.messages: dict[str, EmailMessage] = {}
        self.codes: dict[str, list[str]] = {}
        self._seen: set[str] = set()

    def scan(self) -> None:
        with contextlib.suppress(FileNotFoundError), os.scandir(self.folder) as entries:
            names = [e.name for e in entries if e.name.endswith(".eml") and e.name[0] != "."]
            for name in names:
                if name not in self._seen:
                    self._seen.add(name)
                    self._read(self.folder / name)

    def _read(self, path: Path) -> None:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages[str(message["Message-ID"]).strip()] = message
        if message["X-Frontdesk-Kind"] == "verification_code":
            code = re.search(r"\b(\d{6})\b", body_of(message))
            if code is not None:
                address = str(message["To"]).strip().lower()
                self.codes.setdefault(address, []).append(code.group(1))

    async def watch(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.02)

    async def code_for(self, address: str) -> str:
        """The newest code sent to `address` (taken: a second call waits for a new one)."""

        def take() -> str | None:
            codes = self.codes.get(address.lower())
            return codes.pop() if codes else None

        return await wait_for_value(take, f"a code for {address}")

    async def body(self, message_id: str) -> str:
        found = await wait_for_value(lambda: self.messages.get(message_id.strip()), message_id)
        return body_of(found)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


async def wait_for_value(find: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + MAIL_WAIT
    while (value := find()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing arrived: {what}")
        await asyncio.sleep(0.02)
    return value


# ------------------------------------------------------- the answering model for chats (rules)


@dataclass(frozen=True)
class Asked:
    """What the desk asks now, as the customer sees it: the replies of the last turn with their
    buttons, and the conversation's public state."""

    replies: tuple[Reply, ...]
    conversation: Conversation | None

    @property
    def options(self) -> tuple[Option, ...]:
        return next((r.options for r in reversed(self.replies) if r.options), ())

    @property
    def values(self) -> set[str]:
        return {o.value for o in self.options}

    @property
    def step(self) -> str:
        return self.conversation.step if self.conversation else ""

    @property
    def asking(self) -> str | None:
        return self.conversation.asking if self.conversation else None

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies if r.text)


Answer = Callable[[Asked, Memory], Awaitable[Event]]


@dataclass(frozen=True)
class Rule:
    kind: str
    applies: Callable[[Asked], bool]
    answer: Answer
    # The field or 4.2.6 question the desk asks for (counted when it was already given).
    topic: Callable[[Asked], str | None] = lambda asked: None


def press(asked: Asked, value: str, typed: str) -> Event:
    """The button with `value` when the desk shows one, else the same typed."""
    return ChoiceEvent(value) if value in asked.values else TextEvent(typed)


def fact(c: Customer, name: str) -> str | None:
    """The customer's value of a 4.2 field, None when they do not know it."""
    return {
        Field.DESCRIPTION: c.first,
        Field.STEPS: c.steps,
        Field.SITE_URL: c.site,
        Field.EDITION: c.edition,
        Field.VERSION: c.version,
        Field.COUPON: c.coupon,
        Field.CONTACT_EMAIL: c.email,
    }.get(name)


def field_text(memory: Memory, name: str) -> str:
    """What the customer writes when asked for field `name`."""
    c = memory.customer
    if name in c.where_first and name not in memory.wondered:
        memory.wondered.add(name)
        return WHERE[c.lang]
    value = fact(c, name)
    if value is None:
        return UNKNOWN[c.lang]
    if name == Field.EDITION and c.lang == "en":
        return EDITION_NAMES_EN.get(value, value)
    return value


async def answer_field(asked: Asked, memory: Memory) -> Event:
    name = asked.asking or ""
    typed = field_text(memory, name)
    if typed == WHERE[memory.customer.lang]:
        return TextEvent(typed)
    value = fact(memory.customer, name)
    button = "unknown" if value is None else value
    return press(asked, button, typed)


async def answer_code(asked: Asked, memory: Memory) -> Event:
    conversation = asked.conversation
    address = (conversation.verify_address if conversation else None) or memory.customer.email
    return TextEvent(await memory.mail.code_for(address))


async def answer_critical(asked: Asked, memory: Memory) -> Event:
    c = memory.customer
    yes, no = YES_NO[c.lang]
    return press(asked, "yes", yes) if c.critical else press(asked, "no", no)


async def send_as(asked: Asked, memory: Memory) -> Event:
    """The summary asks 2.2 by its send buttons: "Send" (as critical) or "the site works"."""
    if memory.customer.critical:
        return press(asked, "send", {"ru": "отправить", "en": "send"}[memory.customer.lang])
    works = {"ru": "сайт работает, отправить", "en": "the site works, send"}
    return press(asked, "send_works", works[memory.customer.lang])


async def answer_category(asked: Asked, memory: Memory) -> Event:
    c = memory.customer
    return press(asked, c.category, texts.category_name(c.category, c.lang))


async def rephrase(asked: Asked, memory: Memory) -> Event:
    """4.8.11: the polite wording when the customer has one, else "send as it is"."""
    c = memory.customer
    return TextEvent(c.rephrase) if c.rephrase else press(asked, "keep", "отправить как есть")


def pressing(value: str, typed: dict[str, str]) -> Answer:
    async def answer(asked: Asked, memory: Memory) -> Event:
        return press(asked, value, typed[memory.customer.lang])

    return answer


async def new_request(asked: Asked, memory: Memory) -> Event:
    """The desk took the message as an addition to the earlier (closed) ticket: start anew."""
    return CommandEvent("new")


def at(step: str) -> Callable[[Asked], bool]:
    return lambda asked: asked.step == step


# First match wins: consent and the code come before the dialog's own steps.
RULES: tuple[Rule, ...] = (
    Rule(
        "consent",
        lambda a: "consent_yes" in a.values,
        pressing("consent_yes", {"ru": "Согласен", "en": "I agree"}),
    ),
    Rule("e-mail code", lambda a: "resend_code" in a.values, answer_code),
    Rule("new request", at("filed"), new_request),
    Rule(
        "closed ticket",
        at("reopen"),
        pressing("new_request", {"ru": "это новый вопрос", "en": "it is a new question"}),
    ),
    Rule("rephrase", lambda a: "keep" in a.values, rephrase),
    Rule("field", at("ask"), answer_field, topic=lambda a: a.asking),
    Rule("split", at("split"), pressing("split_no", {"ru": "нет", "en": "no"})),
    Rule("category", at("category"), answer_category),
    Rule("critical", at("critical"), answer_critical),
    Rule("similar ticket", at("similar"), pressing("similar_no", {"ru": "нет", "en": "no"})),
    Rule("summary with 2.2", lambda a: a.step == "confirm" and "send_works" in a.values, send_as),
    Rule("summary", at("confirm"), pressing("send", {"ru": "отправить", "en": "send"})),
)


def rule_for(asked: Asked) -> Rule | None:
    return next((rule for rule in RULES if rule.applies(asked)), None)


# --------------------------------------------------------------------------- chat channels


class Chat:
    """One customer talking to the desk in a chat channel (console or Telegram)."""

    def __init__(
        self, desk: Desk, play: Play, memory: Memory, user: str, *, counted: bool = True
    ) -> None:
        self.desk, self.play, self.memory, self.user = desk, play, memory, user
        self.channel = CHANNEL_OF[play.mode]
        self.counted = counted
        self.lang_hint = memory.customer.lang if play.mode.startswith("telegram") else None
        self.known: set[str] = set()

    async def run(self, *, opening: Event | None) -> None:
        """`opening`: the channel's own first event (/start), not a turn; without one the
        customer's first message opens the conversation."""
        c = self.memory.customer
        self.known = {t.id for t in await self.desk.tickets_of(self.channel, self.user)}
        asked = await self.send(opening, counted=False) if opening else await self.first()
        while self.play.turns < MAX_TURNS and not await self.filed():
            rule = rule_for(asked)
            if rule is None:
                fallback = self.unhandled(asked)
                if fallback is None:
                    return
                asked = await self.send(fallback)
                continue
            topic = rule.topic(asked)
            if topic and self.memory.already_gave(topic):
                self.play.asked_again.append(topic)
            asks_2_2 = rule.kind in ("critical", "summary with 2.2")
            if asks_2_2 and self.play.critical_turn is None:
                self.play.critical_turn = self.play.turns
            if rule.kind == "field" and topic == Field.DESCRIPTION and not self.memory.said:
                asked = await self.first()
                continue
            event = await rule.answer(asked, self.memory)
            if topic and not (isinstance(event, TextEvent) and event.text == WHERE[c.lang]):
                self.memory.answered.add(topic)
            self.play.note(f"{self.play.turns + 1:>3} [{rule.kind}] {describe(event)}")
            asked = await self.send(event)

    async def first(self) -> Asked:
        c = self.memory.customer
        self.play.note(f"{self.play.turns + 1:>3} [first message] {describe(TextEvent(c.first))}")
        asked = await self.send(TextEvent(c.first))
        if self.counted and self.play.first_reply_lang is None:
            self.play.first_reply_lang = language_of(asked.text)
        return asked

    async def send(self, event: Event, *, counted: bool = True) -> Asked:
        if counted and self.counted:
            self.play.turns += 1
        if isinstance(event, TextEvent):
            self.memory.said.append(event.text)
        replies = await self.desk.handle(self.channel, self.user, event, lang_hint=self.lang_hint)
        conversation = await self.desk.conversation(self.channel, self.user)
        return Asked(tuple(replies), conversation)

    async def filed(self) -> bool:
        tickets = await self.desk.tickets_of(self.channel, self.user)
        new = [t for t in tickets if t.id not in self.known]
        if not new:
            return False
        self.play.filed, self.play.ticket_id = True, new[0].id
        self.play.critical_filed = new[0].classification.critical
        return True

    def unhandled(self, asked: Asked) -> Event | None:
        """No rule for this question: counted; the first button is pressed, if there is one."""
        excerpt = " ".join(asked.text.split())[:160]
        self.play.unhandled.append(
            f"turn {self.play.turns}: step={asked.step} asking={asked.asking}: {excerpt}"
        )
        options = asked.options
        return ChoiceEvent(options[0].value) if options else None


def describe(event: Event) -> str:
    if isinstance(event, TextEvent):
        return " ".join(event.text.split())[:100]
    if isinstance(event, ChoiceEvent):
        return f"(button {event.value})"
    if isinstance(event, CommandEvent):
        return f"/{event.name}"
    return type(event).__name__


async def play_chat(app: App, play: Play, memory: Memory, user: str) -> None:
    """A new customer: the channel opens with /start (the console chat's greeting, Telegram's
    Start button), which is not the customer's turn."""
    await Chat(app.desk, play, memory, user).run(opening=CommandEvent("start"))


async def play_returning(app: App, play: Play, memory: Memory, user: str) -> None:
    """An earlier ticket of the same customer (consent given, address verified), filed in a
    session that is not counted and closed by an agent; then this problem, written straight
    away as a returning customer does."""
    earlier = Play(setup_customer(play.customer), "telegram")
    setup = Memory(earlier.customer, memory.mail)
    await Chat(app.desk, earlier, setup, user, counted=False).run(opening=CommandEvent("start"))
    ticket = await app.desk.store.get_ticket(earlier.ticket_id) if earlier.ticket_id else None
    if ticket is None:
        play.unhandled.append(f"the earlier ticket was not filed: {earlier.unhandled}")
        return
    await app.desk.agent_answer(ticket, "Исправили настройки почты, проверьте.", closing=True)
    await Chat(app.desk, play, memory, user).run(opening=None)


def setup_customer(c: Customer) -> Customer:
    """The same customer with an earlier, unrelated problem written in one message."""
    edition = c.edition and (
        EDITION_NAMES_EN.get(c.edition, c.edition) if c.lang == "en" else c.edition
    )
    labels = ("site", "edition", "version", "coupon", "e-mail") if c.lang == "en" else (
        "сайт", "редакция", "версия", "купон", "почта"
    )  # fmt: skip
    values = (c.site, edition, c.version, c.coupon, c.email)
    parts = [f"{label} {value}" for label, value in zip(labels, values, strict=True) if value]
    problem = SETUP_PROBLEM[c.lang]
    return replace(
        c,
        name=f"{c.name} (earlier)",
        first=f"{problem} {', '.join(parts)}",
        description=problem,
        category="error",
        steps=None,
        critical=False,
        details={},
        where_first=(),
        rephrase=None,
    )


# ------------------------------------------------------------------------------- e-mail


@dataclass(frozen=True)
class FormRow:
    """A line of the guided e-mail's form ("Label: ") the customer knows how to fill in."""

    kind: str
    labels: frozenset[str]  # casefolded
    answer: Callable[[Memory], str]
    topic: str | None = None


def _field_row(name: Field) -> FormRow:
    labels = {texts.form_label(name, lang) for lang in texts.LANGS}
    labels |= {texts.field_label(name, lang) for lang in texts.LANGS}

    def answer(memory: Memory) -> str:
        if name == Field.DESCRIPTION:
            return memory.customer.description
        return field_text(memory, name)

    return FormRow("field", frozenset(x.casefold() for x in labels), answer, topic=name.value)


def _category_text(memory: Memory) -> str:
    c = memory.customer
    return texts.category_name(c.category, c.lang)


def _critical_text(memory: Memory) -> str:
    c = memory.customer
    yes, no = YES_NO[c.lang]
    return yes if c.critical else no


FORM_ROWS: tuple[FormRow, ...] = (
    *(_field_row(name) for name in FIELD_ORDER),
    FormRow("category", frozenset(x.casefold() for x in CATEGORY_LABEL.values()), _category_text),
    FormRow("critical", frozenset(x.casefold() for x in CRITICAL_LABEL.values()), _critical_text),
)
BLANK_LINE = re.compile(r"^\s*([^:\n]{2,80}?)\s*:\s*$")


def form_blocks(body: str) -> list[list[str]]:
    """Runs of consecutive "Label:" lines with nothing after the colon (the form to fill)."""
    blocks: list[list[str]] = [[]]
    for line in body.splitlines():
        match = BLANK_LINE.match(line)
        if match:
            blocks[-1].append(match.group(1))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def row_for(label: str) -> FormRow | None:
    return next((row for row in FORM_ROWS if label.casefold() in row.labels), None)


class EmailCustomer:
    """One customer writing to the front-desk mailbox and answering the guided replies."""

    def __init__(self, channel: EmailChannel, settings: Settings, play: Play, memory: Memory):
        self.channel, self.settings, self.play, self.memory = channel, settings, play, memory
        self.customer = memory.customer

    async def run(self) -> None:
        c = self.customer
        text, subject, answering = c.first, subject_of(c), None
        while self.play.turns < MAX_EMAILS:
            outcome = await self.write(subject, text, answering)
            if outcome is None:
                self.play.unhandled.append(f"e-mail {self.play.turns}: no outcome recorded")
                return
            body = await self.memory.mail.body(outcome.sent[0]) if outcome.sent else ""
            if self.play.first_reply_lang is None:
                self.play.first_reply_lang = language_of(body)
            if outcome.kind == "filed":
                await self.filed(outcome)
                return
            if outcome.kind != "guided":
                self.play.unhandled.append(
                    f"e-mail {self.play.turns}: {outcome.kind} {outcome.reason}"
                )
                return
            self.play.guided += 1
            answer = self.fill(body)
            if answer is None:
                return
            text, subject, answering = answer, f"Re: {subject}", outcome.sent[0]

    def fill(self, body: str) -> str | None:
        """The guided reply's form, filled in from the facts; None when there is none to fill.
        A message held back for its wording (4.8.11) is answered as in a chat: the polite
        wording when the customer has one, else "send it as it is"."""
        c = self.customer
        keep = texts.choice_label("keep", c.lang)
        if f"«{keep}»" in body or f"“{keep}”" in body:
            return c.rephrase or keep
        block = next((b for b in form_blocks(body) if any(row_for(x) for x in b)), None)
        if block is None:
            excerpt = " ".join(body.split())[:160]
            self.play.unhandled.append(f"e-mail {self.play.turns}: no form to fill: {excerpt}")
            return None
        lines = []
        for label in block:
            row = row_for(label)
            if row is None:
                self.play.unhandled.append(f"e-mail {self.play.turns}: form line {label!r}")
                continue
            if row.topic and self.memory.already_gave(row.topic):
                self.play.asked_again.append(row.topic)
            if row.kind == "critical" and self.play.critical_turn is None:
                self.play.critical_turn = self.play.turns
            value = row.answer(self.memory)
            if row.topic and value != WHERE[self.customer.lang]:
                self.memory.answered.add(row.topic)
            lines.append(f"{label}: {value}")
        return "\n".join(lines)

    async def write(self, subject: str, text: str, answering: str | None) -> Outcome | None:
        self.play.turns += 1
        self.memory.said.append(text)
        self.play.note(f"{self.play.turns:>3} [e-mail] {' '.join(text.split())[:100]}")
        message_id = f"<turns-{self.play.turns}-{self.customer.name}@customers.example>"
        message = email_message(self.customer.email, self.settings.from_address, subject, text)
        message["Message-ID"] = message_id
        if answering:
            message["In-Reply-To"] = answering
            message["References"] = answering
        await self.channel.handle_raw(message.as_bytes())
        return next((o for mid, o in reversed(self.channel.recent) if mid == message_id), None)

    async def filed(self, outcome: Outcome) -> None:
        self.play.filed, self.play.ticket_id = True, outcome.ticket_id
        ticket = await self.channel.desk.store.get_ticket(outcome.ticket_id or "")
        self.play.critical_filed = ticket.classification.critical if ticket else None


def email_message(sender: str, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(START)
    message.set_content(text)
    return message


def subject_of(c: Customer) -> str:
    words = c.description.split()
    subject = " ".join(words[:8])
    return subject if len(words) <= 8 else subject + "…"


async def play_email(
    channel: EmailChannel, settings: Settings, play: Play, memory: Memory
) -> None:
    await EmailCustomer(channel, settings, play, memory).run()


# -------------------------------------------------------------------------------- the run


def pick_customers(count: int | None) -> list[Customer]:
    """The first `count` customers taking the groups in turn (a short run still covers several
    groups); all of them without a count."""
    by_group = [[c for c in CUSTOMERS if c.group == g] for g in GROUPS]
    order = [g[i] for i in range(max(map(len, by_group))) for g in by_group if i < len(g)]
    return order if count is None else order[:count]


async def play_all(customers: Sequence[Customer], modes: Sequence[str]) -> list[Play]:
    # The desk on its defaults, whatever the shell has set (the model's place excepted).
    names = [k for k in os.environ if k.startswith("FRONTDESK_") and k != "FRONTDESK_MODEL_DIR"]
    previous = {k: os.environ.pop(k) for k in names}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(_env_file=None, data_dir=Path(tmp))  # type: ignore[call-arg]
            return await play_in(settings, customers, modes)
    finally:
        os.environ.update(previous)


async def play_in(
    settings: Settings, customers: Sequence[Customer], modes: Sequence[str]
) -> list[Play]:
    started = time.monotonic()

    def clock() -> datetime:
        return START + timedelta(seconds=time.monotonic() - started)

    app = await build_app(settings, clock=clock)
    mail = MailFolder(settings.outbox_dir)
    watching = asyncio.create_task(mail.watch())
    # The channel counts its automatic replies with the desk's limiter (the guard's).
    email = EmailChannel(app.desk, settings, clock=clock)
    await email.start()
    plays: list[Play] = []
    try:
        # One channel at a time: the same customer (and e-mail address) in two channels at once
        # would read each other's codes.
        for mode in modes:
            batch = [Play(c, mode) for c in customers]

            async def one(n: int, play: Play, mode: str = mode) -> None:
                memory = Memory(play.customer, mail)
                user = f"{100_000 * (MODES.index(mode) + 1) + n}"
                if mode in ("console", "telegram"):
                    await play_chat(app, play, memory, user)
                elif mode == "telegram-returning":
                    await play_returning(app, play, memory, user)
                else:
                    await play_email(email, settings, play, memory)

            await asyncio.gather(*(one(n, play) for n, play in enumerate(batch)))
            plays += batch
    finally:
        watching.cancel()
        await email.close()
        await app.drain_outbox(10)
        await app.close()
    return plays


# ----------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Row:
    group: str
    channel: str
    customers: int
    filed: int
    turns_median: float | None
    turns_max: int | None
    guided_median: float | None
    guided_max: int | None
    asked_again: int
    critical_customers: int
    critical_turn_median: float | None
    critical_turn_max: int | None
    critical_never: int  # critical customers never asked whether the site is down
    critical_filed: int  # critical customers whose ticket was filed as critical
    first_reply_in_language: int
    unhandled: int


def critical_settled_at(play: Play) -> int | None:
    """The turn by which the 2.2 question was settled: asked, or (a complete e-mail, which is
    filed at once) decided from the text in the first reply, critical, with a note."""
    if play.critical_turn is not None:
        return play.critical_turn
    if play.mode == "email" and play.filed and play.guided == 0 and play.critical_filed:
        return play.turns
    return None


def summarise(group: str, channel: str, plays: Sequence[Play]) -> Row:
    filed = [p for p in plays if p.filed]
    turns = [p.turns for p in filed]
    emails = [p.guided for p in filed if p.mode == "email"]
    critical = [p for p in plays if p.customer.critical]
    asked = [turn for p in critical if (turn := critical_settled_at(p)) is not None]
    return Row(
        group=group,
        channel=channel,
        customers=len(plays),
        filed=len(filed),
        turns_median=statistics.median(turns) if turns else None,
        turns_max=max(turns) if turns else None,
        guided_median=statistics.median(emails) if emails else None,
        guided_max=max(emails) if emails else None,
        asked_again=sum(len(p.asked_again) for p in plays),
        critical_customers=len(critical),
        critical_turn_median=statistics.median(asked) if asked else None,
        critical_turn_max=max(asked) if asked else None,
        critical_never=len(critical) - len(asked),
        critical_filed=sum(1 for p in critical if p.critical_filed),
        first_reply_in_language=sum(1 for p in plays if p.first_reply_lang == p.customer.lang),
        unhandled=sum(len(p.unhandled) for p in plays),
    )


def rows_of(plays: Sequence[Play], modes: Sequence[str]) -> list[Row]:
    rows = []
    for group in GROUPS:
        for mode in modes:
            chosen = [p for p in plays if p.customer.group == group and p.mode == mode]
            if chosen:
                rows.append(summarise(group, mode, chosen))
    return rows


def number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def pair(median: float | None, top: int | None) -> str:
    return "—" if median is None else f"{number(median)}/{top}"


COLUMNS = (
    ("group", 9), ("channel", 19), ("cust", 5), ("filed", 6), ("turns med/max", 14),
    ("guided med/max", 15), ("asked again", 12), ("crit.q turn med/max", 20),
    ("crit filed", 11), ("1st reply in lang", 18), ("unhandled", 9),
)  # fmt: skip


def row_cells(row: Row) -> list[str]:
    critical = "—"
    if row.critical_customers:
        critical = pair(row.critical_turn_median, row.critical_turn_max)
        if row.critical_never:
            critical += f" +{row.critical_never} never"
    return [
        row.group,
        row.channel,
        str(row.customers),
        str(row.filed),
        pair(row.turns_median, row.turns_max),
        pair(row.guided_median, row.guided_max) if row.channel == "email" else "—",
        str(row.asked_again),
        critical,
        f"{row.critical_filed}/{row.critical_customers}" if row.critical_customers else "—",
        f"{row.first_reply_in_language}/{row.customers}",
        str(row.unhandled),
    ]


def table(rows: Sequence[Row], total: Row) -> str:
    lines = ["  ".join(name.ljust(width) for name, width in COLUMNS)]
    for row in [*rows, total]:
        if row is total:
            lines.append("-" * len(lines[0]))
        lines.append(
            "  ".join(c.ljust(w) for c, (_, w) in zip(row_cells(row), COLUMNS, strict=True))
        )
    return "\n".join(lines)


# -------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A figure the desk is meant to reach, measured over some of the plays."""

    label: str
    selects: Callable[[Play], bool]
    measure: Callable[[list[Play]], float]  # inf when a play never got there
    limit: float


def max_turns(plays: list[Play]) -> float:
    return max((p.turns if p.filed else float("inf")) for p in plays)


def median_turns(plays: list[Play]) -> float:
    return statistics.median((p.turns if p.filed else float("inf")) for p in plays)


def max_guided(plays: list[Play]) -> float:
    return max((p.guided if p.filed else float("inf")) for p in plays)


def latest_critical_question(plays: list[Play]) -> float:
    settled = (critical_settled_at(p) for p in plays)
    return max(float("inf") if turn is None else turn for turn in settled)


def asked_again(plays: list[Play]) -> float:
    return sum(len(p.asked_again) for p in plays)


def not_in_language(plays: list[Play]) -> float:
    return sum(1 for p in plays if p.first_reply_lang != p.customer.lang)


def of(group: str | None, mode: str | None = None) -> Callable[[Play], bool]:
    return lambda p: (
        (group is None or p.customer.group == group) and (mode is None or p.mode == mode)
    )


# Turns a new Telegram customer spends that no other channel asks for: the personal-data consent
# (a button) and the code e-mailed to the contact address (nobody files in someone else's name).
# The paste target counts them the same way: 2 turns elsewhere, 4 for a new Telegram customer.
IDENTITY_TURNS = {"telegram": 2}


def targets(modes: Sequence[str]) -> list[Target]:
    chats = [m for m in modes if m != "email"]

    def turns(group: str, mode: str, what: str, measure: Callable[[list[Play]], float]) -> Target:
        extra = IDENTITY_TURNS.get(mode, 0)
        label = f"{group}, {mode}: {what}" + (f" (8 + {extra}: consent, code)" if extra else "")
        return Target(label, of(group, mode), measure, 8 + extra)

    return [
        Target("paste, console: max turns (message + Send)", of("paste", "console"), max_turns, 2),
        Target(
            "paste, telegram new: max turns (consent, message, code, Send)",
            of("paste", "telegram"),
            max_turns,
            4,
        ),
        Target(
            "paste, telegram returning: max turns", of("paste", "telegram-returning"), max_turns, 2
        ),
        Target("paste, e-mail: max guided replies", of("paste", "email"), max_guided, 0),
        *(turns("terse", m, "median turns", median_turns) for m in modes),
        *(turns("down", m, "max turns", max_turns) for m in modes),
        *(
            Target(
                f"down, {m}: latest turn of the critical question",
                of("down", m),
                latest_critical_question,
                2,
            )
            for m in modes
        ),
        Target("all: information asked for again", of(None), asked_again, 0),
        *(
            Target(
                f"English speakers, {m}: first replies not in English",
                lambda p, m=m: p.customer.lang == "en" and p.mode == m,
                not_in_language,
                0,
            )
            for m in [*chats, *(["email"] if "email" in modes else [])]
        ),
    ]


def target_lines(plays: Sequence[Play], modes: Sequence[str]) -> list[dict[str, Any]]:
    results = []
    for target in targets(modes):
        chosen = [p for p in plays if target.selects(p)]
        if not chosen:
            continue
        value = target.measure(chosen)
        results.append(
            {
                "target": target.label,
                "value": value,
                "limit": target.limit,
                "met": value <= target.limit,
            }
        )
    return results


def report(
    plays: Sequence[Play], modes: Sequence[str], seconds: float, verbose: bool
) -> dict[str, Any]:
    rows = rows_of(plays, modes)
    total = summarise("total", "all", plays)
    goals = target_lines(plays, modes)
    if verbose:
        for play in plays:
            print(f"\n{play.customer.name} · {play.mode}: {play.turns} turns, filed={play.filed}")
            print("\n".join(play.transcript))
    print(table(rows, total))
    print("\nTargets")
    for goal in goals:
        verdict = "ok" if goal["met"] else "MISS"
        value, limit = number(goal["value"]), number(goal["limit"])
        print(f"  {verdict:<4}  {goal['target']}: {value} (target ≤ {limit})")
    again = [
        f"{p.customer.name} · {p.mode}: {', '.join(p.asked_again)}" for p in plays if p.asked_again
    ]
    if again:
        print("\nAsked for again")
        print("\n".join(f"  {line}" for line in again))
    unhandled = [f"{p.customer.name} · {p.mode}: {u}" for p in plays for u in p.unhandled]
    print(f"\nUnhandled questions: {len(unhandled)}")
    print("\n".join(f"  {line}" for line in unhandled))
    print(f"\n{len(plays)} plays in {seconds:.1f} s")
    return {
        "rows": [asdict(r) for r in rows],
        "total": asdict(total),
        "targets": [{**g, "value": _finite(g["value"])} for g in goals],
        "unhandled": unhandled,
        "plays": [_play_json(p) for p in plays],
        "seconds": round(seconds, 1),
    }


def _finite(value: float) -> float | None:
    return None if value == float("inf") else value


def _play_json(play: Play) -> dict[str, Any]:
    data = asdict(play)
    data["customer"] = play.customer.name
    data["group"] = play.customer.group
    return data


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--customers", type=int, help="play only the first N customers (groups in turn)"
    )
    parser.add_argument(
        "--channel", action="append", choices=MODES, help="only this channel (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--verbose", action="store_true", help="print every dialog, turn by turn")
    args = parser.parse_args(list(argv) if argv is not None else None)
    modes = [m for m in MODES if not args.channel or m in args.channel]
    customers = pick_customers(args.customers)
    began = time.perf_counter()
    plays = asyncio.run(play_all(customers, modes))
    figures = report(plays, modes, time.perf_counter() - began, args.verbose)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
