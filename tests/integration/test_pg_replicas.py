"""Several replicas on one PostgreSQL database: ids, migrations, and the outbox on every replica.

"Replicas" are PgStores with pools of their own (and, for the migrations, processes of their
own); deliveries go to the real local SMTP server and land in Dovecot (tests/servers/mail.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.config import Settings
from bot.mail.outbox import Outbox
from bot.mail.transport import SmtpTransport, transport_from_settings
from bot.tickets.pg.migrations import MIGRATIONS
from bot.tickets.pg.store import PgStore
from bot.tickets.store import OutboxRow
from tests.helpers import Recorder, make_ticket, renderer, wait_until
from tests.servers.mail import MailServers
from tests.servers.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
FAST = {"base_delay": 0.02, "max_delay": 0.3, "poll_interval": 0.2, "confirm_grace": 0.2}
LEASE = 1.0  # seconds: how long a dead worker's claim holds its rows

Open = Callable[..., Awaitable[PgStore]]


@pytest.fixture
async def replica(pg_url: str) -> AsyncIterator[Open]:
    """Opens one more replica's store on the test's database; all closed at the end."""
    stores: list[PgStore] = []

    async def open_one(**options: float) -> PgStore:
        stores.append(await PgStore.open(pg_url, max_size=4, **options))  # type: ignore[arg-type]
        return stores[-1]

    yield open_one
    for store in stores:
        await store.close()


async def file(store: PgStore, settings: Settings, numbers: range) -> list[str]:
    tickets = [
        await store.create_ticket(make_ticket(n), renderer(settings), datetime.now(UTC))
        for n in numbers
    ]
    return [t.id for t in tickets]


async def support_ids(mail_servers: MailServers) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in await mail_servers.fetch_all())


async def test_two_replicas_filing_at_once_never_share_a_ticket_id(
    replica: Open, mail_settings: Settings
) -> None:
    first, second = await replica(), await replica()

    async def one(store: PgStore, n: int) -> str:
        ticket = await store.create_ticket(
            make_ticket(n), renderer(mail_settings), datetime.now(UTC)
        )
        return ticket.id

    ids = await asyncio.gather(
        *(one(first if n % 2 else second, n) for n in range(1, 61))
    )  # fmt: skip
    assert len(set(ids)) == 60
    assert sorted(ids) == [f"WAS-{n:06d}" for n in range(1, 61)]
    assert await first.count_tickets() == 60
    assert sum((await second.outbox_counts()).values()) == 60


_MIGRATE = """
import asyncio, json, sys, time
from psycopg import AsyncConnection
from bot.tickets.pg.migrate import migrate

async def main(url, start):
    time.sleep(max(0.0, start - time.time()))  # both processes begin at the same moment
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        print(json.dumps(await migrate(conn)))

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


def test_migrations_run_once_when_two_processes_start_together(pg_url: str) -> None:
    start = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, pg_url, str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode(errors="replace")
        results.append(json.loads(out))
    versions = [v for v, _, _ in MIGRATIONS]
    assert sorted(results) == [[], versions]  # one applied everything, the other nothing
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == versions


async def test_two_workers_deliver_every_ticket_exactly_once(
    replica: Open, mail_settings: Settings, mail_servers: MailServers
) -> None:
    # Given two replicas, each with its outbox worker, on one database
    stores = [await replica(), await replica()]
    recorders = [Recorder(), Recorder()]
    outboxes = [
        Outbox(s, transport_from_settings(mail_settings), r.notify, **FAST)  # type: ignore[arg-type]
        for s, r in zip(stores, recorders, strict=True)
    ]
    for outbox in outboxes:
        outbox.start()
    # When both file tickets (each wakes every worker through NOTIFY)
    ids = await file(stores[0], mail_settings, range(1, 16))
    ids += await file(stores[1], mail_settings, range(16, 31))

    async def all_told() -> bool:
        return sum(len(r.delivered) for r in recorders) >= 30

    await wait_until(all_told)
    await asyncio.sleep(0.5)  # a duplicate, if any, would arrive meanwhile
    for outbox in outboxes:
        await outbox.stop()
    # Then support received each ticket once, and each customer was told once
    received = await support_ids(mail_servers)
    assert received == Counter(f"<{i}.ticket@whatasoft.test>" for i in ids)
    told = Counter(row.ticket_id for r in recorders for row in r.delivered)
    assert told == Counter(ids)
    assert await stores[0].outbox_counts() == {"sent": 30}


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _DieAfterAccept(SmtpTransport):
    async def send(self, row: OutboxRow) -> None:
        await super().send(row)
        _die()  # the server has accepted; mark_sent never runs


async def _child(mode: str, url: str, config: dict[str, object]) -> None:
    """A replica killed (SIGKILL) with its claims: after claiming, after marking a row
    'sending', or after the mail server accepted the message."""
    settings = Settings(_env_file=None, **config)  # type: ignore[call-arg, arg-type]
    store = await PgStore.open(url, lease=LEASE)
    await file(store, settings, range(1, 4))
    rows = await store.due_messages(datetime.now(UTC))
    if mode == "claimed":
        _die()
    await store.mark_sending(rows[0].id, datetime.now(UTC))
    if mode == "marked":
        _die()
    transport = _DieAfterAccept(settings, copy_to=settings.from_address)
    await transport.send(rows[0])
    raise AssertionError("the child should have been killed")


