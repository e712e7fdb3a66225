"""Outbox against real servers (aiosmtpd → Dovecot Maildir, read back over IMAP), with faults."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.mail.confirm import ImapDeliveryCheck
from bot.mail.outbox import Outbox
from bot.mail.transport import SmtpTransport, transport_from_settings
from bot.tickets.model import TicketStatus
from bot.tickets.store import OutboxRow, Store
from tests.helpers import Recorder, file_tickets, wait_until
from tests.servers.mail import MailServers

FAST = {"base_delay": 0.02, "max_delay": 0.3, "poll_interval": 0.2, "confirm_grace": 0.1}


@pytest.fixture
async def store(mail_settings: Settings) -> AsyncIterator[Store]:
    store = await Store.open(mail_settings.database_path)
    yield store
    await store.close()


async def test_ticket_reaches_support_cc_and_copy_then_notifies(
    mail_servers: MailServers, mail_settings: Settings, store: Store
) -> None:
    transport = transport_from_settings(mail_settings)
    assert isinstance(transport, SmtpTransport)
    in_mailbox_when_notified: list[int] = []

    async def notify(row: OutboxRow) -> None:
        in_mailbox_when_notified.append(mail_servers.count("support"))

    outbox = Outbox(store, transport, notify, **FAST)  # type: ignore[arg-type]
    outbox.start()
    (ticket_id,) = await file_tickets(store, mail_settings, 1)
    outbox.wake()
    msgs = await mail_servers.wait_for(1)
    await wait_until(lambda: bool(in_mailbox_when_notified))
    await outbox.stop()

    assert in_mailbox_when_notified == [1]  # "filed" only once the server had accepted it
    (msg,) = msgs
    assert msg["Subject"].startswith(f"[{ticket_id}] Ошибка продукта: ")
    assert msg["Message-ID"] == f"<{ticket_id}.ticket@whatasoft.test>"
    assert msg["Bcc"] is None
    assert len(await mail_servers.fetch_all("customer")) == 1  # Cc to the customer
    copies = await mail_servers.fetch_all("frontdesk")  # the copy used to confirm deliveries
    assert [m["Message-ID"] for m in copies] == [msg["Message-ID"]]
    stored = await store.get_ticket(ticket_id)
    assert stored is not None and stored.status == TicketStatus.FILED


async def test_outage_while_100_tickets_are_filed_then_exactly_100(
    mail_servers: MailServers, mail_settings: Settings, store: Store
) -> None:
    # Given the SMTP server is down
    mail_servers.stop_smtp()
    rec = Recorder()
    outbox = Outbox(store, transport_from_settings(mail_settings), rec.notify, **FAST)  # type: ignore[arg-type]
    outbox.start()
    # When 100 tickets are filed during the outage
    ids = await file_tickets(store, mail_settings, 100)
    outbox.wake()
    await wait_until(lambda: outbox.stats["retried"] >= 3)
    assert mail_servers.count("support") == 0 and not rec.delivered
    # And the server comes back
    mail_servers.start_smtp()
    await wait_until(lambda: len(rec.delivered) == 100)
    await outbox.stop()
    # Then the mailbox holds exactly the 100 tickets, each once
    msgs = await mail_servers.fetch_all()
    assert len(msgs) == 100
    assert sorted(m["Message-ID"] for m in msgs) == sorted(
        f"<{i}.ticket@whatasoft.test>" for i in ids
    )
    assert sorted(r.ticket_id or "" for r in rec.delivered) == sorted(ids)
    assert await store.due_messages(datetime.now(UTC)) == []


async def test_4xx_then_2xx_is_retried(
    mail_servers: MailServers, mail_settings: Settings, store: Store
) -> None:
    mail_servers.fail_next(2, 451, "4.3.0 Mailbox busy")
    rec = Recorder()
    outbox = Outbox(store, transport_from_settings(mail_settings), rec.notify, **FAST)  # type: ignore[arg-type]
    outbox.start()
    (ticket_id,) = await file_tickets(store, mail_settings, 1)
    outbox.wake()
    await wait_until(lambda: bool(rec.delivered))
    await outbox.stop()
    assert outbox.stats["retried"] == 2
    assert len(await mail_servers.fetch_all()) == 1
    assert rec.delivered[0].attempts == 2  # the row as read before its third (successful) try


async def test_5xx_fails_and_alerts(
    mail_servers: MailServers, mail_settings: Settings, store: Store
) -> None:
    mail_servers.fail_next(1, 554, "5.7.1 Message rejected")
    rec = Recorder()
    outbox = Outbox(
        store, transport_from_settings(mail_settings), rec.notify, alert=rec.alert, **FAST,  # type: ignore[arg-type]
    )  # fmt: skip
    outbox.start()
    (ticket_id,) = await file_tickets(store, mail_settings, 1)
    outbox.wake()
    await wait_until(lambda: bool(rec.failed))
    await outbox.stop()
    (row, error) = rec.failed[0]
    assert row.ticket_id == ticket_id and "554" in error and "rejected" in error
    assert rec.delivered == []
    stored = await store.get_ticket(ticket_id)
    assert stored is not None and stored.status == TicketStatus.FAILED
    assert await mail_servers.fetch_all() == []


async def test_starttls_auth_wrong_password_is_permanent_and_clear(
    mail_servers: MailServers,
    mail_settings: Settings,
    store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "wrong-Secret-123"
    settings = mail_settings.model_copy(
        update={
            "smtp_port": mail_servers.smtp_starttls_port,
            "smtp_tls": "starttls",
            "smtp_user": "frontdesk",
            "smtp_password": SecretStr(secret),
        }
    )
    transport = transport_from_settings(settings, tls_context=mail_servers.client_ssl_context())
    rec = Recorder()
    outbox = Outbox(store, transport, rec.notify, alert=rec.alert, **FAST)  # type: ignore[arg-type]
    caplog.set_level(logging.DEBUG)
    outbox.start()
    await file_tickets(store, settings, 1)
    outbox.wake()
    await wait_until(lambda: bool(rec.failed))
    await outbox.stop()
    error = rec.failed[0][1]
    assert "authentication failed" in error and "535" in error
    assert secret not in caplog.text and secret not in error
    assert await mail_servers.fetch_all() == []


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_tls_modes_deliver(
    mail_servers: MailServers, mail_settings: Settings, store: Store, mode: str
) -> None:
    settings = mail_settings.model_copy(
        update={
            "smtp_port": (
                mail_servers.smtp_starttls_port
                if mode == "starttls"
                else mail_servers.smtp_tls_port
            ),
            "smtp_tls": mode,
            "smtp_user": "frontdesk" if mode == "starttls" else None,
            "smtp_password": SecretStr(mail_servers.password) if mode == "starttls" else None,
            "imap_tls": "tls",
            "imap_port": mail_servers.imaps_port,
        }
    )
    transport = transport_from_settings(settings, tls_context=mail_servers.client_ssl_context())
    rec = Recorder()
    outbox = Outbox(store, transport, rec.notify, **FAST)  # type: ignore[arg-type]
    await file_tickets(store, settings, 2)
    assert await outbox.deliver_due() == 2
    await outbox.stop()
    assert len(await mail_servers.fetch_all()) == 2
    assert len(rec.delivered) == 2


async def test_untrusted_certificate_is_permanent(
    mail_servers: MailServers, mail_settings: Settings, store: Store
) -> None:
    settings = mail_settings.model_copy(
        update={"smtp_port": mail_servers.smtp_tls_port, "smtp_tls": "tls"}
    )
    rec = Recorder()
    outbox = Outbox(store, SmtpTransport(settings), rec.notify, alert=rec.alert, **FAST)  # type: ignore[arg-type]
    await file_tickets(store, settings, 1)
    await outbox.deliver_due()
    await outbox.stop()
    assert rec.failed and "certificate" in rec.failed[0][1]


async def test_imap_check_finds_copies_only(
    mail_servers: MailServers, mail_settings: Settings, store: Store
) -> None:
    check = ImapDeliveryCheck.from_settings(mail_settings)
    outbox = Outbox(store, transport_from_settings(mail_settings), **FAST)  # type: ignore[arg-type]
    (ticket_id,) = await file_tickets(store, mail_settings, 1)
    assert await check.contains(f"<{ticket_id}.ticket@whatasoft.test>") is False
    await outbox.deliver_due()
    await outbox.stop()
    assert await check.contains(f"<{ticket_id}.ticket@whatasoft.test>") is True
    assert await check.contains("<WAS-999999.ticket@whatasoft.test>") is False
