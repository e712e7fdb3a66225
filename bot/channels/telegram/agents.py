"""The agents' chat: one announcement per filed ticket (id, category, critical flag, summary)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError

from bot.channels.telegram.render import escape
from bot.tickets.model import CATEGORY_LABELS_RU, Ticket

log = logging.getLogger(__name__)


def announcement(ticket: Ticket) -> str:
    c = ticket.classification
    head = f"<b>{escape(ticket.id or 'без номера')}</b>"
    if c.critical:
        head = "🔴 <b>КРИТИЧНО</b> " + head
    category = CATEGORY_LABELS_RU.get(c.category, c.category)
    scope = "" if c.in_scope else " — вероятно, вне рамок поддержки"
    lines = [
        head,
        f"Категория: {escape(category)} (п. {escape(c.clause)}){scope}",
        f"Суть: {escape(ticket.summary)}",
        f"Сайт: {escape(ticket.site_url)} · {escape(ticket.edition)} {escape(ticket.version)}",
        f"Канал: {escape(ticket.channel)}; ответ на {escape(ticket.contact_email)}",
    ]
    if ticket.attachments:
        lines.append(f"Вложений: {len(ticket.attachments)}")
    return "\n".join(lines)


class AgentAnnouncer:
    """Posts to the agents' chat through whichever bot is running (None while stopped)."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id
        self.bot: Bot | None = None

    async def __call__(self, ticket: Ticket) -> None:
        await self._post(announcement(ticket), ticket.id)

    async def alert(self, text: str) -> None:
        """An operator alert (a ticket the mail server refused for good)."""
        await self._post(f"⚠️ {escape(text)}", "alert")

    async def _post(self, html: str, what: str) -> None:
        if self.bot is None:
            return
        try:
            await self.bot.send_message(self.chat_id, html, parse_mode=ParseMode.HTML)
        except TelegramAPIError as e:  # the ticket is filed anyway; agents also get the e-mail
            log.error("telegram: agent chat %s not notified of %s: %s", self.chat_id, what, e)
