"""The ticket's added fields (`detail_labels`, `original_text`) survive the SQLite store, and
tickets stored before these fields existed still load."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.tickets.model import Ticket
from bot.tickets.render import Envelope, OutboundMessage
from bot.tickets.store import Store, ticket_from_data, ticket_to_data
from tests.helpers import make_ticket

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def added_fields_ticket() -> Ticket:
    """A ticket with the added fields set (and a Cyrillic site and e-mail, a "не знаю")."""
    return make_ticket(
        site_url="http://пример.рф/", contact_email="ivan@xn--e1afmkfd.xn--p1ai",
        version="не знаю", details={"error_text": "502 Bad Gateway"},
        detail_labels={"error_text": "Текст ошибки"},
        original_text="Здравствуйте! Не работает корзина.\nОшибка: 502 Bad Gateway",
    )  # fmt: skip


def render(ticket: Ticket) -> OutboundMessage:
    message = OutboundMessage()
    message.envelope = Envelope(("support@whatasoft.test",))
    message["Message-ID"] = f"<{ticket.id}.ticket@test>"
    message.set_content(ticket.description)
    return message


async def test_the_added_fields_round_trip_through_the_store(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        filed = await store.create_ticket(added_fields_ticket(), render, NOW)
        loaded = await store.get_ticket(filed.id)
    finally:
        await store.close()
    assert loaded is not None and loaded == filed
    assert loaded.detail_labels == {"error_text": "Текст ошибки"}
    assert loaded.original_text == added_fields_ticket().original_text


def test_a_ticket_stored_before_the_added_fields_still_loads() -> None:
    ticket = added_fields_ticket()
    ticket.id = "WAS-000001"
    data = json.loads(ticket_to_data(ticket))
    del data["detail_labels"], data["original_text"]
    loaded = ticket_from_data(json.dumps(data, ensure_ascii=False))
    assert (loaded.detail_labels, loaded.original_text) == ({}, "")
    assert loaded.details == ticket.details and loaded.description == ticket.description
    assert loaded.to_json()["original_text"] == ""
