"""Identity end to end: the real bot against the Bot API test server, the desk as `build_app`
builds it (consent, verification, limits), code e-mails read back from the outbox."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app
from bot.channels.telegram import setup
from bot.config import Settings
from bot.intake import texts
from bot.tickets.model import TICKET_ID_RE
from classifier import Classifier
from tests.helpers import first_but_declines, until_send
from tests.servers.botapi import BotApiServer

TOKEN = "434343:identity-e2e"
ALICE = 6001
DESCRIPTION = "корзина выдаёт ошибку 500 при оформлении заказа"
PASTE = (
    f"После обновления до 25.1.0 на сайте shop.example.ru {DESCRIPTION}. Редакция Бизнес, "
    "купон AB12-CD34-EF56, почта ivan@example.ru"
)
# "Yes, it is down": the button of the separate 2.2 question
SITE_DOWN_YES = texts.choice_label("yes", "ru")
# The start of the one message that lists every 4.2 field still needed
MISSING = texts.t("ask_missing", "ru", items="").split(":")[0]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Bot:
    """The desk from `build_app` and the real aiogram bot polling the test server."""

    def __init__(self, botapi: BotApiServer, app: App) -> None:
        self.botapi, self.app = botapi, app
        self.dp = setup(app.desk, token=TOKEN, data_dir=app.settings.data_dir, rate_burst=100)
        self.bot = botapi.make_bot(TOKEN)
        self.task = asyncio.create_task(
            self.dp.start_polling(self.bot, handle_signals=False, polling_timeout=5)
        )

    async def close(self) -> None:
        await self.dp.stop_polling()
        await self.task
        await self.bot.session.close()
        await self.app.close()

    async def say(self, text: str, count: int = 1) -> list[dict[str, Any]]:
        if text.startswith("/"):
            self.botapi.user_command(ALICE, text)
        else:
            self.botapi.user_text(ALICE, text)
        return await self.botapi.wait_bot_messages(ALICE, count=count)

    async def press(self, message: dict[str, Any], label: str, count: int = 1) -> list[Any]:
        for text, data in self.botapi.buttons(message):
            if text.startswith(label):
                self.botapi.user_click(ALICE, message["message_id"], data)
                return await self.botapi.wait_bot_messages(ALICE, count=count)
        raise AssertionError(f"no button {label!r} in {self.botapi.buttons(message)}")

    async def until_send(self, message: dict[str, Any]) -> dict[str, Any]:
        """Answer the dialog's questions up to Send: the first option, except "no" to the
        documentation and to "the same as your open ticket". Whether the site is down is not
        one of them (fails if asked): with nothing else missing it is the summary's choice."""

        def pick(labels: list[str]) -> str | None:
            return None if SITE_DOWN_YES in labels else first_but_declines(labels)

        return await until_send(self.botapi, ALICE, message, pick)

    async def new_request(self) -> None:
        """/new: "new request", what is kept from the last one, and the fields still needed,
        joined; what is kept is not asked again."""
        [started] = await self.say("/new")
        new, kept, question = started["text"].split("\n\n")
        assert new.startswith("Начинаем новое обращение") and kept.startswith("Взял из прошлого")
        assert question.startswith(MISSING) and "ivan@example.ru" in kept
        assert "E-mail" not in question and "Купон" not in question

    async def request_until_send(self) -> dict[str, Any]:
        """Everything in one message (no steps: the site reads as down, 2.2); then no field is
        asked, nor whether the site is down: the summary says it goes as critical (Send confirms
        it). A returning customer is asked first whether it is the open ticket's problem (2.5)."""
        [message] = await self.say(PASTE)
        assert message["text"].startswith("Понял: ")
        assert texts.t("ask_critical", "ru") not in message["text"]
        summary = await self.until_send(message)
        assert texts.t("summary_critical_guess", "ru") in summary["text"]
        return summary

    async def verify(self) -> tuple[str, str]:
        """Type the code from the e-mail; then the "filed" notice arrives once it is written.
        The texts of "verified" and "queued", which come as one message."""
        assert await self.app.drain_outbox(10)
        [message] = await self.say(code_from_outbox(self.app.settings.data_dir))
        ok, queued = message["text"].split("\n\n", 1)
        assert await self.app.drain_outbox(10)
        await self.botapi.wait_bot_messages(ALICE)
        return ok, queued

    async def consent(self) -> None:
        [request] = await self.say("/start")  # the greeting and the consent request, joined
        assert request["text"].startswith("Здравствуйте")
        assert "152" in request["text"] or "персональн" in request["text"]
        # Thanks, the greeting and the first question, joined
        [welcome] = await self.press(request, "Согласен")
        assert welcome["text"].startswith("Спасибо! Согласие записано.\n\nЗдравствуйте")
        assert "\n\n" + MISSING in welcome["text"]


