"""Several real `frontdesk run` replicas on one PostgreSQL database, under faults.

Two replicas (child processes, as in production) share a throwaway PostgreSQL cluster, a Redis
server and the data dir; they run the e-mail channel (one watches the Dovecot mailbox: the Redis
lease holder) and Telegram in webhook mode, the project's Bot API test server POSTing updates to a
round-robin proxy in front of both. Customers write to the front-desk mailbox (and, in one test,
file through Telegram) while a replica is killed (SIGKILL) in the middle of a delivery, PostgreSQL
restarts, or the IMAP leader is killed. Each time:

- every request got a ticket of its own: the ticket ids are distinct and one per request;
- the support mailbox received each ticket exactly once;
- every customer's e-mail was answered exactly once, none missed.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest_asyncio

from bot.tickets.render import POLICY
from tests.helpers import until_send, wait_until
from tests.integration.test_email_channel import COMPLETE
from tests.integration.test_ops import FrontdeskRun, scrape, value
from tests.integration.test_telegram_replicas import Balancer
from tests.servers.botapi import BotApiServer
from tests.servers.mail import PASSWORD, MailServers, free_port
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer

TOKEN = "717171:replicas-e2e"
TICKET_ID = re.compile(r"<(WAS-\d{6})\.ticket@")
LEASE = 2.0  # seconds a dead replica's outbox claims hold (FRONTDESK_OUTBOX_LEASE)
WITHIN = 60.0  # generous: the machines are noisy (../shared/TESTING.md)


@dataclass
class Replica:
    run: FrontdeskRun
    ops_port: int
    webhook_port: int

    @property
    def pid(self) -> int:
        return self.run.proc.pid

    @property
    def alive(self) -> bool:
        return self.run.proc.poll() is None

    async def watching(self) -> bool:
        """True while this replica watches the IMAP mailbox (it holds the lease)."""
        return bool(value(await scrape(self.ops_port), "frontdesk_imap_watching") == 1)


@dataclass
class Cluster:
    """The replicas, the servers they share, and what the customers sent."""

    servers: MailServers
    botapi: BotApiServer
    database: str
    env: dict[str, str]
    workdir: Path
    replicas: list[Replica] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # Message-IDs of the customers' e-mails

    def start(self, n: int) -> Replica:
        ops, webhook = free_port(), free_port()
        env = {**self.env, "FRONTDESK_OPS_PORT": str(ops), "FRONTDESK_WEBHOOK_PORT": str(webhook)}
        log = self.workdir / f"replica{n}.log"
        replica = Replica(FrontdeskRun(env, self.workdir, log), ops, webhook)
        self.replicas.append(replica)
        return replica

    async def leader(self) -> Replica:
        """The one replica watching the mailbox, once there is one."""
        found: list[Replica] = []

        async def one() -> bool:
            found[:] = [r for r in self.replicas if r.alive and await r.watching()]
            return len(found) == 1

        await wait_until(one, within=WITHIN, step=0.2)
        return found[0]

    def write(self) -> str:
        """One more customer (a new sender: the per-sender limits are not what is tested) writes
        a complete request to the front-desk mailbox."""
        n = len(self.sent) + 1
        msg = EmailMessage(policy=POLICY)
        msg["From"] = f"Клиент {n} <client{n}@shop{n}.example>"
        msg["To"] = "frontdesk@whatasoft.test"
        msg["Subject"] = f"Не работает корзина {n}"
        msg["Message-ID"] = f"<e2e-{n}-{time.monotonic_ns()}@shop{n}.example>"
        msg.set_content(COMPLETE.replace("https://shop.example", f"https://shop{n}.example"))
        self.servers.deliver(msg)
        self.sent.append(str(msg["Message-ID"]))
        return self.sent[-1]

    async def keep_writing(self, count: int, every: float) -> None:
        for _ in range(count):
            self.write()
            await asyncio.sleep(every)

    def answers(self) -> dict[str, tuple[int, int]]:
        """For each customer's e-mail: (answers in its thread, notices about its ticket) in the
        customer's mailbox. One sender per e-mail, so the notices are told apart by address."""
        by_address: dict[str, list[str]] = {}
        for raw in self.servers.raw_messages("customer"):
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            by_address.setdefault(str(msg["To"]), []).append(str(msg["In-Reply-To"] or ""))
        found: dict[str, tuple[int, int]] = {}
        for n, mid in enumerate(self.sent, start=1):
            got = by_address.get(f"client{n}@shop{n}.example", [])
            found[mid] = (got.count(mid), got.count(""))
        return found

    def delivered(self) -> Counter[str]:
        """Ticket ids in the support mailbox, counted (read from disk: every copy counts)."""
        found: Counter[str] = Counter()
        for raw in self.servers.raw_messages("support"):
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            match = TICKET_ID.match(str(msg["Message-ID"] or ""))
            if match:
                found[match.group(1)] += 1
        return found

    def tickets(self) -> list[tuple[str, str]]:
        """(id, channel) of every ticket in the shared database."""
        with psycopg.connect(self.database) as conn:
            rows = conn.execute("SELECT id, channel FROM tickets ORDER BY id").fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def undelivered(self) -> int:
        with psycopg.connect(self.database) as conn:
            row = conn.execute("SELECT count(*) FROM outbox WHERE status <> 'sent'").fetchone()
        return int(row[0]) if row else -1

    async def settled(self, telegram_tickets: int = 0) -> None:
        """Wait until every e-mail is answered and every ticket delivered; then check that each
        happened exactly once. (The answer in an e-mail's thread is queued after the
        transaction that files its ticket: a leader killed between the two leaves it to the
        next leader, which finds the e-mail filed but unanswered and answers it.)"""
        wanted = len(self.sent) + telegram_tickets

        def done() -> bool:
            return (
                all(told >= 1 and notices >= 1 for told, notices in self.answers().values())
                and len(self.tickets()) >= wanted
                and len(self.delivered()) >= wanted
                and self.undelivered() == 0
            )

        await wait_until(done, within=WITHIN, step=0.2)
        await asyncio.sleep(1.0)  # a duplicate, if any, would arrive meanwhile
        # Each e-mail is answered in its thread ("queued as WAS-…") and told once its ticket
        # reached support ("filed"), never twice.
        answers = self.answers()
        assert answers == dict.fromkeys(self.sent, (1, 1)), answers
        tickets = self.tickets()
        ids = [t for t, _ in tickets]
        assert len(ids) == len(set(ids)) == wanted, tickets
        assert (
            Counter(channel for _, channel in tickets)
            == Counter({"email": len(self.sent), "telegram": telegram_tickets}) - Counter()
        )  # (minus an empty Counter drops a zero count)
        assert self.delivered() == Counter(dict.fromkeys(ids, 1))


