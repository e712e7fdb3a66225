"""The store's promises, kept by both implementations: SQLite (the default) and PostgreSQL.

Each test runs twice through the `backend` fixture; "reopen" opens the same database again, as a
restart (or another replica) would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.channels.email.state import EmailState
from bot.channels.web.state import WebState
from bot.config import Settings
from bot.identity.consent import Consents
from bot.identity.forget import forget_customer, purge_expired
from bot.identity.verification import Verifier
from bot.mail.outbox import Outbox
from bot.mail.transport import EmlTransport
from bot.policy.limits import Limits, Rule
from bot.tickets.interface import TicketStore
from bot.tickets.model import Ticket, TicketStatus
from bot.tickets.pg.store import PgStore
from bot.tickets.render import Envelope, OutboundMessage, render_followup
from bot.tickets.store import Store
from tests.helpers import Recorder, make_ticket, renderer

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
Opener = Callable[[], Awaitable[TicketStore]]


def render(ticket: Ticket) -> OutboundMessage:
    message = OutboundMessage()
    message.envelope = Envelope(("support@whatasoft.test",))
    message["Message-ID"] = f"<{ticket.id}.ticket@test>"
    message["Subject"] = f"[{ticket.id}] test"
    message.set_content(ticket.description)
    return message


@pytest.fixture(params=["sqlite", "postgresql"])
async def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the test's database (a new store each call); every store is closed at the end."""
    opened: list[TicketStore] = []
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")

        async def open_pg() -> TicketStore:
            opened.append(await PgStore.open(url, max_size=4))
            return opened[-1]

        yield open_pg
    else:

        async def open_sqlite() -> TicketStore:
            opened.append(await Store.open(tmp_path / "db.sqlite3"))
            return opened[-1]

        yield open_sqlite
    for store in opened:
        await store.close()


async def test_ticket_ids_are_sequential_and_survive_a_restart(reopen: Opener) -> None:
    store = await reopen()
    first = await store.create_ticket(make_ticket(1), render, NOW)
    second = await store.create_ticket(make_ticket(2), render, NOW)
    assert (first.id, second.id) == ("WAS-000001", "WAS-000002")
    again = await reopen()
    third = await again.create_ticket(make_ticket(3), render, NOW)
    assert third.id == "WAS-000003"
    stored = await again.get_ticket("WAS-000001")
    assert stored is not None and stored.description == make_ticket(1).description
    assert await again.ticket_message_id("WAS-000002") == "<WAS-000002.ticket@test>"


async def test_a_failed_filing_leaves_nothing_and_its_number_is_not_reused(
    reopen: Opener,
) -> None:
    store = await reopen()

    def broken(ticket: Ticket) -> OutboundMessage:
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        await store.create_ticket(make_ticket(), broken, NOW)
    assert await store.count_tickets() == 0
    assert await store.due_messages(NOW) == []
    ticket = await store.create_ticket(make_ticket(), render, NOW)
    assert ticket.id in ("WAS-000001", "WAS-000002")  # a sequence may skip; never repeats
    (row,) = await store.due_messages(NOW)
    assert (row.ticket_id, row.kind, row.status) == (ticket.id, "ticket", "queued")


async def test_outbox_row_lifecycle_files_the_ticket(reopen: Opener) -> None:
    store = await reopen()
    ticket = await store.create_ticket(make_ticket(), render, NOW)
    (row,) = await store.due_messages(NOW)
    assert row.envelope == Envelope(("support@whatasoft.test",))
    assert await store.mark_sending(row.id, NOW)
    await store.mark_retry(row.id, "451 later", NOW + timedelta(minutes=5))
    assert await store.due_messages(NOW) == []
    assert await store.next_due_at() == NOW + timedelta(minutes=5)
    figures = await store.outbox_figures()
    assert figures["queued"] == 1 and figures["last_error"] == "451 later"
    assert figures["oldest_waiting_at"] == NOW
    assert await store.make_queued_due(NOW) == 1
    (row,) = await store.due_messages(NOW)
    assert row.attempts == 1
    assert await store.mark_sending(row.id, NOW)
    assert await store.mark_sent(row.id, NOW)
    filed = await store.get_ticket(ticket.id)
    assert filed is not None and filed.status is TicketStatus.FILED
    assert not await store.mark_sent(row.id, NOW)  # recorded once: another worker's is not news
    assert await store.outbox_counts() == {"sent": 1}
    assert await store.due_messages(NOW) == []


async def test_a_failed_delivery_marks_the_ticket_failed(reopen: Opener) -> None:
    store = await reopen()
    ticket = await store.create_ticket(make_ticket(), render, NOW)
    (row,) = await store.due_messages(NOW)
    await store.mark_sending(row.id, NOW)
    await store.mark_failed(row.id, "550 no such user")
    failed = await store.get_ticket(ticket.id)
    assert failed is not None and failed.status is TicketStatus.FAILED
    assert (await store.outbox_figures())["failed"] == 1


