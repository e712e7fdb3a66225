"""Sends the core's replies to a chat, remembering each user's last buttons for typed answers.

The replies to one update are coalesced (see `render.coalesce`): "Consent recorded", the greeting
and the first question arrive as one message, not three.

The last buttons live in a `ChatMemory` (bot/replicas/memory.py): this process's memory for one
process, Redis with several replicas, where the customer's next message may reach another one."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter

from bot.channels.telegram.callbacks import CallbackSigner
from bot.channels.telegram.render import coalesce, render
from bot.intake.events import Option, Reply, typed_option
from bot.replicas.memory import ChatMemory, LocalMemory

log = logging.getLogger(__name__)


class ReplySender:
    def __init__(self, signer: CallbackSigner, memory: ChatMemory | None = None) -> None:
        self.signer = signer
        self.memory: ChatMemory = memory if memory is not None else LocalMemory()

    async def typed_choice(self, user_id: int, text: str) -> str | None:
        """The option value if `text` names a button of the user's last keyboard (see
        `typed_option`; the buttons carry no numbers)."""
        return typed_option(text, await self.last_options(user_id), numbered=False)

    async def last_options(self, user_id: int) -> tuple[Option, ...]:
        raw = await self.memory.get(f"options:{user_id}")
        if raw is None:
            return ()
        return tuple(Option(str(value), str(label)) for value, label in json.loads(raw))

    async def send(self, bot: Bot, chat_id: int, user_id: int, replies: Sequence[Reply]) -> None:
        for reply in coalesce(replies):
            if reply.options:
                pairs = [[o.value, o.label] for o in reply.options]
                await self.memory.set(f"options:{user_id}", json.dumps(pairs, ensure_ascii=False))
            for message in render(reply, lambda value: self.signer.pack(user_id, value)):
                await self._send_one(bot, chat_id, message.html, message.markup)

    async def _send_one(self, bot: Bot, chat_id: int, text: str, markup: object) -> None:
        for attempt in range(3):
            try:
                await bot.send_message(
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,  # type: ignore[arg-type]
                )
                return
            except TelegramRetryAfter as e:  # Telegram's flood control: wait as told, retry
                if attempt == 2:
                    raise
                await asyncio.sleep(e.retry_after)
            except TelegramForbiddenError:
                log.info("telegram: chat %s blocked the bot; reply dropped", chat_id)
                return
