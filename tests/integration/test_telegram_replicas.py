"""Two replicas of the Telegram channel in webhook mode behind a balancer, sharing one Redis.

The real path: the Bot API test server POSTs each update to the webhook URL, which is a small
round-robin reverse proxy (as nginx would be) in front of two `webhook_app` servers, each with a
desk of its own (`build_app`: both on the same SQLite file, as a shared database would be, and
the same Redis). Consecutive updates of one chat therefore land on different replicas, and
aiogram handles each in the background: without a lock shared by the replicas two of them would
work on the same conversation at once.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from pydantic import SecretStr

from bot.app import App, build_app
from bot.channels.telegram import build_bot, webhook_app
from bot.config import Settings
from bot.intake.events import Event, Reply
from classifier import Classifier
from tests.helpers import until_send, wait_until
from tests.servers.botapi import BotApiServer
from tests.servers.redis import RedisServer

TOKEN = "515151:replicas"
CUSTOMER = 6001
# A fast customer: the fields of 4.2 in five messages sent without waiting for an answer.
BURST = (
    "На сайте shop.example.ru корзина выдаёт ошибку 500 при оформлении заказа",
    "Шаги: 1. Добавить товар в корзину 2. Нажать «Оформить заказ»",
    "Редакция Бизнес, версия 24.1.3",
    "Купон AB12-CD34-EF56",
    "ivan@example.ru",
)


class Balancer:
    """A reverse proxy sending each POST to the next replica in turn (headers kept)."""

    def __init__(self) -> None:
        self.upstreams: list[str] = []
        self.sent: list[int] = []  # which replica got each update
        self._turn = itertools.count()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._session = aiohttp.ClientSession()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        n = next(self._turn) % len(self.upstreams)
        self.sent.append(n)
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-")}
        headers["Content-Type"] = request.content_type
        async with self._session.post(
            self.upstreams[n] + request.path, data=await request.read(), headers=headers
        ) as answer:
            return web.Response(status=answer.status, body=await answer.read())

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class Watch:
    """What both replicas do with the customer's chat, seen from the test (one process)."""

    botapi: BotApiServer
    inside: int = 0  # updates of the chat being handled by the desk right now, any replica
    most: int = 0
    # For each desk call: how many bot messages the chat had got when it started
    seen_at_start: list[int] = field(default_factory=list)
    delay: float = 0.02  # a slower desk widens any window for a race
    events: list[Event] = field(default_factory=list)  # in the order the desk took them

    def wrap(self, desk: Any) -> Any:
        watch = self

        class Watched:
            def __getattr__(self, name: str) -> Any:
                return getattr(desk, name)

            async def handle(self, channel: str, user_id: str, event: Event, **kw: Any) -> Any:
                watch.inside += 1
                watch.most = max(watch.most, watch.inside)
                watch.seen_at_start.append(len(watch.botapi.bot_messages(CUSTOMER)))
                watch.events.append(event)
                try:
                    replies: list[Reply] = await desk.handle(channel, user_id, event, **kw)
                    await asyncio.sleep(watch.delay)
                    return replies
                finally:
                    watch.inside -= 1

        return Watched()


@dataclass
class Cluster:
    apps: list[App]
    runners: list[web.AppRunner]
    balancer: Balancer
    watch: Watch
    stopped: set[int] = field(default_factory=set)

    async def stop(self, n: int) -> None:
        """Replica n's webhook server stops, as for a deploy (the balancer keeps trying it)."""
        self.stopped.add(n)
        await self.runners[n].cleanup()


@pytest_asyncio.fixture
async def replicas(
    request: pytest.FixtureRequest,
    botapi: BotApiServer,
    settings: Settings,
    trained_classifier: Classifier,
    private_redis: RedisServer,
) -> AsyncIterator[Cluster]:
    """Two replicas behind the balancer; consent (152-FZ) is asked when the test's parameter
    says `consent`, else not (the lock is what most tests look at)."""
    consent = getattr(request, "param", "") == "consent"
    balancer = Balancer()
    await balancer.start()
    shared = settings.model_copy(
        update={
            "telegram_token": SecretStr(TOKEN),
            "telegram_api": botapi.base_url,
            "webhook_url": f"http://127.0.0.1:{balancer.port}/telegram/hook",
            "redis_url": private_redis.url,
            "consent_channels": "telegram" if consent else "",
            "verify_channels": "",  # codes by e-mail are not what is tested here
        }
    )
    watch = Watch(botapi)
    apps: list[App] = []
    runners: list[web.AppRunner] = []
    bots: list[Any] = []
    cluster = Cluster(apps, runners, balancer, watch)
    try:
        for _ in range(2):
            app = await build_app(shared, classifier=trained_classifier)
            apps.append(app)
            bot = build_bot(shared)
            bots.append(bot)
            runner = web.AppRunner(webhook_app(shared, watch.wrap(app.desk), bot, app.metrics))
            runners.append(runner)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            assert site._server is not None
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            balancer.upstreams.append(f"http://127.0.0.1:{port}")
        await botapi.wait_for(lambda: len(botapi.calls("setWebhook")) == 2)
        yield cluster
    finally:
        for n, runner in enumerate(runners):
            if n not in cluster.stopped:
                await runner.cleanup()
        for bot in bots:
            await bot.session.close()
        for app in apps:
            await app.close()
        await balancer.stop()


