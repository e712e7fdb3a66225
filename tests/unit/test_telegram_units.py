"""Unit tests of the Telegram channel's pure parts: rendering, callback signing, flood limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.types import Update

from bot.channels.telegram.agents import announcement
from bot.channels.telegram.callbacks import MAX_CALLBACK_BYTES, CallbackSigner, derive_key
from bot.channels.telegram.middlewares import InFlight, RateLimitMiddleware
from bot.channels.telegram.render import MAX_MESSAGE, coalesce, escape, render, split_text
from bot.intake.events import Option, Reply
from bot.replicas.locks import LocalLocks

SIGNER = CallbackSigner(derive_key("1:token"))


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 4096, ["short"]),
        ("aaaa bbbb cccc", 9, ["aaaa", "bbbb cccc"]),
        ("para one\n\npara two", 12, ["para one", "para two"]),
        ("x" * 10, 4, ["xxxx", "xxxx", "xx"]),
        ("<<<<", 8, ["<<", "<<"]),  # measured after escaping: "&lt;" is 4 characters
    ],
)
def test_split_text(text: str, limit: int, expected: list[str]) -> None:
    assert split_text(text, limit) == expected


def test_long_reply_is_split_and_keyboard_goes_last() -> None:
    text = ("Строка с <тегом> & амперсандом.\n" * 400).strip()
    messages = render(Reply(text, (Option("send", "Отправить"),)), lambda v: "sig" + v)
    assert len(messages) > 1
    assert all(len(m.html) <= 4096 for m in messages)
    assert "&lt;тегом&gt; &amp;" in messages[0].html
    assert [m.markup is not None for m in messages] == [False] * (len(messages) - 1) + [True]


def test_replies_without_buttons_are_coalesced_into_one_message() -> None:
    replies = [
        Reply("Спасибо! Согласие записано."),
        Reply("Здравствуйте!"),
        Reply("Опишите <всё>"),
    ]
    [joined] = coalesce(replies)
    assert joined == Reply("Спасибо! Согласие записано.\n\nЗдравствуйте!\n\nОпишите <всё>")
    [message] = render(joined, lambda v: "sig" + v)
    assert message.html == "Спасибо! Согласие записано.\n\nЗдравствуйте!\n\nОпишите &lt;всё&gt;"
    assert message.markup is None
    assert coalesce([Reply("  a \n"), Reply(""), Reply("b")]) == [Reply("a\n\nb")]
    assert coalesce([]) == []


def test_a_reply_with_buttons_ends_a_group_and_keeps_its_buttons() -> None:
    yes, no = Option("yes", "Да"), Option("no", "Нет")
    replies = [Reply("Файл приложен."), Reply("Сайт лежит?", (yes, no)), Reply("Ещё"), Reply("")]
    assert coalesce(replies) == [Reply("Файл приложен.\n\nСайт лежит?", (yes, no)), Reply("Ещё")]
    # A reply with buttons is never joined to the next one: its buttons belong to its own text
    assert coalesce([Reply("A", (yes,)), Reply("B", (no,))]) == [
        Reply("A", (yes,)),
        Reply("B", (no,)),
    ]
    # Buttons with no text of their own go on the text before them
    assert coalesce([Reply("Выберите:"), Reply("", (yes, no))]) == [Reply("Выберите:", (yes, no))]
    messages = render(coalesce(replies)[0], lambda v: "sig" + v)
    assert [m.markup is not None for m in messages] == [True]
    labels = [b.text for row in messages[0].markup.inline_keyboard for b in row]  # type: ignore[union-attr]
    assert labels == ["Да", "Нет"]


def test_an_over_long_group_is_split_at_the_limit() -> None:
    # Measured after escaping: "<" is 4 characters in the message
    first, second, third = "a" * 2000, "<" * 600, "c" * 100
    assert (
        len(first) + 2 + len(second) <= MAX_MESSAGE < len(escape(first)) + 2 + len(escape(second))
    )
    groups = coalesce([Reply(first), Reply(second), Reply(third)])
    assert groups == [Reply(first), Reply(second + "\n\n" + third)]
    # Exactly at the limit is still one message, one character more is two
    fits = "b" * (MAX_MESSAGE - 2 - 2000)
    assert coalesce([Reply(first), Reply(fits)]) == [Reply(first + "\n\n" + fits)]
    assert coalesce([Reply(first), Reply(fits + "b")]) == [Reply(first), Reply(fits + "b")]
    # A single reply longer than the limit stays alone and is split by `render` as before
    long = "слово " * 1000
    groups = coalesce([Reply("Итог:"), Reply(long, (Option("send", "Отправить"),)), Reply("x")])
    assert [g.text for g in groups] == ["Итог:", long.strip(), "x"]
    messages = [m for g in groups for m in render(g, lambda v: "sig" + v)]
    assert len(messages) == 4 and all(len(m.html) <= MAX_MESSAGE for m in messages)
    assert [m.markup is not None for m in messages] == [False, False, True, False]


def test_signed_callback_round_trip_and_forgery() -> None:
    data = SIGNER.pack(1, "send")
    assert SIGNER.unpack(1, data).value == "send"  # type: ignore[union-attr]
    assert SIGNER.unpack(2, data) is None  # another user's button
    assert SIGNER.unpack(1, data[:-1] + "x") is None
    assert SIGNER.unpack(1, "=send") is None
    assert CallbackSigner(derive_key("2:other")).unpack(1, data) is None  # another bot's key


def test_long_values_fit_the_limit() -> None:
    value = "Корпоративный портал — Энтерпрайз"
    data = SIGNER.pack(7, value)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert SIGNER.unpack(7, data).value == value  # type: ignore[union-attr]
    forgetful = CallbackSigner(derive_key("1:token"))  # after a restart: genuine, value unknown
    verified = forgetful.unpack(7, data)
    assert verified is not None and verified.value is None


def test_rate_limit_warns_once_per_flood_and_refills() -> None:
    now = [0.0]
    limiter = RateLimitMiddleware(burst=3, rate=1.0, clock=lambda: now[0])
    decisions = [limiter._allow(1) for _ in range(6)]
    assert decisions == [(True, False)] * 3 + [(False, True), (False, False), (False, False)]
    assert limiter._allow(2) == (True, False)  # others are not affected
    now[0] = 10.0
    assert limiter._allow(1) == (True, False)
    assert [limiter._allow(1) for _ in range(2)] == [(True, False)] * 2
    assert limiter._allow(1) == (False, True)  # a new flood, a new warning


def test_agent_announcement_escapes_and_flags_critical() -> None:
    from datetime import UTC, datetime

    from bot.tickets.model import Classification, Ticket

    ticket = Ticket(
        channel="telegram",
        customer_id="1",
        lang="ru",
        description="Сайт <лежит> & не открывается",
        site_url="https://a.ru",
        contact_email="a@a.ru",
        classification=Classification("error", True, "3.4.1", True, 0.9),
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        id="WAS-000042",
    )
    text = announcement(ticket)
    assert text.startswith("🔴 <b>КРИТИЧНО</b> <b>WAS-000042</b>")
    assert escape("<лежит> &") in text and "Ошибка продукта" in text


def test_updates_unfinished_at_shutdown_say_where_they_wait() -> None:
    """An update stuck at shutdown is reported with its id and the project's line it waits on
    (here: its turn behind another update of the same chat)."""

    async def play() -> list[str]:
        in_flight, turns = InFlight(), LocalLocks()

        async def handler(event: Any, data: dict[str, Any]) -> None:
            async with turns.hold("chat"):
                await asyncio.sleep(10)

        first = asyncio.create_task(in_flight(handler, Update(update_id=7), {}))
        second = asyncio.create_task(in_flight(handler, Update(update_id=8), {}))
        assert not await in_flight.drained(0.05)
        stuck = in_flight.stuck()
        for task in (first, second):
            task.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
        assert await in_flight.drained(0.05) and in_flight.count == 0
        return stuck

    first, second = asyncio.run(play())
    assert first.startswith("update 7: ") and first.endswith(" in sleep")
    assert second.startswith("update 8: ") and "bot/replicas/locks.py" in second
