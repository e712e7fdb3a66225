"""Self-test of the Bot API test server: a tiny real aiogram bot polls it over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tests.servers.botapi import BotApiServer, render_text

USER = 1001


def echo_router() -> Router:
    router = Router(name="echo")

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        kb = InlineKeyboardBuilder()
        kb.button(text="Yes", callback_data="yes")
        kb.button(text="No", callback_data="no")
        await message.answer(
            "<b>Hello</b> &amp; welcome", parse_mode="HTML", reply_markup=kb.as_markup()
        )

    @router.callback_query(F.data)
    async def clicked(query: CallbackQuery) -> None:
        await query.answer(f"got {query.data}")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"You said {query.data}")

    @router.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        assert message.photo
        buffer = io.BytesIO()
        await bot.download(message.photo[-1], destination=buffer)
        await message.answer(f"photo {len(buffer.getvalue())} bytes")
        await message.answer_document(BufferedInputFile(buffer.getvalue(), "back.png"))

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document
        try:
            data = await bot.download(message.document)
        except TelegramBadRequest as e:
            await message.answer(f"refused: {e.message}")
            return
        assert data is not None
        await message.answer(f"{message.document.file_name}: {data.read().decode()}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        assert message.text is not None
        await message.answer(message.text)

    return router


@contextlib.asynccontextmanager
async def running(server: BotApiServer, router: Router | None = None) -> AsyncIterator[Any]:
    bot = server.make_bot()
    dp = Dispatcher()
    dp.include_router(router or echo_router())
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        yield bot
    finally:
        await dp.stop_polling()
        await task
        await bot.session.close()


async def test_text_is_echoed(botapi: BotApiServer) -> None:
    async with running(botapi):
        botapi.user_text(USER, "hello")
        [reply] = await botapi.wait_bot_messages(USER)
        assert reply["text"] == "hello"
        assert reply["from"]["is_bot"] is True
        botapi.user_text(USER, "again")
        assert [m["text"] for m in await botapi.wait_bot_messages(USER)] == ["again"]
        assert [m["text"] for m in botapi.bot_messages(USER)] == ["hello", "again"]
    assert botapi.unknown_methods == []


async def test_html_keyboard_and_callback(botapi: BotApiServer) -> None:
    async with running(botapi):
        botapi.user_command(USER, "/start")
        [reply] = await botapi.wait_bot_messages(USER)
        assert reply["text"] == "Hello & welcome"
        assert reply["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
        assert botapi.buttons(reply) == [("Yes", "yes"), ("No", "no")]

        query_id = botapi.user_click(USER, reply["message_id"], "yes")
        answer = await botapi.wait_callback_answer(query_id)
        assert answer["text"] == "got yes"
        await botapi.wait_for(lambda: botapi.bot_messages(USER)[0]["text"] == "You said yes")
        assert botapi.bot_messages(USER)[0].get("reply_markup") is None
        assert botapi.edits[-1]["method"] == "editMessageText"


async def test_photo_download_largest_size_and_document_upload(botapi: BotApiServer) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    async with running(botapi):
        botapi.user_photo(USER, data, caption="screen")
        text, doc = await botapi.wait_bot_messages(USER, count=2)
        assert text["text"] == f"photo {len(data)} bytes"
        assert doc["document"]["file_name"] == "back.png"
        assert doc["document"]["mime_type"] == "image/png"
        assert botapi.file_data(doc["document"]["file_id"]) == data


async def test_document_and_too_big_file(botapi: BotApiServer) -> None:
    async with running(botapi):
        botapi.user_document(USER, b"log line", "app.log", "text/plain")
        [ok] = await botapi.wait_bot_messages(USER)
        assert ok["text"] == "app.log: log line"
        botapi.user_document(USER, b"x", "huge.zip", "application/zip", file_size=25 * 2**20)
        [refused] = await botapi.wait_bot_messages(USER)
        assert refused["text"] == "refused: Bad Request: file is too big"


async def test_long_polling_waits_and_offset_confirms(botapi: BotApiServer) -> None:
    bot = botapi.make_bot()
    try:
        # Given nothing to deliver, getUpdates holds the request until a user writes.
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await botapi.wait_for(lambda: bool(botapi.calls("getUpdates")))
        # Genuinely "wait, then assert nothing came": the request is held, not answered
        await asyncio.sleep(0.2)
        assert not poll.done()
        botapi.user_text(USER, "wake up")
        [update] = await asyncio.wait_for(poll, 10)
        assert update.message is not None and update.message.text == "wake up"
        # Unconfirmed updates come again; an offset confirms them.
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [update.update_id]
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []
    finally:
        await bot.session.close()


async def test_second_poller_terminates_the_first(botapi: BotApiServer) -> None:
    bot = botapi.make_bot()
    try:
        first = asyncio.create_task(bot.get_updates(timeout=30))
        await botapi.wait_for(lambda: len(botapi.calls("getUpdates")) == 1)  # the first is held
        second = asyncio.create_task(bot.get_updates(timeout=30))
        with pytest.raises(Exception, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 10)
        botapi.user_text(USER, "hi")
        assert len(await asyncio.wait_for(second, 10)) == 1
    finally:
        await bot.session.close()


async def test_errors_like_telegram(botapi: BotApiServer) -> None:
    bot = botapi.make_bot()
    try:
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(999, "nobody here")
        botapi.set_user(USER)
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(USER, "<b>unclosed", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(USER, "1 < 2", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await bot.send_message(USER, "x" * 4097)
        long_data = InlineKeyboardBuilder()
        long_data.button(text="x", callback_data="d" * 65)
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "k", reply_markup=long_data.as_markup())
        sent = await bot.send_message(USER, "same")
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text("same", chat_id=USER, message_id=sent.message_id)
        empty = InlineKeyboardMarkup(inline_keyboard=[])
        edited = await bot.edit_message_text(
            "changed", chat_id=USER, message_id=sent.message_id, reply_markup=empty
        )
        assert isinstance(edited, Message) and edited.text == "changed"
        assert await bot.send_chat_action(USER, "typing") is True
        assert botapi.chat_actions == [(USER, "typing")]
        # A method the server does not know is a visible 404, not a silent success.
        async with aiohttp.ClientSession() as http:
            url = f"{botapi.base_url}/bot{bot.token}/sendDice"
            async with http.post(url, data={"chat_id": USER}) as response:
                body = await response.json()
        assert response.status == 404 and body["ok"] is False and body["error_code"] == 404
        assert botapi.unknown_methods == ["senddice"]
    finally:
        await bot.session.close()


async def test_commands_menu_and_webhook_conflict(botapi: BotApiServer) -> None:
    from aiogram.types import BotCommand

    bot = botapi.make_bot()
    try:
        await bot.set_my_commands([BotCommand(command="start", description="Начать")])
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
        me = await bot.get_me()
        assert me.is_bot and me.username == botapi.bot_username
        await bot.set_webhook("http://127.0.0.1:9/hook")
        with pytest.raises(Exception, match="webhook is active"):
            await bot.get_updates(timeout=0)
        assert (await bot.get_webhook_info()).url == "http://127.0.0.1:9/hook"
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == []
    finally:
        await bot.session.close()


async def test_webhook_delivery(botapi: BotApiServer) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

    bot = botapi.make_bot()
    dp = Dispatcher()
    dp.include_router(echo_router())
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="s3cret").register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        botapi.user_text(USER, "via webhook")
        [reply] = await botapi.wait_bot_messages(USER)
        assert reply["text"] == "via webhook"
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
        await bot.session.close()


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("plain", "plain", []),
        ("a &lt;b&gt; &amp; c", "a <b> & c", []),
        ("<i>x</i>y", "xy", [{"type": "italic", "offset": 0, "length": 1}]),
        ("😀<b>z</b>", "😀z", [{"type": "bold", "offset": 2, "length": 1}]),
        (
            '<a href="https://e.x">l</a>',
            "l",
            [{"type": "text_link", "offset": 0, "length": 1, "url": "https://e.x"}],
        ),
    ],
)
def test_html_rendering(source: str, text: str, entities: list[dict[str, Any]]) -> None:
    assert render_text(source, "HTML") == (text, entities)
