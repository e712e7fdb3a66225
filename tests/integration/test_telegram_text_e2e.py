"""End-to-end: updates whose text carries lone surrogates or control characters.

The real bot polls the Bot API test server, which sends a "\\ud800" escape in the update's JSON
as Telegram's clients can; the desk is the real one with its SQLite store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot.channels.telegram.texts import SOMETHING_WENT_WRONG
from bot.config import Settings
from bot.intake import texts
from bot.intake.fields import Field
from bot.tickets.model import TICKET_ID_RE
from bot.tickets.render import render_ticket
from classifier import Classifier
from tests.helpers import until_send
from tests.integration.test_telegram_e2e import (
    AGENTS,
    ALICE,
    ASK_EMAIL,
    BOB,
    EMAIL,
    JPEG,
    MISSING,
    PASTE_NO_EMAIL,
    SITE_DOWN,
    STEPS,
    Harness,
    button,
    next_reply,
)
from tests.servers.botapi import BotApiServer

# Without the e-mail: a field is missing, so whether the site is down is asked first (2.2)
BROKEN_PASTE = PASTE_NO_EMAIL.replace("корзина", "корзина\ud800").replace("при", "\x00при", 1)
BROKEN_STEPS = STEPS.replace(" 2.", "\u20282.\u0085")


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


@pytest_asyncio.fixture
async def text_bot(
    botapi: BotApiServer, tmp_path: Path, trained_classifier: Classifier
) -> AsyncIterator[Harness]:
    settings = Settings(_env_file=None, data_dir=tmp_path, agent_chat_id=AGENTS)
    botapi.add_chat(AGENTS, title="Support agents")
    harness = Harness(botapi, settings, trained_classifier)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop(close_desk=True)
    assert botapi.unknown_methods == []


async def _answer_until_send(botapi: BotApiServer, user: int, message: dict[str, Any]) -> None:
    """Answer the clarifying questions with buttons, then press Send."""
    summary = await until_send(botapi, user, message)
    botapi.user_click(
        user,
        summary["message_id"],
        dict(botapi.buttons(summary))[texts.choice_label("send", "ru")],
    )
    filed = await next_reply(botapi, user)
    assert TICKET_ID_RE.search(filed["text"]), filed["text"]


async def test_lone_surrogate_and_control_characters_are_answered_stored_and_filed(
    text_bot: Harness,
) -> None:
    botapi = text_bot.botapi
    # Given a customer whose client sends a lone surrogate and a NUL in the text
    botapi.user_text(ALICE, BROKEN_PASTE)
    asked = await next_reply(botapi, ALICE)
    # Then the turn is answered as usual (the values taken, "is the site down?" asked, 2.2),
    # not with an apology
    assert asked["text"] != SOMETHING_WENT_WRONG
    assert asked["text"].startswith("Понял: ") and SITE_DOWN in asked["text"]
    conversation = await text_bot.desk.conversation("telegram", str(ALICE))
    assert "корзина\ufffd" in conversation.fields["description"]
    assert " при оформлении" in conversation.fields["description"]  # a space, not glued
    # And after "no, it works" (the steps and the e-mail asked), the steps with a line separator
    # and a NEL go on from the stored state
    botapi.user_click(ALICE, asked["message_id"], button(botapi, asked, "Нет, работает"))
    missing = await next_reply(botapi, ALICE)
    assert missing["text"].startswith(MISSING["ru"])
    assert texts.t("missing_steps", "ru") in missing["text"]
    botapi.user_text(ALICE, BROKEN_STEPS)
    assert (await next_reply(botapi, ALICE))["text"] == ASK_EMAIL
    botapi.user_text(ALICE, EMAIL)
    summary = await next_reply(botapi, ALICE)
    assert summary["text"] != SOMETHING_WENT_WRONG
    conversation = await text_bot.desk.conversation("telegram", str(ALICE))
    assert conversation.fields["steps"] == (
        "1. Добавить товар в корзину\n2.  Нажать «Оформить заказ»"
    )
    # When the request is sent, the ticket is filed and its e-mail rendered
    await _answer_until_send(botapi, ALICE, summary)
    [ticket] = await text_bot.desk.tickets_of("telegram", str(ALICE))
    assert "корзина\ufffd" in ticket.description
    assert not _has_surrogate(ticket.description + ticket.steps)
    rendered = render_ticket(ticket, text_bot.settings)
    assert ticket.id.encode() in rendered.as_bytes()
    # And the channel goes on for everyone
    botapi.user_command(BOB, "/start")
    assert (await next_reply(botapi, BOB))["text"].startswith("Здравствуйте")


async def test_an_address_glued_by_a_control_character_is_refused_and_asked_again(
    text_bot: Harness,
) -> None:
    botapi = text_bot.botapi
    botapi.user_text(ALICE, PASTE_NO_EMAIL)
    site_down = await next_reply(botapi, ALICE)
    botapi.user_click(ALICE, site_down["message_id"], button(botapi, site_down, "Нет, работает"))
    both = await next_reply(botapi, ALICE)  # the steps and the e-mail, asked at once
    assert both["text"].startswith(MISSING["ru"])
    assert texts.t("missing_steps", "ru") in both["text"]
    assert texts.field_label(Field.CONTACT_EMAIL, "ru") in both["text"]
    botapi.user_text(ALICE, STEPS)
    asked = await next_reply(botapi, ALICE)
    assert texts.t("ask_contact_email", "ru") in asked["text"]
    # When the answer hides a header behind a NEL
    botapi.user_text(ALICE, "E-mail: ivan@mail.ru\u0085Bcc: c@z.ru")
    refused = await next_reply(botapi, ALICE)
    # Then it is refused politely and asked again, never taken as "ivan@mail.rubcc"
    assert "ivan@mail.ru Bcc: c@z.ru" in refused["text"]
    assert texts.reason("email_format", "ru") in refused["text"]
    assert texts.t("ask_contact_email", "ru") in refused["text"]
    conversation = await text_bot.desk.conversation("telegram", str(ALICE))
    assert "contact_email" not in conversation.fields


async def test_a_file_name_and_caption_with_broken_text_are_taken(text_bot: Harness) -> None:
    botapi = text_bot.botapi
    # Given a document whose name and caption carry a lone surrogate and control characters
    botapi.user_document(
        ALICE, JPEG, "скрин\ud800\x00\u0085.png", "image/png", caption=BROKEN_PASTE
    )
    [message] = await botapi.wait_bot_messages(ALICE)
    # Then the file is attached and the caption read, as for any file
    assert message["text"] != SOMETHING_WENT_WRONG
    assert "приложен" in message["text"] and SITE_DOWN in message["text"]
    conversation = await text_bot.desk.conversation("telegram", str(ALICE))
    [attachment] = conversation.attachments
    assert attachment["name"].startswith("скрин\ufffd")
    assert not _has_surrogate(attachment["name"] + attachment["path"])
    assert not any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in attachment["name"])
    assert await asyncio.to_thread(Path(attachment["path"]).read_bytes) == JPEG
    assert "корзина\ufffd" in conversation.fields["description"]
