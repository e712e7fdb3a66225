"""Keep aiogram's parametrised response models alive.

aiogram builds `Response[<return type>]` for every API call. pydantic caches parametrised generic
models only weakly, so once a call's response is gone the class is collected and the next call
builds a whole model class again: about 0.2 ms idle and several ms under load, for every
sendMessage. Holding one reference per method the bot uses turns that into a dictionary lookup.
"""

from __future__ import annotations

from aiogram import methods
from aiogram.methods.base import Response, TelegramMethod

USED_METHODS: tuple[type[TelegramMethod[object]], ...] = (
    methods.GetMe,
    methods.GetUpdates,
    methods.DeleteWebhook,
    methods.SetWebhook,
    methods.SetMyCommands,
    methods.SendMessage,
    methods.EditMessageText,
    methods.EditMessageReplyMarkup,
    methods.AnswerCallbackQuery,
    methods.SendChatAction,
    methods.GetFile,
    methods.SendDocument,
    methods.SendPhoto,
    methods.DeleteMessage,
)  # type: ignore[assignment]
_KEPT: list[object] = []


def keep_response_models() -> int:
    """Parametrise (once) and hold `Response[...]` for the methods the bot calls."""
    if not _KEPT:
        _KEPT.extend(Response[m.__returning__] for m in USED_METHODS)  # type: ignore[name-defined]
    return len(_KEPT)
