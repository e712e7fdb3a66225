"""The whole way, as a customer and an agent see it: Telegram chat (real bot, Bot API test server)
→ consent → a screenshot → the request → the code e-mailed to the customer's mailbox → the ticket
in the support mailbox (Dovecot), read back over IMAP like an agent's mail client would."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from bot.app import build_app
from bot.channels.telegram import setup
from bot.config import Settings
from classifier import Classifier
from tests.helpers import first_but_declines, until_send
from tests.servers.botapi import BotApiServer
from tests.servers.mail import MailServers

TOKEN = "454545:to-mailbox"
CUSTOMER = 7101
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PASTE = (
    "После обновления до 25.1.0 на сайте готовый-сайт-для-бизнеса.рф корзина выдаёт ошибку 500 "
    "при оформлении заказа. Редакция Бизнес, купон AB12-CD34-EF56, почта ivan@customer.test"
)


async def test_telegram_request_ends_as_a_ticket_in_the_support_mailbox(
    botapi: BotApiServer,
    mail_servers: MailServers,
    mail_settings: Settings,
    trained_classifier: Classifier,
) -> None:
    settings = mail_settings.model_copy(update={"imap_host": None})  # SMTP only
    app = await build_app(settings, classifier=trained_classifier)
    dp = setup(app.desk, token=TOKEN, data_dir=settings.data_dir, rate_burst=100)
    bot = botapi.make_bot(TOKEN)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        await botapi.wait_for(lambda: bool(botapi.calls("getUpdates")))

        async def press(message: dict[str, Any], label: str) -> dict[str, Any]:
            data = next(d for t, d in botapi.buttons(message) if t.startswith(label))
            botapi.user_click(CUSTOMER, message["message_id"], data)
            return (await botapi.wait_bot_messages(CUSTOMER))[-1]

        # Given a customer who agrees to the processing of personal data
        botapi.user_command(CUSTOMER, "/start")
        [consent] = await botapi.wait_bot_messages(CUSTOMER)  # greeting and request, joined
        botapi.user_click(CUSTOMER, consent["message_id"], botapi.buttons(consent)[0][1])
        await botapi.wait_bot_messages(CUSTOMER)  # thanks, greeting, first question, joined
        # When they send a screenshot and paste everything, then answer the questions
        botapi.user_photo(CUSTOMER, PNG)
        await botapi.wait_bot_messages(CUSTOMER)  # "attached" and the question, joined
        botapi.user_text(CUSTOMER, PASTE)
        await botapi.wait_bot_messages(CUSTOMER)
        botapi.user_text(CUSTOMER, "1. Добавить товар в корзину 2. Нажать «Оформить заказ»")
        [message] = await botapi.wait_bot_messages(CUSTOMER)
        message = await until_send(botapi, CUSTOMER, message, first_but_declines)
        sent = await press(message, "Отправить")
        assert "i***@customer.test" in sent["text"]
        # Then the code arrives in their own mailbox, with no word of their request in it
        [code_mail] = await mail_servers.wait_for(1, "customer")
        body = code_mail.get_body(("plain",))
        assert body is not None and "корзина" not in body.get_content()
        code = re.search(r"\b(\d{6})\b", body.get_content())
        assert code is not None
        botapi.user_text(CUSTOMER, code.group(1))
        [verified] = await botapi.wait_bot_messages(CUSTOMER)  # "verified" and "queued", joined
        ok, queued = verified["text"].split("\n\n", 1)
        assert "подтверждён" in ok and "WAS-000001" in queued
        # And the agent finds the ticket in the support mailbox, with the screenshot and JSON
        [ticket] = await mail_servers.wait_for(1, "support")
        assert ticket["Subject"].startswith(("[WAS-000001] ", "[КРИТИЧНО] [WAS-000001] "))
        assert "ivan@customer.test" in ticket["Cc"]
        names = [part.get_filename() for part in ticket.iter_attachments()]
        assert "ticket.json" in names and any(n and n.endswith(".png") for n in names)
        data = json.loads(
            next(
                p for p in ticket.iter_attachments() if p.get_filename() == "ticket.json"
            ).get_content()
        )
        assert data["channel"] == "telegram" and data["coupon"] == "AB12-CD34-EF56"
        # And only now is the customer told it is filed officially
        [filed] = await botapi.wait_bot_messages(CUSTOMER)
        assert "официально зарегистрировано" in filed["text"]
    finally:
        await dp.stop_polling()
        await polling
        await bot.session.close()
        await app.close()
