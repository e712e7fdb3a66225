"""The guided web form (aiohttp): one more thin channel of the desk (see server.py)."""

from bot.channels.web.server import WebChannel, run_web_channel

__all__ = ["WebChannel", "run_web_channel"]
