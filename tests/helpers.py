"""Helpers more than one test module needs: walking a dialog through its gates (the buttons
between the fields and the summary: category, critical, question, kb, split, similar)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.intake import machine, texts
from bot.intake.events import ChoiceEvent
from bot.intake.machine import IntakeContext, Step

if TYPE_CHECKING:
    from tests.servers.botapi import BotApiServer


def through_gates(
    context: IntakeContext,
    step: Step,
    answers: Mapping[str, str],
    now: datetime,
    until: str | None = None,
) -> Step:
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
