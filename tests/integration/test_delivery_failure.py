"""A ticket the mail server refuses for good: the customer is told, the operators are alerted."""

from __future__ import annotations

from bot.app import build_app
from bot.config import Settings
from bot.intake.events import Reply
from bot.tickets.model import Ticket, TicketStatus
from bot.tickets.store import Store
from classifier import Classifier
from tests.helpers import file_request, wait_until
from tests.servers.mail import MailServers

REQUEST = (
    "Не работает оформление заказа в корзине: кнопка «Оформить» ничего не делает. Сайт "
    "example.ru, редакция Бизнес, версия 25.1.0, купон SM6-NS-ABCD12345, ivan@example.ru\n"
    "Шаги: 1. добавить товар 2. нажать Оформить"
)


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
        await file_request(app, "p1", REQUEST)
        await wait_until(lambda: bool(alerts and notices))
    finally:
        await app.close()
    assert alerts and "WAS-000001" in alerts[0] and "550" in alerts[0]
    assert notices and "WAS-000001" in notices[0] and "не удалось" in notices[0].lower()
    (ticket,) = await tickets_of_p1(settings)
    assert ticket.status is TicketStatus.FAILED
    assert mail_servers.count("support") == 0


async def tickets_of_p1(settings: Settings) -> list[Ticket]:
    """Customer p1's tickets as stored, read after the desk has stopped."""
    store = await Store.open(settings.database_path)
    try:
        return await store.tickets_of("test", "p1")
    finally:
        await store.close()