async def test_conversations_and_open_tickets(reopen: Opener) -> None:
    store = await reopen()
    await store.save_conversation("telegram", "42", {"step": "ask", "fields": {"a": "б"}}, NOW)
    again = await reopen()
    assert await again.load_conversation("telegram", "42") == {
        "step": "ask", "fields": {"a": "б"},
    }  # fmt: skip
    await again.delete_conversation("telegram", "42")
    assert await store.load_conversation("telegram", "42") is None
    first = await store.create_ticket(make_ticket(description="Корзина: ошибка 500"), render, NOW)
    closed = await store.create_ticket(make_ticket(description="Старый вопрос"), render, NOW)
    newest = await store.create_ticket(make_ticket(description='Кавычки "и" \\ %s ?'), render, NOW)
    await store.set_ticket_status(closed.id, TicketStatus.CLOSED)
    assert await store.open_tickets_of("test", "u1") == [
        (newest.id, 'Кавычки "и" \\ %s ?'),
        (first.id, "Корзина: ошибка 500"),
    ]
    assert [t.id for t in await store.tickets_of("test", "u1")] == [
        newest.id, closed.id, first.id,
    ]  # fmt: skip


async def test_inbound_mail_is_recorded_once_and_secrets_are_shared(reopen: Opener) -> None:
    store = await reopen()
    await store.record_inbound("<a@x>", "ignored", None, NOW)
    await store.record_inbound("<a@x>", "filed", "WAS-000009", NOW)
    assert await store.inbound_outcome("<a@x>") == ("ignored", None)
    assert await store.inbound_outcome("<b@x>") is None
    made = await store.secret("reply-key", lambda: "first")
    other = await reopen()
    assert await other.secret("reply-key", lambda: "second") == made == "first"


async def test_two_replicas_never_both_take_the_last_slot_of_a_limit(reopen: Opener) -> None:
    # Given two replicas (two stores on one database) and a limit of 3 tickets an hour
    rules = {
        "tickets_hour": Rule(3, timedelta(hours=1)),
        "tickets_day": Rule(20, timedelta(days=1)),
    }
    first = await Limits.open(await reopen(), rules)
    second = await Limits.open(await reopen(), rules)
    # When one customer's 40 filings arrive at both at once
    results = await asyncio.gather(
        *(
            (first if n % 2 else second).hit_all(
                ("tickets_hour", "tickets_day"), "telegram:9", NOW
            )
            for n in range(40)
        )
    )
    # Then exactly three are allowed, and each window holds exactly those three
    assert sum(r.allowed for r in results) == 3
    assert (await first.peek("tickets_hour", "telegram:9", NOW)).used == 3
    assert (await second.peek("tickets_day", "telegram:9", NOW)).used == 3
    denied = [r for r in results if not r.allowed]
    assert all(r.retry_at == NOW + timedelta(hours=1) for r in denied)


async def test_limits_consent_verification_and_forgetting(reopen: Opener, tmp_path: Path) -> None:
    store = await reopen()
    limits = await Limits.open(store, {"tickets_hour": Rule(2, timedelta(hours=1))})
    assert (await limits.hit("tickets_hour", "telegram:1", NOW)).allowed
    assert (await limits.hit("tickets_hour", "telegram:1", NOW)).allowed
    denied = await limits.hit("tickets_hour", "telegram:1", NOW + timedelta(minutes=1))
    assert not denied.allowed and denied.retry_at == NOW + timedelta(hours=1)
    await limits.undo("tickets_hour", "telegram:1", NOW)
    assert (await limits.peek("tickets_hour", "telegram:1", NOW)).used == 1

    consents = await Consents.open(store)
    await consents.record("telegram:1", NOW)
    assert await consents.has_consent("telegram:1")

    verifier = await Verifier.open(store, tmp_path, limits=await Limits.open(store))
    started = await verifier.start("telegram:1", "Ivan@Example.com", NOW)
    assert started.status == "sent" and started.code is not None
    wrong = "1" + started.code[1:] if started.code[0] != "1" else "2" + started.code[1:]
    assert (await verifier.check("telegram:1", "ivan@example.com", wrong, NOW)).status == "wrong"
    right = await verifier.check("telegram:1", "ivan@example.com", started.code, NOW)
    assert right.status == "ok"
    assert await verifier.verified_addresses("telegram:1") == ["ivan@example.com"]

    await store.save_conversation("telegram", "1", {"step": "ask"}, NOW - timedelta(days=40))
    await store.create_ticket(make_ticket(channel="telegram", customer_id="1"), render, NOW)
    report = await forget_customer(store, tmp_path, "telegram", "1")
    assert (report.conversation, report.verified_addresses, report.consent) == (True, 1, True)
    assert report.tickets_kept == 1
    assert not await consents.has_consent("telegram:1")
    await store.save_conversation("telegram", "2", {"step": "ask"}, NOW - timedelta(days=40))
    purged = await purge_expired(store, tmp_path, NOW, timedelta(days=30))
    assert purged.conversations == 1


