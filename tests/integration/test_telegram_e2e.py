"""End-to-end: the real bot (aiogram, real HTTP) against the Bot API test server, the real desk.

Customers are played through the test server's client API; the desk is the one `bot/app.py`
builds, with its SQLite store in a temporary data dir (tickets queue in the store's outbox).
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Dispatcher

from bot.app import build_desk, load_classifier
from bot.channels.telegram import setup
from bot.channels.telegram.texts import FLOOD_WARNING, FOREIGN_BUTTON, SOMETHING_WENT_WRONG
from bot.config import Settings
from bot.desk import Desk
from bot.intake import texts
from bot.intake.events import Event, Reply, TextEvent
from bot.intake.fields import Field
from bot.policy.schedule import Schedule
from bot.tickets.model import TICKET_ID_RE
from bot.tickets.store import Store
from classifier import Classifier
from tests.helpers import no_more_messages, until_send, wait_until
from tests.servers.botapi import BotApiServer

TOKEN = "424242:frontdesk-e2e"
ALICE, BOB = 5001, 5002
AGENTS = -100777

PASTE = (
    "После обновления до 24.1.3 на сайте shop.example.ru корзина выдаёт ошибку 500 при "
    "оформлении заказа. Редакция Бизнес, купон AB12-CD34-EF56, почта ivan@example.ru"
)
EMAIL = "ivan@example.ru"
# The paste without the e-mail: a field is missing, so whether the site is down is asked first
PASTE_NO_EMAIL = PASTE.replace(f", почта {EMAIL}", "")
STEPS = "1. Добавить товар в корзину 2. Нажать «Оформить заказ»"
# Everything 4.2 asks for, steps included, in one message (in Russian and in English)
PASTE_ALL = PASTE.replace(". Редакция", f". Шаги: {STEPS}. Редакция")
PASTE_ALL_EN = (
    "After the update to 24.1.3 the cart on shop.example.ru fails with error 500 at checkout. "
    "Steps: 1. Add a product to the cart 2. Click Checkout. Edition Business, coupon "
    "AB12-CD34-EF56, e-mail ivan@example.ru"
)
# The start of the one message that lists every 4.2 field still needed
MISSING = {lang: texts.t("ask_missing", lang, items="").split(":")[0] for lang in ("ru", "en")}
SITE_DOWN = texts.t("ask_critical", "ru")  # 2.2: asked before any missing field
# 2.2 with nothing else missing: no question of its own, the summary says it and offers both
SITE_DOWN_GUESS = texts.t("summary_critical_guess", "ru")
SITE_WORKS_SEND = texts.choice_label("send_works", "ru")
ASK_STEPS = texts.t("ask_steps", "ru")
ASK_EMAIL = texts.t("ask_contact_email", "ru")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 20
BMP = b"BM" + b"\x00" * 52 + bytes(range(256)) * 8


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return load_classifier()


class Harness:
    """The desk (real, SQLite in tmp) and the bot polling the test server; restartable."""

    def __init__(self, botapi: BotApiServer, settings: Settings, classifier: Classifier):
        self.botapi = botapi
        self.settings = settings
        self.classifier = classifier
        self.store: Store | None = None
        self.desk: Any = None
        self.dp: Dispatcher | None = None
        self._task: asyncio.Task[None] | None = None
        self._bot: Any = None

    async def start(self, *, desk_wrapper: Any = None, **options: Any) -> None:
        if self.store is None:
            self.store, self.desk = await build_desk(
                self.settings, self.classifier, Schedule.from_settings(self.settings)
            )
        desk = desk_wrapper(self.desk) if desk_wrapper else self.desk
        options.setdefault("rate_burst", 50)  # scripted customers are fast; see the flood test
        self.dp = setup(
            desk,
            token=TOKEN,
            data_dir=self.settings.data_dir,
            agent_chat_id=self.settings.agent_chat_id,
            **options,
        )
        self._bot = self.botapi.make_bot(TOKEN)
        self._task = asyncio.create_task(
            self.dp.start_polling(self._bot, handle_signals=False, polling_timeout=5)
        )
        await self.botapi.wait_for(lambda: bool(self.botapi.calls("getUpdates")))

    async def stop(self, *, close_desk: bool = False) -> None:
        if self.dp is not None and self._task is not None:
            await self.dp.stop_polling()
            await self._task
            await self._bot.session.close()
            self.dp = self._task = None
        if close_desk and self.store is not None:
            await self.store.close()
            self.store = self.desk = None


@pytest_asyncio.fixture
async def desk_bot(
    botapi: BotApiServer, tmp_path: Path, classifier: Classifier
) -> AsyncIterator[Harness]:
    settings = Settings(_env_file=None, data_dir=tmp_path, agent_chat_id=AGENTS)  # type: ignore[call-arg]
    botapi.add_chat(AGENTS, title="Support agents")
    harness = Harness(botapi, settings, classifier)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop(close_desk=True)
    assert botapi.unknown_methods == []


def texts_of(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text", "") for m in messages]


async def next_reply(botapi: BotApiServer, chat: int) -> dict[str, Any]:
    [message] = await botapi.wait_bot_messages(chat)
    return message


def button(botapi: BotApiServer, message: dict[str, Any], label: str) -> str:
    for text, data in botapi.buttons(message):
        if text == label:
            return data
    raise AssertionError(f"no button {label!r} in {botapi.buttons(message)}")


async def asked_for_steps(botapi: BotApiServer, user: int) -> dict[str, Any]:
    """Send `PASTE_NO_EMAIL` (all but the steps and the e-mail): the values are taken, and
    whether the site is down is asked first (2.2); "no, it works", and the fields still missing
    are asked in one message, the steps first (a text answer is taken as the steps)."""
    botapi.user_text(user, PASTE_NO_EMAIL)
    asked = await next_reply(botapi, user)
    assert asked["text"].startswith("Понял: ") and "AB12-CD34-EF56" in asked["text"]
    assert SITE_DOWN in asked["text"] and MISSING["ru"] not in asked["text"]
    assert ASK_STEPS not in asked["text"]
    botapi.user_click(user, asked["message_id"], button(botapi, asked, "Нет, работает"))
    missing = await next_reply(botapi, user)
    assert missing["text"].startswith(MISSING["ru"])
    assert texts.t("missing_steps", "ru") in missing["text"]
    assert texts.field_label(Field.CONTACT_EMAIL, "ru") in missing["text"]
    return missing


async def greeted(botapi: BotApiServer, user: int) -> None:
    """/start: the greeting and the list of the fields needed, one message, a blank line
    between."""
    botapi.user_command(user, "/start")
    [welcome] = await botapi.wait_bot_messages(user)
    assert welcome["text"].startswith("Здравствуйте")
    assert "\n\n" + MISSING["ru"] in welcome["text"]


async def reach_confirmation(botapi: BotApiServer, user: int) -> dict[str, Any]:
    """From a fresh chat to the summary with the Send button: `PASTE` (all but the steps, which
    a site that reads as down is not asked for) brings it at once. Whether the site is down is
    the summary's choice (2.2): Send files it as critical, "the site works, send" as not."""
    await greeted(botapi, user)
    botapi.user_text(user, PASTE)
    summary = await next_reply(botapi, user)
    assert summary["text"].startswith("Понял: ") and SITE_DOWN not in summary["text"]
    assert texts.t("summary_head", "ru") in summary["text"]
    assert SITE_DOWN_GUESS in summary["text"]
    assert [label for label, _ in botapi.buttons(summary)][:2] == ["Отправить", SITE_WORKS_SEND]
    return summary