async def _cluster(
    url: str, redis: RedisServer, servers: MailServers, botapi: BotApiServer, model_dir: Path,
    tmp_path: Path,
) -> AsyncIterator[Cluster]:  # fmt: skip
    balancer = Balancer()
    await balancer.start()
    env = {
        "FRONTDESK_DATABASE_URL": url,
        "FRONTDESK_REDIS_URL": redis.url,
        "FRONTDESK_DATA_DIR": str(tmp_path / "var"),  # one volume for every replica
        "FRONTDESK_MODEL_DIR": str(model_dir),
        "FRONTDESK_SMTP_HOST": "127.0.0.1",
        "FRONTDESK_SMTP_PORT": str(servers.smtp_port),
        "FRONTDESK_IMAP_HOST": "127.0.0.1",
        "FRONTDESK_IMAP_PORT": str(servers.imap_port),
        "FRONTDESK_IMAP_USER": "frontdesk",
        "FRONTDESK_IMAP_PASSWORD": PASSWORD,
        "FRONTDESK_SUPPORT_ADDRESS": "support@whatasoft.test",
        "FRONTDESK_FROM_ADDRESS": "frontdesk@whatasoft.test",
        "FRONTDESK_TELEGRAM_TOKEN": TOKEN,
        "FRONTDESK_TELEGRAM_API": botapi.base_url,
        "FRONTDESK_WEBHOOK_URL": f"http://127.0.0.1:{balancer.port}/telegram/hook",
        "FRONTDESK_WEBHOOK_HOST": "127.0.0.1",
        # Consent and the e-mailed code are tested elsewhere; here they would only add turns.
        "FRONTDESK_CONSENT_CHANNELS": "",
        "FRONTDESK_VERIFY_CHANNELS": "",
        "FRONTDESK_OUTBOX_LEASE": str(LEASE),
        "FRONTDESK_OUTBOX_CONFIRM_WAIT": "0.5",
        "FRONTDESK_OUTBOX_RETRY_BASE": "0.2",
        "FRONTDESK_OUTBOX_RETRY_MAX": "1",
        "FRONTDESK_IMAP_IDLE_RENEW": "5",
        "FRONTDESK_LOG_FORMAT": "json",
    }
    cluster = Cluster(servers, botapi, url, env, tmp_path)
    try:
        for n in range(2):
            cluster.start(n)
        for replica in cluster.replicas:
            await replica.run.wait_record("frontdesk running")
            balancer.upstreams.append(f"http://127.0.0.1:{replica.webhook_port}")
        await cluster.leader()
        yield cluster
    finally:
        for replica in cluster.replicas:
            replica.run.kill()
        await balancer.stop()


@pytest_asyncio.fixture
async def cluster(
    pg_url: str, private_redis: RedisServer, mail_servers: MailServers, botapi: BotApiServer,
    model_dir: Path, trained_classifier: object, tmp_path: Path,
) -> AsyncIterator[Cluster]:  # fmt: skip
    """Two replicas on a fresh database of the session's cluster."""
    async for c in _cluster(pg_url, private_redis, mail_servers, botapi, model_dir, tmp_path):
        yield c


