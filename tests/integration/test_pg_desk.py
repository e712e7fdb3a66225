"""Two replicas of the whole desk (`build_app`) on one PostgreSQL database, mail to real servers.

Without Redis: conversations are in the shared database too. Customers are served by either
replica; the tickets go out once each, whichever replica's worker delivers them, and the customer
is told once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot.app import App, build_app
from bot.config import Settings
from bot.intake.events import Reply, TextEvent
from bot.tickets.pg.store import PgStore
from classifier import Classifier
from tests.helpers import file_request, wait_until
from tests.servers.mail import MailServers

FAST = {"base_delay": 0.02, "max_delay": 0.3, "poll_interval": 0.2, "confirm_grace": 0.2}
REQUEST = (
    "Не работает оформление заказа в корзине: кнопка «Оформить» ничего не делает. Сайт "
    "example.ru, редакция Бизнес, версия 25.1.0, купон SM6-NS-ABCD12345, ivan@example.ru\n"
    "Шаги: 1. добавить товар 2. нажать Оформить"
)


@pytest.fixture
async def replicas(
    mail_settings: Settings, pg_url: str, trained_classifier: Classifier
) -> AsyncIterator[list[App]]:
    shared = mail_settings.model_copy(update={"database_url": pg_url})
    apps = [
        await build_app(shared, classifier=trained_classifier, outbox_options=FAST)
        for _ in range(2)
    ]
    yield apps
    for app in apps:
        await app.close()


async def test_customers_on_either_replica_are_filed_and_told_once(
    replicas: list[App], mail_servers: MailServers, mail_settings: Settings
) -> None:
    told: list[tuple[str, str]] = []

    async def notify(user: str, reply: Reply) -> None:
        told.append((user, reply.text))

    for app in replicas:
        assert isinstance(app.store, PgStore)
        app.desk.subscribe("test", notify)
    # Given six customers, each served by one replica or the other, at the same time
    users = [f"c{n}" for n in range(6)]
    await asyncio.gather(
        *(file_request(replicas[n % 2], user, REQUEST) for n, user in enumerate(users))
    )

    async def everyone_told() -> bool:
        return len(told) >= len(users)

    await wait_until(everyone_told)
    assert await replicas[0].drain_outbox(10)
    # Then six different ids, each in the support mailbox once, each customer told once
    ids = {t.id for u in users for t in await replicas[0].desk.tickets_of("test", u)}
    assert len(ids) == len(users)
    received = Counter(str(m["Message-ID"]) for m in await mail_servers.fetch_all())
    assert received == Counter(f"<{i}.ticket@whatasoft.test>" for i in ids)
    assert sorted(user for user, _ in told) == sorted(users)
    assert not (mail_settings.data_dir / "frontdesk.sqlite3").exists()


async def test_a_follow_up_on_the_other_replica_finds_the_ticket(replicas: list[App]) -> None:
    first, second = replicas
    await file_request(first, "f1", REQUEST)
    (ticket,) = await second.desk.tickets_of("test", "f1")
    (reply,) = await second.desk.handle("test", "f1", TextEvent("Забыл сказать: в админке то же"))
    assert ticket.id in reply.text
    assert await second.drain_outbox(10)
    counts = await first.store.outbox_counts()
    assert counts == {"sent": 2}  # the ticket and its follow-up, by whichever worker
