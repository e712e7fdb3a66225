"""Commands: /start /new /status /cancel /help /lang /edit /forget /privacy — the desk answers
them all (/forget and /privacy through its identity guard)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.channels.telegram.dialog import converse
from bot.channels.telegram.filters import private_chat
from bot.channels.telegram.ports import DeskPort
from bot.channels.telegram.sender import ReplySender
from bot.intake.events import CommandEvent
from bot.text import clean

COMMANDS = ("start", "new", "status", "cancel", "help", "lang", "edit", "forget", "privacy")


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(private_chat())
    router.message.register(on_command, Command(*COMMANDS, ignore_case=True))
    return router


async def on_command(
    message: Message, command: CommandObject, desk: DeskPort, sender: ReplySender, bot: Bot
) -> None:
    assert message.from_user is not None
    event = CommandEvent(command.command.lower(), clean(command.args or "").strip())
    await converse(desk, sender, bot, message.from_user, message.chat.id, event)
