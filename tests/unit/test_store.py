"""The SQLite store: ticket ids, one-transaction filing, conversations, migrations."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.tickets.model import Ticket, TicketStatus
from bot.tickets.render import Envelope, OutboundMessage
from bot.tickets.store import Store
from tests.helpers import make_ticket

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def render(ticket: Ticket) -> OutboundMessage:
    message = OutboundMessage()
    message.envelope = Envelope(("support@whatasoft.test",))
    message["Message-ID"] = f"<{ticket.id}.ticket@test>"
    message["Subject"] = f"[{ticket.id}] test"
    message.set_content(ticket.description)
    return message


async def test_ticket_ids_are_sequential_and_never_reused(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    first = await store.create_ticket(make_ticket(), render, NOW)
    second = await store.create_ticket(make_ticket(), render, NOW)
    assert (first.id, second.id) == ("WAS-000001", "WAS-000002")
    await store.close()
    # Even when the newest row disappears, its number is not handed out again
    with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db, db:
        db.execute("DELETE FROM tickets WHERE id = 'WAS-000002'")
    store = await Store.open(tmp_path / "db.sqlite3")
    third = await store.create_ticket(make_ticket(), render, NOW)
    assert third.id == "WAS-000003"
    await store.close()


async def test_ticket_and_its_email_are_one_transaction(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")

    def broken(ticket: Ticket) -> OutboundMessage:
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        await store.create_ticket(make_ticket(), broken, NOW)
    assert await store.count_tickets() == 0
    assert await store.due_messages(NOW) == []
    ticket = await store.create_ticket(make_ticket(), render, NOW)
    (row,) = await store.due_messages(NOW)
    assert (row.ticket_id, row.kind) == (ticket.id, "ticket")
    assert row.message_id == f"<{ticket.id}.ticket@test>"
    await store.close()


async def test_ticket_survives_a_restart_with_its_outbox_row(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    down = make_ticket(description="Сайт лежит, 500 на всех страницах")
    ticket = await store.create_ticket(down, render, NOW)
    await store.close()
    store = await Store.open(tmp_path / "db.sqlite3")
    again = await store.get_ticket(ticket.id)
    assert again is not None and again.description == "Сайт лежит, 500 на всех страницах"
    assert again.classification.clause == "3.4.1.1"
    assert again.status is TicketStatus.QUEUED
    (row,) = await store.due_messages(NOW)
    await store.mark_sending(row.id, NOW)
    await store.mark_sent(row.id, NOW)
    filed = await store.get_ticket(ticket.id)
    assert filed is not None and filed.status is TicketStatus.FILED
    assert await store.due_messages(NOW) == []
    await store.close()


async def test_migrations_run_once(tmp_path: Path) -> None:
    for _ in range(3):
        store = await Store.open(tmp_path / "db.sqlite3")
        version = store.schema_version
        await store.close()
        with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db:
            (row,) = db.execute("SELECT COUNT(*) FROM schema_version").fetchall()
        assert row[0] == version


async def test_conversation_round_trip(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    await store.save_conversation("telegram", "42", {"step": "ask", "fields": {"a": "б"}}, NOW)
    await store.close()
    store = await Store.open(tmp_path / "db.sqlite3")
    assert await store.load_conversation("telegram", "42") == {"step": "ask", "fields": {"a": "б"}}
    assert await store.load_conversation("telegram", "43") is None
    await store.close()


async def test_open_tickets_are_the_customers_tickets_in_work_newest_first(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    first = await store.create_ticket(make_ticket(description="Корзина: ошибка 500"), render, NOW)
    closed = await store.create_ticket(make_ticket(description="Старый вопрос"), render, NOW)
    newest = await store.create_ticket(make_ticket(description='Кавычки "и" \\ слэш'), render, NOW)
    other = make_ticket(description="Чужое обращение")
    other.customer_id = "u2"
    await store.create_ticket(other, render, NOW)
    await store.set_ticket_status(closed.id, TicketStatus.CLOSED)
    await store.set_ticket_status(first.id, TicketStatus.ANSWERED)
    assert await store.open_tickets_of("test", "u1") == [
        (newest.id, 'Кавычки "и" \\ слэш'),
        (first.id, "Корзина: ошибка 500"),
    ]
    assert await store.open_tickets_of("other", "u1") == []
    await store.close()
