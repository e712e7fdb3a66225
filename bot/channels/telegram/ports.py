"""What the Telegram channel needs from the rest of the desk: the desks's one port
(bot/ports.py, which bot/desk.py implements) and the channel's name (bot/channel_names.py)."""

from __future__ import annotations

from bot.channel_names import TELEGRAM as CHANNEL
from bot.ports import AgentNotify, Alert, DeskPort, Notify

__all__ = ["CHANNEL", "AgentNotify", "Alert", "DeskPort", "Notify"]
