"""Helpers more than one test module needs.

- The intake core in unit tests: `keyword_context` (the production wiring around the keyword
  classifier stub of tests/classifier_stub.py, built once) and `talk` (events played in order).
- Walking a dialog through its gates, the buttons between the fields and the summary (category,
  critical, question, kb, split, similar): `through_gates` in the core, `file_request` through
  the desk, `until_send` through the Telegram test server (and `no_more_messages` there).
- Tickets and the outbox: `make_ticket`, `renderer`, `file_tickets`, `Recorder`, and
  `wait_until` for anything that happens in the background.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, cast

from bot.app import intake_context
from bot.config import Settings
from bot.intake import machine, texts
from bot.intake.conversation import Conversation, Turn
from bot.intake.events import ChoiceEvent, Event, FileTicket, Reply, TextEvent
from bot.intake.machine import IntakeContext
from bot.policy.schedule import Schedule
from bot.tickets.model import Classification, Ticket
from bot.tickets.render import render_ticket
from bot.tickets.store import OutboxRow, Store
from tests.classifier_stub import KeywordClassifier

if TYPE_CHECKING:
    from bot.app import App
    from classifier import Classifier
    from tests.servers.botapi import BotApiServer

# A Wednesday, 12:00 in Moscow: support is working (2.1).
WORKING_HOURS = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


# ------------------------------------------------------------------ the intake core in unit tests


@functools.cache
def keyword_context() -> IntakeContext:
    """The core's context for unit tests: what production wires (`bot.app.intake_context`:
    questions 4.2.6, documentation 1.3, several problems 2.6, open tickets 2.5, working hours,
    scope explanations) with the keyword classifier stub instead of the trained model, and no
    coupon registry (only the coupon's format is checked, 4.2.5). Built once; adjust a copy
    with `dataclasses.replace`."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    # Duck-typed: the wiring calls only `predict` and `category_probabilities`.
    stub = cast("Classifier", KeywordClassifier())
    context = intake_context(settings, stub, Schedule.from_settings(settings), channel="test")
    return replace(context, coupon_check=lambda coupon, edition, today: None)


def talk(
    context: IntakeContext,
    *events: Event,
    state: Conversation | None = None,
    now: datetime = WORKING_HOURS,
) -> Turn:
    """Hand `events` to the core one after another, from `state` (a new conversation when
    None); the last turn."""
    assert events, "nothing to say"
    state = state or machine.new_conversation()
    for event in events:
        turn = machine.handle(state, event, now, context)
        state = turn.state
    return turn


def filed_ticket(turn: Turn) -> Ticket:
    """The ticket `turn` files: its one effect."""
    (effect,) = turn.effects
    assert isinstance(effect, FileTicket), effect
    return effect.ticket


def through_gates(
    context: IntakeContext,
    step: Turn,
    answers: Mapping[str, str],
    now: datetime,
    until: str | None = None,
) -> Turn:
    """Answer each gate (in the core state machine) with `answers[step]`.

    With `until`, stop there and fail on any step without an answer; without it, stop at the
    first step without an answer (the summary, usually)."""
    for _ in range(20):
        if until is not None and step.state.step == until:
            return step
        answer = answers.get(step.state.step)
        if answer is None:
            if until is None:
                return step
            raise AssertionError(f"unexpected step {step.state.step}: {step.replies[-1].text}")
        step = machine.handle(step.state, ChoiceEvent(answer), now, context)
    raise AssertionError(f"no progress, stuck at {step.state.step}")


# ------------------------------------------------------------------ the same through the desk

# No to the documentation (1.3) and to "the same problem as your open ticket" (2.5): a request
# walked through the desk is filed as a new ticket.
DECLINED = {"kb": "kb_no", "similar": "similar_no"}


async def file_request(app: App, user: str, text: str) -> list[Reply]:
    """Send `text` as `user` of channel "test" to the desk, answer each question with its first
    option (`DECLINED` where that would not file a new ticket) and Send on the summary, until
    the ticket is filed; the replies to the last event."""
    replies = await app.desk.handle("test", user, TextEvent(text))
    for _ in range(15):
        conversation = await app.desk.conversation("test", user)
        assert conversation is not None
        if conversation.step == "filed":
            return replies
        step = conversation.step
        answer = "send" if step == "confirm" else DECLINED.get(step, replies[-1].options[0].value)
        replies = await app.desk.handle("test", user, ChoiceEvent(answer))
    raise AssertionError(f"not filed: {replies[-1].text if replies else ''}")


# ------------------------------------------------------------------ the same through Telegram

Pick = Callable[[list[str]], str | None]  # the button labels of a question -> the one to press


def clarifying(labels: list[str]) -> str | None:
    """Category "error", "no" (site down), "skip" (a question): the narrowest answers."""
    wanted = (
        texts.category_name("error", "ru"),
        texts.choice_label("no", "ru"),
        texts.choice_label("skip", "ru"),
    )
    return next((label for label in wanted if label in labels), None)


def first_but_declines(labels: list[str]) -> str | None:
    """The first option, except "no" to the documentation (1.3) and to "the same problem as
    your open ticket" (2.5)."""
    declines = (x for x in labels if x.startswith(("Не помогло", "Нет, это")))
    return next(declines, labels[0] if labels else None)


async def until_send(
    botapi: BotApiServer, user: int, message: dict[str, Any], pick: Pick = clarifying
) -> dict[str, Any]:
    """Press `pick`'s button on each question the bot asks `user` until the message with the
    Send button comes; return that message (Send not pressed)."""
    send = texts.choice_label("send", "ru")
    for _ in range(12):
        labels = dict(botapi.buttons(message))
        if send in labels:
            return message
        label = pick(list(labels))
        assert label is not None, f"unexpected question: {message.get('text')!r} {labels}"
        botapi.user_click(user, message["message_id"], labels[label])
        [message] = await botapi.wait_bot_messages(user)
    raise AssertionError("no summary with Send")


async def no_more_messages(botapi: BotApiServer, user: int) -> None:
    """Fail if the bot sends `user` anything more for the updates it has had so far.

    No pause needed: the bot handles one update per user at a time, in order, so once its
    answer to a /help sent now has come, everything it had to say before has been sent."""
    botapi.user_command(user, "/help")
    [reply] = await botapi.wait_bot_messages(user)
    assert "/new" in reply.get("text", ""), f"more came first: {reply.get('text')!r}"
    assert botapi.pending_bot_messages(user) == []


# ------------------------------------------------------------------ tickets and the outbox


def make_ticket(number: int = 1, *, critical: bool = False, **fields: Any) -> Ticket:
    """A complete ticket as the core files it (no id yet): request `number` of customer "u1"
    in channel "test", a product error (3.4.1.1). Any other `Ticket` field can be given."""
    values: dict[str, Any] = {
        "channel": "test",
        "customer_id": "u1",
        "lang": "ru",
        "description": f"Обращение номер {number}: не открывается корзина после обновления",
        "site_url": "https://shop.example.com/",
        "contact_email": "ivan@example.com",
        "classification": Classification("error", True, "3.4.1.1", critical, 0.9),
        "created_at": WORKING_HOURS,
        "version": "24.0.0",
    }
    return Ticket(**(values | fields))


def renderer(settings: Settings) -> Callable[[Ticket], EmailMessage]:
    """The production ticket e-mail, as the store's `create_ticket` wants it."""
    return functools.partial(render_ticket, settings=settings)


async def file_tickets(store: Store, settings: Settings, count: int) -> list[str]:
    """File `count` tickets (`make_ticket` 1, 2, …) through the store; their ids."""
    ids = []
    for number in range(1, count + 1):
        ticket = await store.create_ticket(
            make_ticket(number), renderer(settings), datetime.now(UTC)
        )
        ids.append(ticket.id)
    return ids


class Recorder:
    """Collects what the outbox reports: delivered rows (`notify`) and failures (`alert`)."""

    def __init__(self) -> None:
        self.delivered: list[OutboxRow] = []
        self.failed: list[tuple[OutboxRow, str]] = []

    async def notify(self, row: OutboxRow) -> None:
        self.delivered.append(row)

    async def alert(self, row: OutboxRow, error: str) -> None:
        self.failed.append((row, error))


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], within: float = 60.0, step: float = 0.05
) -> None:
    """Return as soon as `condition` (plain or async) holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        holds = condition()
        if inspect.isawaitable(holds):
            holds = await holds
        if holds:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within} s")
        await asyncio.sleep(step)
