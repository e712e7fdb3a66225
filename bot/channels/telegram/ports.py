"""What the Telegram channel needs from the rest of the desk (bot/desk.py implements it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.intake.events import Event, Reply
from bot.tickets.model import Ticket

CHANNEL = "telegram"

Notify = Callable[[str, Reply], Awaitable[None]]
AgentNotify = Callable[[Ticket], Awaitable[None]]
Alert = Callable[[str], Awaitable[None]]


class DeskPort(Protocol):
    """The channel-agnostic service: the channel only translates updates and renders replies."""

    async def handle(
        self, channel: str, user_id: str, event: Event, *, lang_hint: str | None = None
    ) -> list[Reply]: ...

    def subscribe(self, channel: str, notify: Notify) -> None: ...

    def subscribe_agents(self, notify: AgentNotify) -> None: ...

    def subscribe_alerts(self, alert: Alert) -> None: ...