def _texts(botapi: BotApiServer) -> list[str]:
    return [str(m.get("text", "")) for m in botapi.bot_messages(CUSTOMER)]


async def test_a_fast_customer_on_two_replicas_gets_one_consistent_conversation(
    botapi: BotApiServer, replicas: Cluster
) -> None:
    apps, balancer, watch = replicas.apps, replicas.balancer, replicas.watch
    # Given a customer who opened the chat
    botapi.user_command(CUSTOMER, "/start")
    await botapi.wait_bot_messages(CUSTOMER)
    # When they send five messages at once, spread over both replicas by the balancer (a slow
    # desk: all but the first wait for their turn)
    watch.delay = 0.3
    for text in BURST:
        botapi.user_text(CUSTOMER, text)
    answers = await botapi.wait_bot_messages(CUSTOMER, len(BURST), timeout=30)
    watch.delay = 0.02
    assert set(balancer.sent) == {0, 1}
    # Then each message was handled alone, after the answer to the one before had been sent:
    # one answer per message,
    assert watch.most == 1
    assert watch.seen_at_start == list(range(len(BURST) + 1))  # /start, then the five
    # and those that waited in the order they were written, though each replica had some
    waited = [str(getattr(e, "text", "")) for e in watch.events[2:]]
    assert waited == sorted(waited, key=BURST.index)
    # And nothing any message said was lost: on to the summary (answering what is left to ask)
    summary = await until_send(botapi, CUSTOMER, answers[-1])
    for value in ("shop.example.ru", "24.1.3", "AB12-CD34-EF56", "ivan@example.ru", "Бизнес"):
        assert value in summary["text"], value
    assert "Оформить заказ" in summary["text"]  # the steps
    # When Send is pressed twice in a row (a double tap), each press reaching a replica
    send = dict(botapi.buttons(summary))["Отправить"]
    calls = len(watch.seen_at_start)
    botapi.user_click(CUSTOMER, summary["message_id"], send)
    botapi.user_click(CUSTOMER, summary["message_id"], send)
    await wait_until(lambda: len(watch.seen_at_start) == calls + 2 and not watch.inside, 30)
    # Then one ticket is filed, and the customer is told so once
    tickets = await apps[0].desk.tickets_of("telegram", str(CUSTOMER))
    assert len(tickets) == 1
    [ticket] = tickets
    assert ticket.version == "24.1.3" and ticket.coupon == "AB12-CD34-EF56"
    assert ticket.contact_email == "ivan@example.ru" and "корзин" in ticket.description
    queued = [t for t in _texts(botapi) if "поставлено в очередь" in t and ticket.id in t]
    assert len(queued) == 1, queued
    # And both replicas see the same conversation
    states = [await app.desk.conversation("telegram", str(CUSTOMER)) for app in apps]
    assert states[0] == states[1] and states[0] is not None and states[0].step == "filed"
    assert watch.most == 1


@pytest.mark.parametrize("replicas", ["consent"], indirect=True)
async def test_what_was_written_before_consent_reaches_the_replica_that_gets_the_consent(
    botapi: BotApiServer, replicas: Cluster
) -> None:
    apps, balancer = replicas.apps, replicas.balancer
    # Given a new customer whose first message is held until they consent (152-FZ)
    botapi.user_text(CUSTOMER, BURST[0])
    [asked] = await botapi.wait_bot_messages(CUSTOMER)
    consent = next(data for label, data in botapi.buttons(asked) if label.startswith("Соглас"))
    # When they consent, and the balancer hands that update to the other replica
    botapi.user_click(CUSTOMER, asked["message_id"], consent)
    [answer] = await botapi.wait_bot_messages(CUSTOMER)
    assert balancer.sent == [0, 1]
    # Then the message they wrote first is read now, not lost
    assert "shop.example.ru" in answer["text"], answer["text"]
    state = await apps[0].desk.conversation("telegram", str(CUSTOMER))
    assert state is not None and "корзин" in state.fields["description"]


async def test_a_replica_stopped_for_a_deploy_answers_the_update_it_took(
    botapi: BotApiServer, replicas: Cluster
) -> None:
    watch, balancer = replicas.watch, replicas.balancer
    # Given an update that a replica accepted (Telegram has its 200) and is still handling
    watch.delay = 1.0
    botapi.user_command(CUSTOMER, "/start")
    await wait_until(lambda: watch.inside == 1, within=10)
    [taken] = balancer.sent
    # When that replica is stopped meanwhile
    await replicas.stop(taken)
    # Then it stopped only after answering it
    assert watch.inside == 0
    [greeting] = await botapi.wait_bot_messages(CUSTOMER, timeout=1)
    assert greeting["text"].startswith("Здравствуйте")
    # And the next update goes to the replica still running (the proxy retries there)
    watch.delay = 0.0
    botapi.user_text(CUSTOMER, BURST[0])
    [answer] = await botapi.wait_bot_messages(CUSTOMER, timeout=30)
    assert "shop.example.ru" in answer["text"]
    assert balancer.sent[-1] == 1 - taken
