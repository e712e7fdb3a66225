"""Outbox worker with the .eml transport and the real SQLite store (no network)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.mail.outbox import Outbox
from bot.mail.transport import EmlTransport, eml_name, envelope_of
from bot.tickets.model import TicketStatus
from bot.tickets.render import render_followup, render_ticket
from bot.tickets.store import OutboxRow, Store
from tests.helpers import Recorder, make_ticket, renderer, wait_until


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        support_address="support@whatasoft.test",
        from_address="frontdesk@whatasoft.test",
        data_dir=tmp_path / "var",
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    store = await Store.open(settings.database_path)
    yield store
    await store.close()


async def test_eml_transport_files_ticket_and_notifies_after_writing(
    store: Store, settings: Settings
) -> None:
    transport = EmlTransport(settings.outbox_dir)
    rec = Recorder()
    seen_file: list[bool] = []

    async def notify(row: OutboxRow) -> None:
        seen_file.append((settings.outbox_dir / "WAS-000001.eml").exists())
        await rec.notify(row)

    outbox = Outbox(store, transport, notify, alert=rec.alert, base_delay=0.01, poll_interval=0.2)
    outbox.start()
    ticket = await store.create_ticket(make_ticket(), renderer(settings), datetime.now(UTC))
    outbox.wake()

    async def filed() -> bool:
        return len(rec.delivered) == 1

    await wait_until(filed)
    await outbox.stop()
    assert seen_file == [True]
    assert rec.delivered[0].ticket_id == ticket.id == "WAS-000001"
    stored = await store.get_ticket("WAS-000001")
    assert stored is not None and stored.status == TicketStatus.FILED
    raw = (settings.outbox_dir / "WAS-000001.eml").read_bytes()
    assert b"Message-ID: <WAS-000001.ticket@whatasoft.test>" in raw
    assert list(settings.outbox_dir.iterdir()) == [settings.outbox_dir / "WAS-000001.eml"]


async def test_followup_file_name(store: Store, settings: Settings) -> None:
    now = datetime.now(UTC)
    ticket = await store.create_ticket(make_ticket(), renderer(settings), now)
    await store.enqueue(
        "followup", render_followup(ticket, "ещё", [], settings, 5), now, ticket.id
    )
    outbox = Outbox(store, EmlTransport(settings.outbox_dir), base_delay=0.01)
    assert await outbox.deliver_due() == 2
    names = sorted(p.name for p in settings.outbox_dir.iterdir())
    assert names == ["WAS-000001.eml", "WAS-000001.followup-5.eml"]


async def test_crash_leftover_already_written_is_not_rewritten(
    store: Store, settings: Settings
) -> None:
    # Given a row that a crashed run left in 'sending' after its file was written
    now = datetime.now(UTC)
    await store.create_ticket(make_ticket(), renderer(settings), now)
    transport = EmlTransport(settings.outbox_dir)
    (row,) = await store.due_messages(now)
    await store.mark_sending(row.id, now)
    await transport.send(row)
    before = (settings.outbox_dir / "WAS-000001.eml").stat().st_mtime_ns
    # When a new outbox starts
    rec = Recorder()
    outbox = Outbox(store, transport, rec.notify, base_delay=0.01)
    await outbox.deliver_due()
    # Then it confirms the file instead of writing it again, and says "filed"
    assert outbox.stats == {"sent": 0, "confirmed": 1, "retried": 0, "failed": 0}
    assert (settings.outbox_dir / "WAS-000001.eml").stat().st_mtime_ns == before
    assert [r.ticket_id for r in rec.delivered] == ["WAS-000001"]
    assert await store.due_messages(datetime.now(UTC)) == []


async def test_crash_leftover_not_written_is_sent_after_grace(
    store: Store, settings: Settings
) -> None:
    now = datetime.now(UTC)
    await store.create_ticket(make_ticket(), renderer(settings), now)
    (row,) = await store.due_messages(now)
    await store.mark_sending(row.id, now)  # crashed before anything was written
    rec = Recorder()
    outbox = Outbox(
        store, EmlTransport(settings.outbox_dir), rec.notify, confirm_grace=0.05,
        poll_interval=0.05,
    )  # fmt: skip
    outbox.start()

    async def delivered() -> bool:
        return bool(rec.delivered)

    await wait_until(delivered)
    await outbox.stop()
    assert outbox.stats["sent"] == 1
    assert (settings.outbox_dir / "WAS-000001.eml").exists()


def test_backoff_is_exponential_capped_and_jittered(store: Store) -> None:
    low = Outbox(
        store, EmlTransport(Path("/nonexistent")), base_delay=1, max_delay=300, rng=lambda: 0
    )
    high = Outbox(
        store, EmlTransport(Path("/nonexistent")), base_delay=1, max_delay=300, rng=lambda: 1
    )
    assert [low.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1, 2, 4]
    assert [high.backoff(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert high.backoff(30) == 300 and low.backoff(1000) == 150


def test_envelope_takes_to_cc_and_copy(settings: Settings) -> None:
    ticket = make_ticket()
    ticket.id = "WAS-000007"
    message = render_ticket(ticket, settings)
    row = OutboxRow(
        1, ticket.id, "ticket", "<x@y>", message.as_bytes(), 0, "queued", message.envelope
    )
    assert envelope_of(row, "frontdesk@whatasoft.test") == (
        ["support@whatasoft.test"],
        ["ivan@example.com", "frontdesk@whatasoft.test"],
    )


def test_eml_names() -> None:
    row = OutboxRow(3, "WAS-000123", "ticket", "<WAS-000123.ticket@x.test>", b"", 0, "queued")
    assert eml_name(row) == "WAS-000123.eml"
    reply = OutboxRow(4, None, "reply", "<1.2.3/..@x.test>", b"", 0, "queued")
    assert eml_name(reply) == "1.2.3.eml"
