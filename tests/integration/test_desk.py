"""The desk: conversations persisted (SQLite or Redis), tickets filed through the outbox."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import App, build_app
from bot.config import Settings
from bot.intake.events import ChoiceEvent, CommandEvent, Reply, TextEvent
from bot.tickets.conversations import RedisConversations
from bot.tickets.model import TicketStatus
from classifier import Classifier
from tests.helpers import file_request as file_through_desk

EVERYTHING = (
    "Не работает оформление заказа в корзине: кнопка «Оформить» ничего не делает. Сайт "
    "example.ru, редакция Бизнес, версия 25.1.0, купон SM6-NS-ABCD12345, ivan@example.ru\n"
    "Шаги: 1. добавить товар 2. нажать Оформить"
)


@pytest.fixture
async def app(settings: Settings, trained_classifier: Classifier) -> AsyncIterator[App]:
    application = await build_app(settings, classifier=trained_classifier)
    yield application
    await application.close()


async def file_request(app: App, user: str, text: str = EVERYTHING) -> list[Reply]:
    """The request filed through the desk (tests/helpers.py), this module's text by default."""
    return await file_through_desk(app, user, text)


async def test_status_lists_the_customers_tickets_with_their_state(app: App) -> None:
    await file_request(app, "u1")
    assert await app.drain_outbox(10)
    (reply,) = await app.desk.handle("test", "u1", CommandEvent("status"))
    assert "WAS-000001" in reply.text
    (ticket,) = await app.desk.tickets_of("test", "u1")
    assert ticket.status is TicketStatus.FILED
    # Another customer sees nothing of it
    (other,) = await app.desk.handle("test", "u2", CommandEvent("status"))
    assert "WAS-000001" not in other.text


