"""A customer's filing in flight when PostgreSQL restarts is filed once, not refused.

The restart happens inside the transaction that files the ticket (between taking the number and
storing the ticket), on a cluster of the test's own (tests/servers/postgres.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from bot.config import Settings
from bot.tickets.model import Ticket
from bot.tickets.pg.store import PgStore
from bot.tickets.render import OutboundMessage
from tests.helpers import make_ticket, renderer
from tests.servers.postgres import PostgresServer


async def test_a_filing_cut_by_a_restart_is_filed_once_on_another_connection(
    private_postgres: PostgresServer, mail_settings: Settings
) -> None:
    url = private_postgres.new_database()
    store = await PgStore.open(url, max_size=2)
    render = renderer(mail_settings)
    restarts: list[str] = []

    def render_during_a_restart(ticket: Ticket) -> OutboundMessage:
        # The number is taken, nothing is stored yet: the database restarts now (once).
        if not restarts:
            restarts.append(ticket.id)
            private_postgres.restart()
        return render(ticket)

    try:
        # When a ticket is filed while PostgreSQL restarts under the transaction
        ticket = await store.create_ticket(
            make_ticket(1), render_during_a_restart, datetime.now(UTC)
        )
        # Then it is filed once, under the next number (the cut one is never reused)
        assert restarts == ["WAS-000001"]
        assert ticket.id == "WAS-000002"
    finally:
        await store.close()
    with psycopg.connect(url) as conn:
        tickets = conn.execute("SELECT id FROM tickets").fetchall()
        outbox = conn.execute("SELECT ticket_id, kind FROM outbox").fetchall()
    assert tickets == [("WAS-000002",)]
    assert outbox == [("WAS-000002", "ticket")]


async def test_connections_the_server_closed_while_idle_are_replaced_unseen(
    pg_url: str,
) -> None:
    """The pool lends a connection without a round trip when the server has said nothing since
    its last use; one the server closed meanwhile is noticed and replaced, so the caller's
    statement still runs."""
    store = await PgStore.open(pg_url, max_size=3)
    try:
        assert await store.count_tickets() >= 0  # a connection in the pool, used once
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
            # With a timeout, pg_terminate_backend waits until each backend has said goodbye on
            # its socket and exited, as after a restart, before the pool lends its connection
            cur = await admin.execute(
                "SELECT bool_and(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE application_name = '' AND datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            row = await cur.fetchone()
            assert row is not None and row[0], "the pool's connections were ended"
        for _ in range(5):  # every connection the pool had is closed: each is replaced
            assert await store.count_tickets() >= 0
    finally:
        await store.close()
