"""The one path from a customer's update to the desk and back."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import User

from bot.channels.telegram.ports import CHANNEL, DeskPort
from bot.channels.telegram.sender import ReplySender
from bot.intake.events import Event, Reply


async def converse(
    desk: DeskPort,
    sender: ReplySender,
    bot: Bot,
    user: User,
    chat_id: int,
    event: Event,
    *,
    before: tuple[Reply, ...] = (),
) -> None:
    replies = await desk.handle(CHANNEL, str(user.id), event, lang_hint=user.language_code)
    await sender.send(bot, chat_id, user.id, [*before, *replies])