async def test_4_4_follow_up_goes_to_the_same_thread(app: App, settings: Settings) -> None:
    await file_request(app, "u1")
    (reply,) = await app.desk.handle("test", "u1", TextEvent("Забыл сказать: в админке то же"))
    assert "WAS-000001" in reply.text
    assert await app.drain_outbox(10)
    files = sorted(settings.outbox_dir.glob("WAS-000001.followup-*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    original = email.message_from_bytes(
        (settings.outbox_dir / "WAS-000001.eml").read_bytes(), policy=email.policy.default
    )
    assert message["Subject"] == f"Re: {original['Subject']}"
    assert message["In-Reply-To"] == original["Message-ID"]


async def test_customer_is_told_filed_only_after_delivery(app: App) -> None:
    notices: list[tuple[str, str]] = []

    async def notify(user: str, reply: Reply) -> None:
        notices.append((user, reply.text))

    app.desk.subscribe("test", notify)
    replies = await file_request(app, "u7")
    assert "в очередь" in replies[-1].text
    assert await app.drain_outbox(10)
    for _ in range(100):
        if notices:
            break
        await asyncio.sleep(0.05)
    assert notices and notices[0][0] == "u7" and "WAS-000001" in notices[0][1]


async def test_replicas_share_the_conversation_through_redis(
    settings: Settings, trained_classifier: Classifier, redis_url: str
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    first = await build_app(shared, classifier=trained_classifier)
    second = await build_app(shared, classifier=trained_classifier)
    try:
        assert isinstance(first.desk.conversations, RedisConversations)
        await first.desk.handle("test", "r1", TextEvent("Не работает оформление заказа в корзине"))
        # The next answers reach the other replica: it continues the same dialog (the site-down
        # question the first one asked, 2.2, then the fields)
        await second.desk.handle("test", "r1", ChoiceEvent("no"))
        await second.desk.handle("test", "r1", TextEvent("1. открыть корзину 2. оформить"))
        conversation = await first.desk.conversation("test", "r1")
        assert conversation is not None
        assert conversation.critical is False
        assert conversation.asking == "site_url"
        assert "корзин" in conversation.fields["description"]
        # Events of one customer arriving at both replicas at once are handled one at a time
        await asyncio.gather(
            first.desk.handle("test", "r1", TextEvent("example.ru")),
            second.desk.handle("test", "r1", TextEvent("ivan@example.ru")),
        )
        conversation = await second.desk.conversation("test", "r1")
        assert conversation is not None
        assert conversation.fields["site_url"] == "http://example.ru/"
        assert conversation.fields["contact_email"] == "ivan@example.ru"
    finally:
        for application in (first, second):
            await application.desk.conversations.delete("test", "r1")
            await application.close()


async def test_site_check_records_what_the_site_answers(
    settings: Settings, trained_classifier: Classifier
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error")

    web_app = web.Application()
    web_app.router.add_get("/{tail:.*}", broken)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    checked = settings.model_copy(update={"site_check": True, "site_check_allow": "127.0.0.1/32"})
    app = await build_app(checked, classifier=trained_classifier)
    try:
        text = EVERYTHING.replace("Сайт example.ru", f"Сайт http://127.0.0.1:{port}/")
        await file_request(app, "s1", text)
        (ticket,) = await app.desk.tickets_of("test", "s1")
        assert any("500" in note for note in ticket.notes)
    finally:
        await app.close()
        await runner.cleanup()


def test_outbox_dir_is_under_the_data_dir(settings: Settings) -> None:
    assert settings.outbox_dir == Path(settings.data_dir) / "outbox"


async def test_counters_for_tickets_out_of_scope_and_deflections_are_logged(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot.desk")
    await file_request(app, "c1")
    assert app.desk.counters["tickets"] == 1
    assert any("counters" in r.getMessage() and "deflected" in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_coupons_import_command(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    fixture = Path(__file__).parents[1] / "fixtures" / "coupons" / "good.csv"
    assert main(["coupons", "import", str(fixture)]) == 0
    out = capsys.readouterr()
    assert "ABCD-1234-EFGH" not in out.err  # the report counts rows, it does not echo them
    assert "3 accepted, 0 rejected" in out.out + out.err


async def test_4_2_7_follow_ups_are_redacted_in_every_channel(
    app: App, settings: Settings
) -> None:
    await file_request(app, "f1")
    (ticket,) = await app.desk.tickets_of("test", "f1")
    await app.desk.add_followup(ticket.id, "доступ в админку: логин admin пароль Secr3t!pass")
    assert await app.drain_outbox(10)
    (path,) = settings.outbox_dir.glob(f"{ticket.id}.followup-*.eml")
    raw = path.read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    assert "Secr3t" not in body.get_content() and "[скрыто]" in body.get_content()


async def test_5_1_a_chat_message_after_closure_reopens_the_ticket_when_asked_to(
    app: App, settings: Settings
) -> None:
    # Given a filed ticket that support closed by e-mail
    await file_request(app, "u1")
    assert await app.drain_outbox(10)
    (ticket,) = await app.desk.tickets_of("test", "u1")
    await app.desk.agent_answer(ticket, "Готово", closing=True)
    # When the customer writes again and says it is about that ticket
    (question,) = await app.desk.handle("test", "u1", TextEvent("Опять не работает корзина"))
    assert [o.value for o in question.options] == ["reopen", "new_request"]
    (done,) = await app.desk.handle("test", "u1", ChoiceEvent("reopen"))
    # Then the ticket is open again and the message went to its thread with the 5.1 note
    assert "WAS-000001" in done.text
    (ticket,) = await app.desk.tickets_of("test", "u1")
    assert ticket.status is TicketStatus.FILED
    assert await app.drain_outbox(10)
    [followup] = sorted(settings.outbox_dir.glob("WAS-000001.followup-*.eml"))
    body = email.message_from_bytes(followup.read_bytes(), policy=email.policy.default)
    text = body.get_body(("plain",))
    assert text is not None and "Опять не работает корзина" in text.get_content()
    assert "5.1" in text.get_content()
