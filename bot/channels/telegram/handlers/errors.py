"""One error handler: log with context, tell the customer, keep the conversation as it was."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.channels.telegram.texts import SOMETHING_WENT_WRONG

log = logging.getLogger(__name__)


def build() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router


async def on_error(event: ErrorEvent, bot: Bot) -> None:
    update = event.update
    chat_id: int | None = None
    if update.message is not None:
        chat_id = update.message.chat.id
    elif update.callback_query is not None:
        query = update.callback_query
        chat_id = query.message.chat.id if query.message else query.from_user.id
        try:
            await query.answer()
        except TelegramAPIError:
            log.debug("telegram: callback %s already answered", query.id)
    log.error(
        "telegram: update %s failed: %r",
        update.update_id,
        event.exception,
        exc_info=event.exception,
    )
    if chat_id is None:
        return
    try:
        await bot.send_message(chat_id, SOMETHING_WENT_WRONG)
    except TelegramAPIError as e:
        log.error("telegram: could not tell chat %s about the failure: %s", chat_id, e)
