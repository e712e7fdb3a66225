"""After an SMTP outage every queued ticket goes as soon as the real server answers again.

During an outage the delays of the rows tried grow up to the ceiling (300 s by default) and are
stored, so they survive a restart. Here a delay of an hour stands for "grown during the outage":
a ticket still waiting for it when the server is back would fail every wait below.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.mail.outbox import Outbox
from bot.mail.transport import transport_from_settings
from bot.tickets.store import Store
from tests.helpers import Recorder, file_tickets, wait_until
from tests.servers.mail import MailServers

FAST = {"base_delay": 0.02, "max_delay": 0.3, "poll_interval": 0.2, "confirm_grace": 0.1}
GROWN = timedelta(hours=1)
PROMPT = 30.0  # generous for a noisy machine, and far below GROWN


@pytest.fixture
async def store(mail_settings: Settings) -> AsyncIterator[Store]:
    store = await Store.open(mail_settings.database_path)
    yield store
    await store.close()


def delay_row(settings: Settings, ticket_id: str, until: datetime) -> bool:
    """Give a queued (not in-flight) row the delay a long outage leaves; False if in flight."""
    with sqlite3.connect(settings.database_path) as db:
        cur = db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE ticket_id = ? AND status = 'queued'",
            (until.isoformat(), ticket_id),
        )
        return cur.rowcount == 1


def next_attempts(settings: Settings) -> list[datetime]:
    with sqlite3.connect(settings.database_path) as db:
        rows = db.execute("SELECT next_attempt_at FROM outbox WHERE status = 'queued'")
        return [datetime.fromisoformat(r[0]) for r in rows]


async def test_rows_delayed_by_an_outage_go_once_the_server_answers(
    mail_servers: MailServers, mail_settings: Settings, store: Store
) -> None:
    # Given the SMTP server is down while three tickets are filed
    mail_servers.stop_smtp()
    rec = Recorder()
    outbox = Outbox.from_settings(
        store, transport_from_settings(mail_settings), mail_settings, rec.notify, **FAST
    )
    outbox.start()
    ids = await file_tickets(store, mail_settings, 3)
    outbox.wake()

    async def retried() -> bool:
        return outbox.stats["retried"] >= 3

    await wait_until(retried)
    # And the first ticket's delay has grown long
    until = datetime.now(UTC) + GROWN

    async def delayed() -> bool:
        return delay_row(mail_settings, ids[0], until)

    await wait_until(delayed, step=0.01)
    # When the server comes back
    mail_servers.start_smtp()

    # Then all three are delivered promptly, the delayed one included
    async def all_sent() -> bool:
        return len(rec.delivered) == 3

    await wait_until(all_sent, within=PROMPT)
    await outbox.stop()
    assert sorted(r.ticket_id or "" for r in rec.delivered) == sorted(ids)
    assert len(await mail_servers.fetch_all()) == 3


@pytest.mark.parametrize("tickets", [1, 3])
async def test_delays_left_by_an_outage_before_a_restart_do_not_hold_the_queue(
    mail_servers: MailServers, mail_settings: Settings, store: Store, tickets: int
) -> None:
    # Given a desk that stopped during an outage, its rows' delays grown long
    mail_servers.stop_smtp()
    first = Outbox(store, transport_from_settings(mail_settings), **FAST)  # type: ignore[arg-type]
    first.start()
    ids = await file_tickets(store, mail_settings, tickets)
    first.wake()

    async def retried() -> bool:
        return first.stats["retried"] >= 1

    await wait_until(retried)
    await first.stop()
    for ticket_id in ids:
        assert delay_row(mail_settings, ticket_id, datetime.now(UTC) + GROWN)
    # When the server is back and the desk starts again
    mail_servers.start_smtp()
    rec = Recorder()
    outbox = Outbox(store, transport_from_settings(mail_settings), rec.notify, **FAST)  # type: ignore[arg-type]
    outbox.start()

    # Then every ticket goes at once, without waiting out the old delays
    async def all_sent() -> bool:
        return len(rec.delivered) == tickets

    await wait_until(all_sent, within=PROMPT)
    await outbox.stop()
    assert len(await mail_servers.fetch_all()) == tickets


async def test_a_server_still_down_at_start_pauses_the_queue_after_one_try(
    mail_servers: MailServers, mail_settings: Settings, store: Store
) -> None:
    # Given rows with long delays and a server that is still down
    mail_servers.stop_smtp()
    ids = await file_tickets(store, mail_settings, 3)
    for ticket_id in ids:
        assert delay_row(mail_settings, ticket_id, datetime.now(UTC) + GROWN)
    # When the desk starts (a first miss pauses the queue for 2.5-5 s here)
    outbox = Outbox(store, transport_from_settings(mail_settings), base_delay=5.0)
    outbox.start()

    async def retried() -> bool:
        return outbox.stats["retried"] >= 1

    await wait_until(retried)
    await outbox.stop()
    # Then one row was tried and the queue paused (the others are not hammered), and no row
    # waits out its old delay any more
    assert outbox.stats["retried"] == 1
    latest = datetime.now(UTC) + GROWN / 2
    assert all(moment < latest for moment in next_attempts(mail_settings))
