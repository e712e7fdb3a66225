"""aiogram routers of the Telegram channel, one per concern."""
