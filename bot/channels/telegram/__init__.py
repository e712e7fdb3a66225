"""Telegram channel: aiogram routers, keyboards and middlewares around the channel-agnostic desk.

Only I/O lives here: updates become intake events (bot/intake/events.py), the desk answers with
replies, and the replies are rendered as HTML messages with inline keyboards.
"""

from bot.channels.telegram.lazy_types import import_aiogram

import_aiogram()  # before anything imports aiogram: see lazy_types.py

from bot.channels.telegram.app import (  # noqa: E402
    build_bot,
    run,
    run_polling,
    run_webhook,
    setup,
    setup_from_settings,
    webhook_app,
)

__all__ = [
    "build_bot",
    "run",
    "run_polling",
    "run_webhook",
    "setup",
    "setup_from_settings",
    "webhook_app",
]