@pytest.mark.parametrize("mode", ["claimed", "marked", "accepted"])
async def test_a_replica_killed_holding_claims_loses_nothing_and_duplicates_nothing(
    replica: Open, pg_url: str, mail_settings: Settings, mail_servers: MailServers, mode: str
) -> None:
    # Given a replica killed (SIGKILL) holding claims on three rows, at `mode`
    config = json.loads(
        mail_settings.model_dump_json(
            include={"smtp_host", "smtp_port", "support_address", "from_address", "data_dir"}
        )
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.test_pg_replicas", mode, pg_url,
        json.dumps(config), cwd=ROOT, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == -signal.SIGKILL, err.decode(errors="replace")
    assert len(await support_ids(mail_servers)) == (1 if mode == "accepted" else 0)
    # While its lease holds, another replica cannot take the rows
    survivor = await replica(lease=LEASE)
    assert await survivor.due_messages(datetime.now(UTC)) == []
    # When the survivor's worker runs, the lease runs out and it delivers everything once
    rec = Recorder()
    outbox = Outbox(survivor, transport_from_settings(mail_settings), rec.notify, **FAST)  # type: ignore[arg-type]
    outbox.start()

    async def all_told() -> bool:
        return len(rec.delivered) == 3

    await wait_until(all_told)
    await outbox.stop()
    ids = [f"WAS-{n:06d}" for n in range(1, 4)]
    assert await support_ids(mail_servers) == Counter(f"<{i}.ticket@whatasoft.test>" for i in ids)
    assert outbox.stats["confirmed"] == (1 if mode == "accepted" else 0)


async def test_a_replica_stopped_cleanly_hands_its_claims_over_at_once(
    replica: Open, mail_settings: Settings
) -> None:
    leaving = await replica()  # the default lease: minutes
    await file(leaving, mail_settings, range(1, 3))
    assert len(await leaving.due_messages(datetime.now(UTC))) == 2
    await leaving.close()
    staying = await replica()
    assert [r.ticket_id for r in await staying.due_messages(datetime.now(UTC))] == [
        "WAS-000001", "WAS-000002",
    ]  # fmt: skip


async def test_the_outbox_carries_on_after_the_database_restarts(
    private_postgres: PostgresServer, mail_settings: Settings, mail_servers: MailServers
) -> None:
    # Given a replica's worker that polls so rarely that only a notification wakes it in time,
    # and another replica filing tickets
    url = private_postgres.new_database()
    worker, filer = await PgStore.open(url, max_size=4), await PgStore.open(url, max_size=4)
    rec = Recorder()
    woken = {**FAST, "poll_interval": 600.0}
    outbox = Outbox(worker, transport_from_settings(mail_settings), rec.notify, **woken)  # type: ignore[arg-type]
    outbox.start()

    def told(n: int) -> Callable[[], bool]:
        return lambda: len(rec.delivered) == n

    try:
        await file(filer, mail_settings, range(1, 3))
        await wait_until(told(2), within=30)
        # When PostgreSQL restarts (every connection cut, the LISTEN one too)
        await asyncio.to_thread(private_postgres.restart)
        # Then filing works at the first try, the worker listens again (it looks once on its
        # own, having maybe missed something) and is woken for each new ticket
        await file(filer, mail_settings, range(3, 4))
        await wait_until(told(3), within=30)
        await file(filer, mail_settings, range(4, 5))
        await wait_until(told(4), within=30)
    finally:
        await outbox.stop()
        await worker.close()
        await filer.close()
    ids = [f"WAS-{n:06d}" for n in range(1, 5)]
    assert await support_ids(mail_servers) == Counter(f"<{i}.ticket@whatasoft.test>" for i in ids)


class _Hangs(SmtpTransport):
    """Hangs in the middle of a delivery, before or after the mail server accepted the message,
    until the worker is killed (its task cancelled)."""

    def __init__(self, settings: Settings, *, after_accept: bool) -> None:
        super().__init__(settings, copy_to=settings.from_address)
        self.after_accept = after_accept
        self.inside = asyncio.Event()

    async def send(self, row: OutboxRow) -> None:
        if self.after_accept:
            await super().send(row)
        self.inside.set()
        await asyncio.Event().wait()


@pytest.mark.parametrize("after_accept", [False, True], ids=["before-accept", "after-accept"])
async def test_a_worker_cancelled_mid_delivery_is_confirmed_then_delivered_once(
    replica: Open, mail_settings: Settings, mail_servers: MailServers, after_accept: bool
) -> None:
    # Given a worker cancelled while the row is 'sending' (maybe delivered, maybe not), its
    # replica then stopped
    dying = await replica(lease=LEASE)
    (ticket_id,) = await file(dying, mail_settings, range(1, 2))
    hangs = _Hangs(mail_settings, after_accept=after_accept)
    doomed = Outbox(dying, hangs, **FAST)  # type: ignore[arg-type]
    doomed.start()
    await asyncio.wait_for(hangs.inside.wait(), 30)
    await doomed.stop(grace=0)
    await dying.close()
    # When another replica's worker takes the row
    survivor = await replica(lease=LEASE)
    rec = Recorder()
    outbox = Outbox(survivor, transport_from_settings(mail_settings), rec.notify, **FAST)  # type: ignore[arg-type]
    outbox.start()

    async def told() -> bool:
        return len(rec.delivered) == 1

    await wait_until(told)
    await outbox.stop()
    # Then the IMAP copy decided: resent only when the server never had it
    assert await support_ids(mail_servers) == Counter([f"<{ticket_id}.ticket@whatasoft.test>"])
    assert outbox.stats["confirmed"] == (1 if after_accept else 0)
    assert outbox.stats["sent"] == (0 if after_accept else 1)
    filed = await survivor.get_ticket(ticket_id)
    assert filed is not None and filed.status == "filed"


if __name__ == "__main__":
    asyncio.run(_child(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))