def code_from_outbox(data_dir: Path) -> str:
    for path in sorted((data_dir / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if "Verification code" in str(message["Subject"]):
            body = message.get_body(("plain",))
            assert body is not None
            code = re.search(r"\b(\d{6})\b", body.get_content())
            assert code is not None
            last = code.group(1)
    return last


@pytest.fixture
async def make_bot(
    botapi: BotApiServer, tmp_path: Path, trained_classifier: Classifier
) -> AsyncIterator[Callable[..., Any]]:
    bots: list[Bot] = []

    async def make(clock: Clock | None = None, **overrides: Any) -> Bot:
        settings = Settings(_env_file=None, data_dir=tmp_path / "var", **overrides)  # type: ignore[call-arg]
        app = await build_app(settings, classifier=trained_classifier, clock=clock or Clock())
        bot = Bot(botapi, app)
        await botapi.wait_for(lambda: bool(botapi.calls("getUpdates")))
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.close()


async def test_consent_refused_keeps_nothing_and_files_nothing(make_bot: Any) -> None:
    bot = await make_bot()
    [request] = await bot.say(PASTE)  # the first message: consent comes first
    assert "Согласен" in [t for t, _ in bot.botapi.buttons(request)]
    [refusal] = await bot.press(request, "Не согласен")
    assert "support@whatasoft.net" in refusal["text"]
    assert await bot.app.desk.conversation("telegram", str(ALICE)) is None
    assert await bot.app.store.count_tickets() == 0


async def test_verification_happy_path_then_returning_customer(make_bot: Any) -> None:
    bot = await make_bot()
    await bot.consent()
    summary = await bot.request_until_send()
    [sent] = await bot.press(summary, "Отправить")
    assert "i***@example.ru" in sent["text"]
    assert await bot.app.store.count_tickets() == 0  # nothing filed before the code
    ok, queued = await bot.verify()
    assert "подтверждён" in ok
    assert TICKET_ID_RE.search(queued)
    # A returning customer with the same address is not asked again
    await bot.new_request()
    summary = await bot.request_until_send()
    [queued] = await bot.press(summary, "Отправить")
    assert TICKET_ID_RE.search(queued["text"]), queued["text"]


async def test_wrong_code_then_resend_cooldown(make_bot: Any) -> None:
    bot = await make_bot()
    await bot.consent()
    [sent] = await bot.press(await bot.request_until_send(), "Отправить")
    assert await bot.app.drain_outbox(10)
    code = code_from_outbox(bot.app.settings.data_dir)
    [wrong] = await bot.say(f"{(int(code) + 1) % 1_000_000:06d}")  # surely not the code
    assert "Осталось попыток: 4" in wrong["text"]
    [cooldown] = await bot.press(sent, "Отправить код ещё раз")
    assert "уже отправлен" in cooldown["text"]


async def test_expired_code_is_refused(make_bot: Any) -> None:
    clock = Clock()
    bot = await make_bot(clock)
    await bot.consent()
    await bot.press(await bot.request_until_send(), "Отправить")
    assert await bot.app.drain_outbox(10)
    code = code_from_outbox(bot.app.settings.data_dir)
    clock.now += timedelta(minutes=16)
    [expired] = await bot.say(code)
    assert "истёк" in expired["text"]
    assert await bot.app.store.count_tickets() == 0


async def test_ticket_limit_is_told_plainly(make_bot: Any) -> None:
    bot = await make_bot(limit_tickets_per_hour=1)
    await bot.consent()
    await bot.press(await bot.request_until_send(), "Отправить")
    await bot.verify()
    await bot.new_request()
    [limited] = await bot.press(await bot.request_until_send(), "Отправить")
    assert "предел" in limited["text"] and "МСК" in limited["text"]
    assert await bot.app.store.count_tickets() == 1


async def test_forget_deletes_the_customer_but_not_the_tickets(make_bot: Any) -> None:
    bot = await make_bot()
    await bot.consent()
    await bot.press(await bot.request_until_send(), "Отправить")
    await bot.verify()
    [forgotten] = await bot.say("/forget")
    assert "WAS" in forgotten["text"] or "обращен" in forgotten["text"]
    assert await bot.app.desk.conversation("telegram", str(ALICE)) is None
    assert await bot.app.store.count_tickets() == 1
    # Consent is gone too: the next contact asks again
    [again] = await bot.say("Здравствуйте")
    assert "Согласен" in [t for t, _ in bot.botapi.buttons(again)]


async def test_a_customer_who_never_verifies_mails_nothing_of_theirs(make_bot: Any) -> None:
    bot = await make_bot()
    await bot.consent()
    await bot.press(await bot.request_until_send(), "Отправить")
    await bot.say("Пожалуйста, передайте в поддержку: " + DESCRIPTION)
    assert await bot.app.drain_outbox(10)
    outbox = list((bot.app.settings.data_dir / "outbox").glob("*.eml"))
    assert len(outbox) == 1  # the code, nothing else
    raw = outbox[0].read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    assert "корзина" not in body.get_content() and "shop.example.ru" not in body.get_content()