async def reach_confirmation_through_questions(botapi: BotApiServer, user: int) -> dict[str, Any]:
    """From a fresh chat to the summary with the Send button through every question: "no, the
    site works" (2.2), then the steps and the e-mail, each typed (choosing a category if
    asked)."""
    await greeted(botapi, user)
    await asked_for_steps(botapi, user)
    botapi.user_text(user, STEPS)
    asked = await next_reply(botapi, user)
    assert asked["text"] == ASK_EMAIL  # the steps taken, the one field left asked
    botapi.user_text(user, EMAIL)
    summary = await next_reply(botapi, user)
    # The desk may ask a clarifying question with buttons first (the category when the classifier
    # is unsure): answer them until the summary with "Send" comes.
    summary = await until_send(botapi, user, summary)
    assert SITE_DOWN_GUESS not in summary["text"]  # decided already: no second choice
    assert SITE_WORKS_SEND not in dict(botapi.buttons(summary))
    return summary


# ------------------------------------------------------------------------------------ scenarios


async def test_paste_everything_then_confirm_files_a_ticket(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    # Given a customer who pastes everything in one message (no steps: the site reads as down,
    # 2.2) and gets the summary at once, saying it goes as critical
    summary = await reach_confirmation(botapi, ALICE)
    assert "shop.example.ru" in summary["text"] and "AB12-CD34-EF56" in summary["text"]
    # When they press "Send"
    query = botapi.user_click(ALICE, summary["message_id"], button(botapi, summary, "Отправить"))
    queued = await next_reply(botapi, ALICE)
    # Then the ticket is queued under a WAS- number, and the pressed keyboard is gone
    match = TICKET_ID_RE.search(queued["text"])
    assert match, queued["text"]
    assert (await botapi.wait_callback_answer(query))["show_alert"] is False
    await botapi.wait_for(
        lambda: "reply_markup" not in botapi.messages[(ALICE, summary["message_id"])]
    )
    [ticket] = await desk_bot.desk.tickets_of("telegram", str(ALICE))
    assert ticket.id == match.group(0)
    assert ticket.contact_email == "ivan@example.ru" and ticket.site_url.startswith("http")
    assert ticket.version == "24.1.3" and ticket.coupon == "AB12-CD34-EF56"
    # Send confirmed what the summary said: the ticket jumps the queue (2.2), without the steps
    # that are not asked of a site that is down (4.2.1)
    assert ticket.classification.critical and not ticket.steps
    assert await desk_bot.store.outbox_counts()  # type: ignore[union-attr]
    # And /status lists it
    botapi.user_command(ALICE, "/status")
    status = await next_reply(botapi, ALICE)
    assert ticket.id in status["text"]


@pytest.mark.parametrize(("lang", "paste"), [("ru", PASTE_ALL), ("en", PASTE_ALL_EN)])
async def test_everything_in_one_message_reaches_the_summary_in_few_turns(
    desk_bot: Harness, lang: str, paste: str
) -> None:
    botapi = desk_bot.botapi
    # Given a customer who opens the chat and pastes every 4.2 value, steps included, at once
    botapi.user_command(ALICE, "/start")
    await next_reply(botapi, ALICE)
    botapi.user_text(ALICE, paste)
    turns = 2  # /start and the paste
    message = await next_reply(botapi, ALICE)
    # Then every value is taken (in the language of the message) and no field is asked again
    assert message["text"].startswith(texts.t("understood", lang, items="").rstrip("."))
    for value in ("shop.example.ru", "24.1.3", "AB12-CD34-EF56", "ivan@example.ru"):
        assert value in message["text"]
    asked = [texts.t(f"ask_{f}", lang) for f in ("steps", "site_url", "version", "coupon")]
    assert not any(q in message["text"] for q in (MISSING[lang], *asked))
    # And the answer to the paste is the summary with Send: not even the 2.2 question comes
    # first (with nothing else to ask, whether the site is down is the summary's choice)
    assert texts.t("ask_critical", lang) not in message["text"]
    assert texts.choice_label("send", lang) in dict(botapi.buttons(message)), message["text"]
    assert texts.t("summary_head", lang) in message["text"]
    assert "ivan@example.ru" in message["text"] and "2. " in message["text"]  # the steps too
    assert turns == 2


async def test_typed_label_works_like_the_button(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    await reach_confirmation(botapi, ALICE)
    botapi.user_text(ALICE, "отправить")
    queued = await next_reply(botapi, ALICE)
    assert TICKET_ID_RE.search(queued["text"]), queued["text"]
    # "Send", not "the site works, send" whose label ends the same: filed as critical (2.2)
    [ticket] = await desk_bot.desk.tickets_of("telegram", str(ALICE))
    assert ticket.classification.critical


async def test_filed_notice_and_agent_announcement(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    summary = await reach_confirmation(botapi, ALICE)
    botapi.user_click(ALICE, summary["message_id"], button(botapi, summary, "Отправить"))
    await next_reply(botapi, ALICE)
    # When the support mail server accepts the e-mail (what the outbox reports to the desk)
    store = desk_bot.store
    assert store is not None
    [row] = [
        r for r in await store.due_messages(datetime.now().astimezone()) if r.kind == "ticket"
    ]
    await desk_bot.desk.on_delivered(row)
    # Then the customer hears it is official, and the agents' chat gets the announcement
    filed = await next_reply(botapi, ALICE)
    assert row.ticket_id and row.ticket_id in filed["text"]
    announcement = await next_reply(botapi, AGENTS)
    assert announcement["text"].startswith(("🔴 КРИТИЧНО " + row.ticket_id, row.ticket_id))
    assert "Категория:" in announcement["text"] and "корзина" in announcement["text"]


async def test_photo_is_downloaded_and_attached(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    botapi.user_photo(ALICE, JPEG)
    [added] = await botapi.wait_bot_messages(ALICE)  # "attached" and the question, joined
    added_text, question = added["text"].split("\n\n", 1)
    assert added_text.startswith("Файл «photo_") and "приложен" in added_text
    assert question.startswith(MISSING["ru"])
    conversation = await desk_bot.desk.conversation("telegram", str(ALICE))
    [attachment] = conversation.attachments
    stored = await asyncio.to_thread(Path(attachment["path"]).read_bytes)
    assert stored == JPEG  # the largest size, not a thumbnail


async def test_photo_with_caption_is_attached_and_read(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    botapi.user_photo(ALICE, JPEG, caption=PASTE)
    [message] = await botapi.wait_bot_messages(ALICE)  # "attached" and the question, joined
    added, asked = message["text"].split("\n\n", 1)
    assert "приложен" in added
    # The site looks down (2.2) and nothing else is missing: the summary at once, with the
    # photo, saying it goes as critical; no steps asked
    assert asked.startswith("Понял: ") and SITE_DOWN not in asked and ASK_STEPS not in asked
    assert asked.count(texts.t("summary_head", "ru")) == 1 and SITE_DOWN_GUESS in asked
    assert "photo_" in asked.split(texts.t("summary_head", "ru"))[1]
    assert SITE_WORKS_SEND in dict(botapi.buttons(message))
    await no_more_messages(botapi, ALICE)  # the summary is shown once


async def test_bmp_document_is_zipped(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    botapi.user_document(ALICE, BMP, "screen.bmp", "image/bmp")
    [message] = await botapi.wait_bot_messages(ALICE)  # "zipped", "attached", the question
    zipped, added, _question = message["text"].split("\n\n")
    assert "ZIP" in zipped
    assert "screen.zip" in added
    conversation = await desk_bot.desk.conversation("telegram", str(ALICE))
    [attachment] = conversation.attachments
    with zipfile.ZipFile(attachment["path"]) as archive:
        assert archive.read("screen.bmp") == BMP


async def test_unsupported_and_too_big_files_are_refused_before_download(
    desk_bot: Harness,
) -> None:
    botapi = desk_bot.botapi
    botapi.user_document(ALICE, b"MZ\x90\x00", "setup.exe", "application/x-msdownload")
    refused = await next_reply(botapi, ALICE)
    assert "не принят" in refused["text"] and "4.6" in refused["text"]
    botapi.user_document(ALICE, JPEG, "huge.png", "image/png", file_size=30 * 2**20)
    too_big = await next_reply(botapi, ALICE)
    assert "слишком большой" in too_big["text"]
    # A renamed executable passes the name check but not the content check
    botapi.user_document(ALICE, b"MZ\x90\x00" * 10, "fake.png", "image/png")
    sniffed = await next_reply(botapi, ALICE)
    assert "не принят" in sniffed["text"]
    assert len(botapi.calls("getFile")) == 1  # only the renamed file was downloaded
    assert await desk_bot.desk.conversation("telegram", str(ALICE)) is None


async def test_restart_mid_dialog_continues_at_the_same_step(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    # Given a customer who was asked for the steps (and the e-mail, after "no, the site works")
    await asked_for_steps(botapi, ALICE)
    # When the bot and the desk restart (new process state, same data dir)
    await desk_bot.stop(close_desk=True)
    botapi.user_text(ALICE, STEPS)  # written while the bot was down
    await desk_bot.start()
    # Then the answer is taken as the steps and the dialog goes on to the e-mail
    following = await next_reply(botapi, ALICE)
    assert "Как воспроизвести" not in following["text"] and ASK_EMAIL in following["text"]
    conversation = await desk_bot.desk.conversation("telegram", str(ALICE))
    assert "Добавить товар" in conversation.fields["steps"]


async def test_two_customers_at_once(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    # Both go through every question at the same time
    summaries = await asyncio.gather(
        reach_confirmation_through_questions(botapi, ALICE),
        reach_confirmation_through_questions(botapi, BOB),
    )
    for user, summary in zip((ALICE, BOB), summaries, strict=True):
        botapi.user_click(user, summary["message_id"], button(botapi, summary, "Отправить"))
    queued = [await next_reply(botapi, user) for user in (ALICE, BOB)]
    ids = [TICKET_ID_RE.search(m["text"]).group(0) for m in queued]  # type: ignore[union-attr]
    assert len(set(ids)) == 2
    for user, ticket_id in zip((ALICE, BOB), ids, strict=True):
        [ticket] = await desk_bot.desk.tickets_of("telegram", str(user))
        assert ticket.id == ticket_id and ticket.contact_email == EMAIL
        # The steps typed after "no, the site works" are in; no jumping the queue (2.2)
        assert "Добавить товар" in ticket.steps and not ticket.classification.critical


async def test_forged_callback_data_is_rejected(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    alice_summary = await reach_confirmation(botapi, ALICE)
    bob_summary = await reach_confirmation(botapi, BOB)
    alice_send = button(botapi, alice_summary, "Отправить")
    # Bob replays Alice's signed "Send" on his own message, then tries a hand-made payload
    for data in (alice_send, "=send", alice_send[:-1] + "X", ""):
        query = botapi.user_click(BOB, bob_summary["message_id"], data or "x")
        answer = await botapi.wait_callback_answer(query)
        assert answer["show_alert"] is True
        assert answer["text"] == FOREIGN_BUTTON["ru"]
    assert await desk_bot.desk.tickets_of("telegram", str(BOB)) == []
    assert botapi.pending_bot_messages(BOB) == []
    # Bob's own button still works
    botapi.user_click(BOB, bob_summary["message_id"], button(botapi, bob_summary, "Отправить"))
    assert TICKET_ID_RE.search((await next_reply(botapi, BOB))["text"])


async def test_flood_gets_one_warning_and_does_not_slow_others(
    desk_bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.telegram.middlewares")
    botapi = desk_bot.botapi
    await desk_bot.stop()
    await desk_bot.start(rate_burst=5, rate_per_second=0.5)
    for i in range(25):
        botapi.user_text(ALICE, f"спам {i}")
    botapi.user_command(BOB, "/help")
    [help_reply] = await botapi.wait_bot_messages(BOB)
    assert "/new" in help_reply["text"]
    await botapi.wait_for(lambda: FLOOD_WARNING in texts_of(botapi.bot_messages(ALICE)))

    def all_25_settled() -> bool:
        """Each of Alice's updates was answered or skipped (the limiter logs every skip)."""
        answers = [t for t in texts_of(botapi.bot_messages(ALICE)) if t != FLOOD_WARNING]
        skipped = sum("update skipped" in r.getMessage() for r in caplog.records)
        return len(answers) + skipped >= 25

    await wait_until(all_25_settled)
    sent = texts_of(botapi.bot_messages(ALICE))
    assert sent.count(FLOOD_WARNING) == 1
    # At most the burst was answered, one message per update (its replies are joined)
    assert len(sent) <= 5 + 1


async def test_an_error_is_reported_and_the_state_kept(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi

    class Flaky:
        """The real desk, failing once on a given text (as a broken disk or a bug would)."""

        def __init__(self, desk: Desk) -> None:
            self.desk = desk
            self.failed = False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.desk, name)

        async def handle(self, channel: str, user_id: str, event: Event, **kw: Any) -> list[Reply]:
            if event == TextEvent(STEPS) and not self.failed:
                self.failed = True
                raise OSError("disk I/O error")
            return await self.desk.handle(channel, user_id, event, **kw)

    await desk_bot.stop()
    await desk_bot.start(desk_wrapper=Flaky)
    await asked_for_steps(botapi, ALICE)
    botapi.user_text(ALICE, STEPS)
    assert (await next_reply(botapi, ALICE))["text"] == SOMETHING_WENT_WRONG
    botapi.user_text(ALICE, STEPS)
    following = (await next_reply(botapi, ALICE))["text"]
    assert "Как воспроизвести" not in following and ASK_EMAIL in following
    conversation = await desk_bot.desk.conversation("telegram", str(ALICE))
    assert "Добавить товар" in conversation.fields["steps"]


async def test_command_menu_and_languages(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    menus = {lang: cmds for (_scope, lang), cmds in botapi.commands_by_scope.items()}
    assert {c["command"] for c in menus[""]} == {
        "start",
        "new",
        "status",
        "cancel",
        "lang",
        "help",
        "privacy",
        "forget",
    }
    assert menus["en"][0]["description"] == "Start"
    botapi.set_user(BOB, language_code="en")
    botapi.user_command(BOB, "/start")
    [greeting] = await botapi.wait_bot_messages(BOB)  # the greeting and the fields needed
    assert greeting["text"].startswith("Hello")
    assert "\n\n" + MISSING["en"] in greeting["text"]
    botapi.user_command(BOB, "/lang ru")
    [lang_set] = await botapi.wait_bot_messages(BOB)  # "language set" and the fields needed
    assert lang_set["text"].startswith("Язык")
    assert "\n\n" + MISSING["ru"] in lang_set["text"]
    botapi.user_command(BOB, "/cancel")
    assert "удалён" in (await next_reply(botapi, BOB))["text"]


async def test_html_special_characters_are_escaped(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    botapi.user_text(ALICE, "Ошибка <b>Fatal</b> & a < b в корзине на сайте")
    reply = await next_reply(botapi, ALICE)
    # The test server parses HTML like Telegram: unescaped "<" would have been a 400
    assert "Как воспроизвести" in reply["text"] or "Адрес" in reply["text"]
    botapi.user_text(ALICE, "Шаги: <script>alert(1)</script>")
    reply = await next_reply(botapi, ALICE)
    assert not reply.get("entities")


async def test_stickers_and_other_messages_get_a_hint(desk_bot: Harness) -> None:
    botapi = desk_bot.botapi
    botapi._user_message(ALICE, None, location={"latitude": 55.7, "longitude": 37.6})
    reply = await next_reply(botapi, ALICE)
    assert "не разбираю" in reply["text"]
    assert re.search(r"JPG", reply["text"])


async def test_webhook_mode(botapi: BotApiServer, tmp_path: Path, classifier: Classifier) -> None:
    from aiohttp import web

    from bot.channels.telegram import build_bot, webhook_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        telegram_token=TOKEN,
        telegram_api=botapi.base_url,
        webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
    )
    store, desk = await build_desk(settings, classifier, Schedule.from_settings(settings))
    bot = build_bot(settings)
    runner = web.AppRunner(webhook_app(settings, desk, bot))
    try:
        await runner.setup()  # startup registers the webhook with a secret token
        await web.SockSite(runner, sock).start()
        assert botapi.bot.webhook_url == settings.webhook_url
        assert botapi.bot.webhook_secret and TOKEN not in botapi.bot.webhook_secret
        # Given updates pushed by the server to the webhook, the customer is answered the same
        botapi.user_command(ALICE, "/start")
        [welcome] = await botapi.wait_bot_messages(ALICE)  # the greeting and the fields needed
        assert welcome["text"].startswith("Здравствуйте")
        assert "\n\n" + MISSING["ru"] in welcome["text"]
        assert botapi.webhook_errors == []
    finally:
        await runner.cleanup()
        await bot.session.close()
        await store.close()
