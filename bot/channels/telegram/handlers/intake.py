"""Free text and button presses. Typing a button's label works the same as pressing it."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram.callbacks import CallbackSigner
from bot.channels.telegram.dialog import converse
from bot.channels.telegram.filters import Magic, private_chat
from bot.channels.telegram.ports import DeskPort
from bot.channels.telegram.sender import ReplySender
from bot.channels.telegram.texts import FOREIGN_BUTTON, UNSUPPORTED_MESSAGE, pick
from bot.intake.events import ChoiceEvent, Event, TextEvent
from bot.text import clean

log = logging.getLogger(__name__)


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(private_chat())
    router.message.register(on_text, Magic(F.text))
    router.callback_query.register(on_button)
    router.message.register(on_other)  # last: whatever the other handlers did not take
    return router


async def on_text(message: Message, desk: DeskPort, sender: ReplySender, bot: Bot) -> None:
    assert message.from_user is not None and message.text is not None
    text = clean(message.text)  # a "\ud800" escape in the update's JSON is a lone surrogate
    value = await sender.typed_choice(message.from_user.id, text)
    event: Event = ChoiceEvent(value) if value is not None else TextEvent(text)
    await converse(desk, sender, bot, message.from_user, message.chat.id, event)


async def on_button(
    query: CallbackQuery,
    desk: DeskPort,
    sender: ReplySender,
    signer: CallbackSigner,
    bot: Bot,
) -> None:
    user = query.from_user
    message = query.message
    verified = signer.unpack(user.id, query.data or "")
    if verified is None or message is None or message.chat.id != user.id:
        log.warning("telegram: rejected callback data from user %s", user.id)
        await query.answer(pick(FOREIGN_BUTTON, user.language_code), show_alert=True)
        return
    await query.answer()
    event: Event
    if verified.value is not None:
        event = ChoiceEvent(verified.value)
    else:  # a long value forgotten after a restart: the label, as if the customer typed it
        label = _label_of(message, query.data or "")
        if label is None:
            return
        event = TextEvent(label)
    await converse(desk, sender, bot, user, message.chat.id, event)
    # The keyboard has served (and only now: after a failure it stays, to be pressed again).
    try:
        await bot.edit_message_reply_markup(
            chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
        )
    except TelegramBadRequest as e:  # already edited, or too old to edit: harmless
        log.debug("telegram: keyboard not removed: %s", e.message)


def _label_of(message: object, data: str) -> str | None:
    markup = getattr(message, "reply_markup", None)
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return None


async def on_other(message: Message) -> None:
    """Stickers, voice, locations...: say what the desk can read."""
    lang = message.from_user.language_code if message.from_user else None
    await message.answer(pick(UNSUPPORTED_MESSAGE, lang))
