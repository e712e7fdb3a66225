"""A ticket the mail server refuses for good: the customer is told, the operators are alerted."""

from __future__ import annotations

import asyncio

from bot.app import build_app
from bot.config import Settings
from bot.intake.events import Reply
from bot.tickets.model import TicketStatus
from classifier import Classifier
from tests.integration.test_desk import file_request
from tests.servers.mail import MailServers


async def test_permanent_refusal_reaches_customer_and_agents(
    mail_servers: MailServers, mail_settings: Settings, trained_classifier: Classifier
) -> None:
    settings = mail_settings.model_copy(update={"imap_host": None})  # SMTP only
    app = await build_app(settings, classifier=trained_classifier)
    notices: list[str] = []
    alerts: list[str] = []

    async def notify(user: str, reply: Reply) -> None:
        notices.append(reply.text)

    async def alert(text: str) -> None:
        alerts.append(text)

    app.desk.subscribe("test", notify)
    app.desk.subscribe_alerts(alert)
    mail_servers.fail_next(5, code=550, text="5.1.1 Mailbox unavailable")
    try:
        await file_request(app, "p1")
        for _ in range(200):
            if alerts and notices:
                break
            await asyncio.sleep(0.05)
    finally:
        await app.close()
    assert alerts and "WAS-000001" in alerts[0] and "550" in alerts[0]
    assert notices and "WAS-000001" in notices[0] and "не удалось" in notices[0].lower()
    (ticket,) = await _tickets(settings)
    assert ticket.status is TicketStatus.FAILED
    assert mail_servers.count("support") == 0


async def _tickets(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.tickets.store import Store

    store = await Store.open(settings.database_path)
    try:
        return await store.tickets_of("test", "p1")
    finally:
        await store.close()
