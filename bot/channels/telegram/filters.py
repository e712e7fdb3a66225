"""Magic filters checked in the event loop.

aiogram awaits a `Filter` in place, but runs any other synchronous callable, a plain magic filter
(`F.text`) included, through `asyncio.to_thread`: a thread hop for every filter of every update
(five for a text message here), which under load costs more than the handler's own work. A magic
filter only reads attributes of the update, so `Magic` resolves it directly.
"""

from __future__ import annotations

from aiogram import F
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Magic(Filter):
    """`Magic(F.text)` passes exactly the updates `F.text` passes, without a thread."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))


def private_chat() -> Magic:
    """Messages in a private chat with the bot (the desk talks to customers one to one)."""
    return Magic(F.chat.type == ChatType.PRIVATE)
