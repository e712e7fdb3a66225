"""Wiring of the Telegram channel: `setup()` builds the Dispatcher; polling or webhook runs it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import ClientDecodeError, TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiohttp import web

from bot.channels.telegram.agents import AgentAnnouncer
from bot.channels.telegram.callbacks import CallbackSigner, derive_key
from bot.channels.telegram.handlers import attachments, commands, errors, intake
from bot.channels.telegram.middlewares import (
    InFlight,
    PerUserOrderMiddleware,
    RateLimitMiddleware,
    UpdateCounter,
)
from bot.channels.telegram.ports import CHANNEL, DeskPort
from bot.channels.telegram.sender import ReplySender
from bot.channels.telegram.texts import COMMANDS
from bot.channels.telegram.warmup import keep_response_models
from bot.config import Settings
from bot.intake.events import Reply
from bot.ops.metrics import Metrics
from bot.replicas.buckets import RedisBuckets
from bot.replicas.locks import connect, customer_locks
from bot.replicas.memory import RedisMemory

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# Seconds a stopping channel gives the updates in hand (a site check, a slow Bot API).
STOP_WAIT = 30.0


def build_bot(settings: Settings) -> Bot:
    if settings.telegram_token is None:
        raise ValueError("FRONTDESK_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.get_secret_value()
    if settings.telegram_api:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api))
        return Bot(token, session=session)
    return Bot(token)


def setup(
    desk: DeskPort,
    *,
    token: str,
    data_dir: Path,
    agent_chat_id: int | None = None,
    rate_burst: int = 10,
    rate_per_second: float = 1.0,
    metrics: Metrics | None = None,
    redis: Redis | None = None,
) -> Dispatcher:
    """A Dispatcher with the channel's routers; services travel in its workflow_data.

    With `redis` (several replicas) what one update leaves for the next of the same chat is in
    Redis: the chat's turn (a lock held while an update is handled), its flood limit and its last
    keyboard. The conversation itself is the desk's, the callback signatures derive from the
    token: any replica can take any update."""
    keep_response_models()
    signer = CallbackSigner(derive_key(token))
    sender = ReplySender(signer, RedisMemory(redis, "frontdesk:telegram:") if redis else None)
    announcer = AgentAnnouncer(agent_chat_id) if agent_chat_id is not None else None
    dp = Dispatcher(
        desk=desk, sender=sender, signer=signer, data_dir=data_dir, announcer=announcer
    )
    dp["in_flight"] = in_flight = InFlight()  # outermost: an update waiting for its turn too
    dp.update.outer_middleware(in_flight)
    dp.update.outer_middleware(UpdateCounter(metrics or Metrics()))  # floods counted too
    buckets = RedisBuckets(redis, "frontdesk:flood:") if redis else None
    limit = RateLimitMiddleware(burst=rate_burst, rate=rate_per_second, shared=buckets)
    dp.update.outer_middleware(limit)
    # With Redis, a chat's turn is the desk's lock of the customer itself: one lease per update,
    # not one for the turn and another for the conversation inside it.
    order = PerUserOrderMiddleware(customer_locks(redis) if redis else None)
    dp.update.outer_middleware(order)
    dp.include_routers(commands.build(), attachments.build(), intake.build(), errors.build())

    current: dict[str, Bot] = {}

    async def notify(user_id: str, reply: Reply) -> None:
        bot = current.get("bot")
        if bot is None:
            log.warning("telegram: notice for %s dropped: the bot is not running", user_id)
            return
        async with order.hold(int(user_id)):
            await sender.send(bot, int(user_id), int(user_id), [reply])

    desk.subscribe(CHANNEL, notify)
    if announcer is not None:
        desk.subscribe_agents(announcer)
        desk.subscribe_alerts(announcer.alert)

    async def on_startup(bot: Bot) -> None:
        current["bot"] = bot
        if announcer is not None:
            announcer.bot = bot
        await decorate(bot)

    async def on_shutdown() -> None:
        current.pop("bot", None)
        if announcer is not None:
            announcer.bot = None

    async def finish_updates() -> None:
        # First of the shutdown steps (Redis is closed after it): updates in hand finish.
        await in_flight.finish(STOP_WAIT)

    dp.startup.register(on_startup)
    dp.shutdown.register(finish_updates)
    dp.shutdown.register(on_shutdown)
    return dp


async def decorate(bot: Bot) -> None:
    """Start-up calls that only decorate the bot (the command menu). A Bot API server that
    refuses them (a local server or emulator without the method, a flood limit while a fleet
    restarts) costs the decoration, never the desk: a warning, and the bot runs without it.
    An emulator may refuse with a page that is not Bot API JSON at all: that too."""
    try:
        await set_commands(bot)
    except (TelegramAPIError, ClientDecodeError) as exc:
        log.warning(
            "telegram: the command menu was not set (%s: %s); running without it",
            type(exc).__name__, exc,
        )  # fmt: skip


async def set_commands(bot: Bot) -> None:
    """The command menu, Russian by default and English for English-speaking clients."""
    scope = BotCommandScopeAllPrivateChats()
    for lang, items in COMMANDS.items():
        menu = [BotCommand(command=c, description=d) for c, d in items]
        await bot.set_my_commands(menu, scope=scope, language_code=None if lang == "ru" else lang)


def setup_from_settings(
    settings: Settings, desk: DeskPort, metrics: Metrics | None = None
) -> Dispatcher:
    assert settings.telegram_token is not None
    redis = connect(settings.redis_url) if settings.redis_url else None
    dp = setup(
        desk,
        token=settings.telegram_token.get_secret_value(),
        data_dir=settings.data_dir,
        agent_chat_id=settings.agent_chat_id,
        metrics=metrics,
        redis=redis,
    )
    if redis is not None:

        async def close_redis() -> None:
            await redis.aclose()

        dp.shutdown.register(close_redis)
    return dp


async def run_polling(settings: Settings, desk: DeskPort, metrics: Metrics | None = None) -> None:
    """Long polling (the default); returns when polling stops."""
    bot = build_bot(settings)
    dp = setup_from_settings(settings, desk, metrics)
    try:
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(
            bot, handle_signals=False, allowed_updates=dp.resolve_used_update_types()
        )
    finally:
        await bot.session.close()


def webhook_secret(token: str) -> str:
    """The X-Telegram-Bot-Api-Secret-Token value: derived from the token, never the token."""
    return derive_key(token).hex()[:48]


def webhook_app(
    settings: Settings, desk: DeskPort, bot: Bot, metrics: Metrics | None = None
) -> web.Application:
    """An aiohttp app receiving updates at the path of `settings.webhook_url`."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    assert settings.webhook_url and settings.telegram_token is not None
    token = settings.telegram_token.get_secret_value()
    dp = setup_from_settings(settings, desk, metrics)
    secret = webhook_secret(token)

    async def register_webhook(bot: Bot) -> None:
        assert settings.webhook_url
        await bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=dp.resolve_used_update_types(),
        )

    dp.startup.register(register_webhook)
    app = web.Application()
    path = urlsplit(settings.webhook_url).path or "/"
    SimpleRequestHandler(dp, bot, secret_token=secret).register(app, path=path)
    in_flight: InFlight = dp["in_flight"]

    async def finish_updates(_app: web.Application) -> None:
        # Before the bot's session closes (the handler's own shutdown step, next, which runs
        # before the dispatcher's): the updates this replica accepted are answered, not
        # dropped, when it stops (a deploy).
        await in_flight.finish(STOP_WAIT)

    app.on_shutdown.insert(0, finish_updates)
    setup_application(app, dp, bot=bot)
    return app


async def run_webhook(
    settings: Settings,
    desk: DeskPort,
    *,
    host: str = "0.0.0.0",
    port: int = 8080,
    metrics: Metrics | None = None,
) -> web.AppRunner:
    """Starts the webhook server; the caller keeps it running and calls `runner.cleanup()`."""
    bot = build_bot(settings)
    runner = web.AppRunner(webhook_app(settings, desk, bot, metrics))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def run(settings: Settings, desk: DeskPort, metrics: Metrics | None = None) -> None:
    """Webhook mode when FRONTDESK_WEBHOOK_URL is set, long polling otherwise."""
    if not settings.webhook_url:
        if settings.redis_url:
            # Telegram hands updates to one long poller at a time (the others get 409).
            log.warning("telegram: long polling; several replicas need FRONTDESK_WEBHOOK_URL")
        await run_polling(settings, desk, metrics)
        return
    import asyncio

    runner = await run_webhook(
        settings, desk, host=settings.webhook_host, port=settings.webhook_port, metrics=metrics
    )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