@pytest_asyncio.fixture
async def restartable(
    private_postgres: PostgresServer, private_redis: RedisServer, mail_servers: MailServers,
    botapi: BotApiServer, model_dir: Path, trained_classifier: object, tmp_path: Path,
) -> AsyncIterator[tuple[Cluster, PostgresServer]]:  # fmt: skip
    """Two replicas on a cluster of the test's own, which it restarts."""
    url = private_postgres.new_database()
    async for c in _cluster(url, private_redis, mail_servers, botapi, model_dir, tmp_path):
        yield c, private_postgres


async def test_a_replica_killed_mid_delivery_loses_and_duplicates_nothing(
    cluster: Cluster,
) -> None:
    # Given the support mail server holding its answer to each message it has stored (a
    # delivery in flight: accepted, the replica not told yet)
    cluster.servers.hold_smtp()
    for _ in range(3):
        cluster.write()
    await wait_until(lambda: cluster.servers.holding >= 1, within=WITHIN)
    # When the replica that holds that delivery's claim is killed (no clean stop)
    with psycopg.connect(cluster.database) as conn:
        holders = conn.execute("SELECT claimed_by FROM outbox WHERE status = 'sending'").fetchall()
    pids = {int(str(h[0]).split(":")[1]) for h in holders}
    [victim] = [r for r in cluster.replicas if r.pid in pids][:1]
    victim.run.kill()  # SIGKILL
    cluster.servers.release_smtp()
    # And customers keep writing
    await cluster.keep_writing(3, every=0.3)
    # Then the survivor, once the lease ran out, confirms the accepted message by its copy in
    # the front-desk mailbox instead of sending it again, and delivers the rest once
    await cluster.settled()  # the victim may have been the IMAP leader


# A Telegram customer's request with every field (4.2): the intake asks only its gates.
TELEGRAM_REQUEST = (
    "На сайте shop{n}.example.ru корзина выдаёт ошибку 500 при оформлении заказа. "
    "Шаги: 1. Добавить товар 2. Нажать «Оформить заказ». Редакция Бизнес, версия 24.1.3, "
    "купон AB12-CD34-EF56, почта client{n}@example.ru"
)


async def telegram_customer(botapi: BotApiServer, user: int) -> int:
    """One customer files a ticket in the chat: the request, the gates, Send, until the bot
    names the ticket. A customer told "something went wrong" (their Send met the restart)
    presses Send again, as a person would; how often that happened is returned."""
    botapi.user_text(user, TELEGRAM_REQUEST.format(n=user))
    [first] = await botapi.wait_bot_messages(user, timeout=WITHIN)
    summary = await until_send(botapi, user, first)
    send = dict(botapi.buttons(summary))["Отправить"]
    errors = 0
    botapi.user_click(user, summary["message_id"], send)
    while True:
        [answer] = await botapi.wait_bot_messages(user, timeout=WITHIN)
        text = str(answer.get("text", ""))
        if "WAS-" in text:
            return errors
        assert text.startswith("Что-то пошло не так") and errors < 3, text
        errors += 1
        botapi.user_text(user, "Отправить")  # the keyboard stays after a failure


async def test_postgres_restarting_under_load_loses_and_duplicates_nothing(
    restartable: tuple[Cluster, PostgresServer],
) -> None:
    cluster, postgres = restartable
    # Given customers writing e-mails and filing in Telegram on both replicas
    writing = asyncio.create_task(cluster.keep_writing(10, every=0.3))
    chats = [asyncio.create_task(telegram_customer(cluster.botapi, 8001 + n)) for n in range(3)]
    await wait_until(lambda: len(cluster.tickets()) >= 2, within=WITHIN)
    # When PostgreSQL restarts meanwhile (every connection of every replica cut)
    await asyncio.to_thread(postgres.restart)
    await writing
    retried = await asyncio.gather(*chats)
    # Then every request is filed once, delivered once, and every e-mail answered once
    await cluster.settled(telegram_tickets=3)
    assert sum(retried) <= 3  # at most the Send in flight when the connections were cut


async def test_the_imap_leader_killed_while_mail_arrives_loses_and_duplicates_nothing(
    cluster: Cluster,
) -> None:
    # Given e-mails arriving steadily
    writing = asyncio.create_task(cluster.keep_writing(12, every=0.3))
    await wait_until(lambda: len(cluster.answers()) >= 2, within=WITHIN)
    # When the replica watching the mailbox is killed (its lease left to expire)
    leader = await cluster.leader()
    leader.run.kill()
    # Then another takes over, and every e-mail, before, during and after, is answered once
    successor = await cluster.leader()
    assert successor is not leader
    await writing
    await cluster.settled()
