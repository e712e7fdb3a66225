"""One IMAP watcher among replicas sharing Redis, against the real Dovecot fixture.

Every replica runs the e-mail channel; only the one holding the Redis lease watches the mailbox.
Mail arrives before the replicas start, while the leader is being stopped (or killed), and after
another replica took over: each message is answered exactly once. The replicas share the mailbox
position (one data dir, as on one machine or a shared volume) and the record of handled mail
(one SQLite database here; several machines need FRONTDESK_DATABASE_URL for that record).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.channels.email.channel import EmailChannel, watcher_leader_key
from bot.config import Settings
from bot.desk import Desk
from bot.intake.machine import IntakeContext
from bot.mail.outbox import Outbox
from bot.mail.transport import transport_from_settings
from bot.ops.metrics import Metrics
from bot.replicas.leader import Leadership
from bot.replicas.locks import connect
from bot.tickets.render import POLICY
from bot.tickets.store import Store
from classifier import Classifier
from tests.helpers import wait_until
from tests.integration.test_email_channel import INCOMPLETE, make_desk
from tests.integration.test_ops import FrontdeskRun
from tests.servers.mail import MailServers

WATCHER = {"backoff_initial": 0.1, "backoff_max": 1.0, "timeout": 5.0}


@dataclass
class Replica:
    """The e-mail channel of one replica, with a Redis client and a lease of its own."""

    channel: EmailChannel
    leadership: Leadership
    redis: Any
    metrics: Metrics
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.channel.run(self.leadership, **WATCHER))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def watching(self) -> float:
        return self.metrics.imap_watching._value.get()  # type: ignore[no-any-return]


@dataclass
class Mailroom:
    servers: MailServers
    settings: Settings
    store: Store
    desk: Desk
    outbox: Outbox  # started by the test: on SQLite one replica at a time delivers
    sent: list[str] = field(default_factory=list)  # Message-IDs of the customers' mails

    def write(self, n: int) -> None:
        """Customer n writes an incomplete request (a guided reply is due), straight into the
        front-desk mailbox. One sender per message: the hourly limit of guided replies per
        sender is not what is tested."""
        msg = EmailMessage(policy=POLICY)
        msg["From"] = f"customer{n}@shop.example"
        msg["To"] = self.settings.from_address
        msg["Subject"] = f"Корзина, письмо {n}"
        msg["Message-ID"] = f"<replicas-{n}-{time.monotonic_ns()}@shop.example>"
        msg.set_content(INCOMPLETE)
        self.servers.deliver(msg)
        self.sent.append(str(msg["Message-ID"]))

    async def handled(self) -> int:
        """How many of the mails sent so far the desk has recorded as handled."""
        done = 0
        for n, mid in enumerate(self.sent, start=1):
            if await self.desk.inbound_outcome(f"customer{n}@shop.example {mid}") is not None:
                done += 1
        return done

    def answers(self) -> Counter[str]:
        """The desk's replies in the customers' mailbox, counted by the mail they answer."""
        found: Counter[str] = Counter()
        for raw in self.servers.raw_messages("customer"):
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            found[str(msg["In-Reply-To"] or "")] += 1
        return found


@pytest_asyncio.fixture
async def mailroom(
    mail_servers: MailServers, mail_settings: Settings, context: IntakeContext, redis_url: str
) -> AsyncIterator[Mailroom]:
    settings = mail_settings.model_copy(update={"redis_url": redis_url})
    store, desk = await make_desk(settings, context)
    # Uncertain deliveries are confirmed over IMAP (the Bcc copy) before any resend.
    outbox = Outbox.from_settings(
        store, transport_from_settings(settings), settings, desk.on_delivered,
        base_delay=0.1, max_delay=1.0, confirm_grace=0.5,
    )  # fmt: skip
    desk.set_outbox_waker(outbox.wake)
    redis = connect(redis_url)
    await redis.delete(watcher_leader_key(settings))
    try:
        yield Mailroom(mail_servers, settings, store, desk, outbox)
    finally:
        await redis.delete(watcher_leader_key(settings))
        await redis.aclose()
        await outbox.stop(grace=5)
        await store.close()


def replica(room: Mailroom, redis_url: str) -> Replica:
    metrics = Metrics()
    client = connect(redis_url)
    leadership = Leadership(client, watcher_leader_key(room.settings), ttl=1.0, poll=0.2)
    return Replica(EmailChannel(room.desk, room.settings, metrics=metrics), leadership, client,
                   metrics)  # fmt: skip


async def test_one_replica_watches_and_a_stopped_leader_hands_over_without_loss(
    mailroom: Mailroom, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    room = mailroom
    room.outbox.start()
    # Given mail waiting before any replica runs
    for n in range(1, 4):
        room.write(n)
    replicas = [replica(room, redis_url) for _ in range(2)]
    try:
        for r in replicas:
            r.start()
        await wait_until(lambda: _count(room.handled(), 3), within=30)
        # Then exactly one replica watches (and says so on /metrics)
        leaders = [r for r in replicas if r.leadership.is_leader]
        assert len(leaders) == 1
        [leader] = leaders
        [follower] = [r for r in replicas if r is not leader]
        assert (leader.watching(), follower.watching()) == (1.0, 0.0)
        # When more mail arrives while the leader is being stopped
        for n in range(4, 7):
            room.write(n)
        await leader.stop()
        # Then the other replica takes over within seconds
        await wait_until(lambda: follower.leadership.is_leader, within=10)
        # (the metric follows once the new leader's watcher has started)
        await wait_until(lambda: (leader.watching(), follower.watching()) == (0.0, 1.0), within=10)
        # And mail arriving after the hand-over is handled too
        for n in range(7, 10):
            room.write(n)
        await wait_until(lambda: _count(room.handled(), 9), within=30)
        # Each mail answered exactly once, whoever watched when it came
        await wait_until(lambda: len(room.answers()) >= 9, within=30)
        answers = room.answers()
        assert {mid: answers[mid] for mid in room.sent} == dict.fromkeys(room.sent, 1)
        assert (leader.leadership.terms, follower.leadership.terms) == (1, 1)
        # And the new leader went on from the position the old one saved: it fetched none of
        # the mails already handled again (it would have found them recorded, and said so)
        again = [r.getMessage() for r in caplog.records if "already handled" in r.getMessage()]
        assert not [line for line in again if "replicas-" in line], again
    finally:
        for r in replicas:
            await r.stop()
            await r.redis.aclose()


async def _count(done: Any, wanted: int) -> bool:
    return int(await done) >= wanted


async def test_a_killed_leader_process_is_replaced_and_no_mail_is_lost(
    mailroom: Mailroom, redis_url: str, trained_classifier: Classifier, model_dir: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    room = mailroom
    s = room.settings
    # Given the real `frontdesk run` as one replica (it leads: it is alone) on the same data
    # dir and Redis, and this process as the other
    env = {
        "FRONTDESK_SMTP_HOST": str(s.smtp_host),
        "FRONTDESK_SMTP_PORT": str(s.smtp_port),
        "FRONTDESK_IMAP_HOST": str(s.imap_host),
        "FRONTDESK_IMAP_PORT": str(s.imap_port),
        "FRONTDESK_IMAP_USER": str(s.imap_user),
        "FRONTDESK_IMAP_PASSWORD": room.servers.password,
        "FRONTDESK_SUPPORT_ADDRESS": s.support_address,
        "FRONTDESK_FROM_ADDRESS": s.from_address,
        "FRONTDESK_DATA_DIR": str(s.data_dir),
        "FRONTDESK_REDIS_URL": redis_url,
        "FRONTDESK_MODEL_DIR": str(model_dir),
        "FRONTDESK_OUTBOX_CONFIRM_WAIT": "0.5",
        "FRONTDESK_LOG_FORMAT": "json",
    }
    run = FrontdeskRun(env, tmp_path, tmp_path / "frontdesk.log")
    follower = replica(room, redis_url)
    try:
        await run.wait_record("frontdesk running")
        await wait_until(lambda: follower.redis.exists(watcher_leader_key(s)), within=30)
        follower.start()
        for n in range(1, 4):
            room.write(n)
        await wait_until(lambda: _count(room.handled(), 3), within=30)
        assert not follower.leadership.is_leader
        # When more mail arrives and the leader is killed (no release, no clean stop)
        for n in range(4, 7):
            room.write(n)
        run.kill()
        # Then this replica takes over once the dead leader's lease has expired (5 s)
        await wait_until(lambda: follower.leadership.is_leader, within=15)
        room.outbox.start()  # the dead replica's deliveries are this one's now
        for n in range(7, 10):
            room.write(n)
        await wait_until(lambda: _count(room.handled(), 9), within=30)
        # And each mail is answered exactly once
        await wait_until(lambda: len(room.answers()) >= 9, within=30)
        answers = room.answers()
        assert {mid: answers[mid] for mid in room.sent} == dict.fromkeys(room.sent, 1)
    finally:
        run.kill()
        await follower.stop()
        await follower.redis.aclose()