async def test_email_channel_state_where_the_settings_keep_the_data(
    reopen: Opener, tmp_path: Path
) -> None:
    store = await reopen()  # opened first, as the desk is: on PostgreSQL it migrates
    url = store._url if isinstance(store, PgStore) else None
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)  # type: ignore[call-arg]
    state = await EmailState.open_for(settings)
    try:
        await state.record_sent("<r1@desk>", "WAS-000001", "reply", "ivan@example.com", NOW)
        await state.record_sent("<r1@desk>", "WAS-000002", "reply", "ivan@example.com", NOW)
        await state.record_sent("<r2@desk>", None, "guided", "ivan@example.com", NOW)
        assert await state.ticket_of(("<other@x>", "<r2@desk>", "<r1@desk>")) == "WAS-000002"
        assert await state.legacy_auto_replies() == []
        await state.drop_legacy_auto_replies()
    finally:
        await state.close()
    assert (tmp_path / "email-channel.sqlite3").exists() == (url is None)


async def test_web_form_state_is_shared_by_every_process_on_the_database(
    reopen: Opener, tmp_path: Path
) -> None:
    store = await reopen()  # opened first, as the desk is: on PostgreSQL it migrates
    url = store._url if isinstance(store, PgStore) else None
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)  # type: ignore[call-arg]
    first, second = await WebState.open_for(settings), await WebState.open_for(settings)
    try:
        # two replicas sign cookies with one key, made by whichever asked first
        key = await first.signing_key()
        assert await second.signing_key() == key and len(key) == 64
        # a status link made on one replica opens on the other, with its notices
        await first.add_link("hash-1", "WAS-000001", "session-a", "Ждите ответа.", NOW)
        await second.add_notice("WAS-000001", "Обращение зарегистрировано.", NOW)
        link = await second.link("hash-1")
        assert link is not None
        assert (link.ticket_id, link.session_id) == ("WAS-000001", "session-a")
        assert await first.notices("WAS-000001") == ["Обращение зарегистрировано."]
        assert await first.link("hash-unknown") is None
        await second.forget_session("session-a")
        assert await first.link("hash-1") is None and await first.notices("WAS-000001") == []
    finally:
        await first.close()
        await second.close()
    assert (tmp_path / "web-channel.sqlite3").exists() == (url is None)


async def test_the_outbox_delivers_a_ticket_and_its_follow_up_once(
    reopen: Opener, tmp_path: Path
) -> None:
    store = await reopen()
    settings = Settings(_env_file=None, data_dir=tmp_path, support_address="s@whatasoft.test")  # type: ignore[call-arg]
    now = datetime.now(UTC)
    ticket = await store.create_ticket(make_ticket(), renderer(settings), now)
    followup = render_followup(ticket, "ещё", [], settings, 2)
    await store.enqueue("followup", followup, now, ticket.id)
    rec = Recorder()
    outbox = Outbox(store, EmlTransport(settings.outbox_dir), rec.notify, base_delay=0.01)
    assert await outbox.deliver_due() == 2
    assert await outbox.deliver_due() == 0
    assert sorted(p.name for p in settings.outbox_dir.iterdir()) == [
        "WAS-000001.eml", "WAS-000001.followup-2.eml",
    ]  # fmt: skip
    assert [(r.kind, r.ticket_id) for r in rec.delivered] == [
        ("ticket", "WAS-000001"), ("followup", "WAS-000001"),
    ]  # fmt: skip
    filed = await store.get_ticket("WAS-000001")
    assert filed is not None and filed.status is TicketStatus.FILED


async def test_a_row_left_sending_is_confirmed_not_written_again(
    reopen: Opener, tmp_path: Path
) -> None:
    # Given a row a crashed run left in 'sending' after its file was written
    store = await reopen()
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    now = datetime.now(UTC)
    await store.create_ticket(make_ticket(), renderer(settings), now)
    transport = EmlTransport(settings.outbox_dir)
    (row,) = await store.due_messages(now)
    assert await store.mark_sending(row.id, now)
    await transport.send(row)
    before = (settings.outbox_dir / "WAS-000001.eml").stat().st_mtime_ns
    # When the outbox runs again (the same worker, as after a restart of its loop)
    rec = Recorder()
    outbox = Outbox(store, transport, rec.notify, base_delay=0.01)
    await outbox.deliver_due()
    # Then it confirms the file instead of writing it again, and says "filed" once
    assert outbox.stats == {"sent": 0, "confirmed": 1, "retried": 0, "failed": 0}
    assert (settings.outbox_dir / "WAS-000001.eml").stat().st_mtime_ns == before
    assert [r.ticket_id for r in rec.delivered] == ["WAS-000001"]
    assert await store.due_messages(datetime.now(UTC)) == []
