"""End to end through real servers: customer mail → Dovecot → IMAP watcher → desk → outbox → SMTP
→ the customer's and the support mailboxes (tests/servers/mail.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.channels.email.channel import EmailChannel
from bot.config import Settings
from bot.desk import Desk
from bot.intake.machine import IntakeContext
from bot.mail.imap import ImapWatcher
from bot.mail.outbox import Outbox
from bot.mail.transport import transport_from_settings
from bot.tickets.render import POLICY
from bot.tickets.store import Store
from tests.integration.test_email_channel import COMPLETE, INCOMPLETE, body_of, make_desk

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mail"
CUSTOMER = "ivan@shop.example"
WAIT = 30.0


@dataclass
class Desk2:
    servers: Any
    settings: Settings
    store: Store
    desk: Desk
    outbox: Outbox
    channel: EmailChannel
    watcher: ImapWatcher
    n: int = 0

    def customer_mail(self, body: str, subject: str = "Не работает корзина", **headers: str):
        self.n += 1
        msg = EmailMessage(policy=POLICY)
        msg["From"] = f"Иван <{CUSTOMER}>"
        msg["To"] = headers.pop("To", self.settings.from_address)
        msg["Subject"] = subject
        msg["Message-ID"] = f"<e2e-{self.n}-{time.monotonic_ns()}@shop.example>"
        for name, value in headers.items():
            msg[name.replace("_", "-")] = value
        msg.set_content(body)
        return msg

    async def wait_mail(self, user: str, count: int) -> list[EmailMessage]:
        msgs = await self.servers.wait_for(count, user, WAIT)
        assert len(msgs) >= count, f"{user}: {len(msgs)} messages, expected {count}"
        return msgs

    async def drained(self) -> None:
        """Wait until the outbox has handed everything queued to SMTP."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            counts = await self.store.outbox_counts()
            if not counts.get("queued") and not counts.get("sending"):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the outbox did not drain")

    async def settle(self) -> None:
        """Wait until whatever was coming has come: the watcher has handed over everything in
        the mailbox (it is back in IDLE) and the outbox has handed every reply to SMTP."""
        await asyncio.wait_for(self.watcher.idling.wait(), WAIT)
        await self.drained()


@pytest.fixture
async def live(mail_servers, mail_settings, context: IntakeContext) -> AsyncIterator[Desk2]:
    async with running_live(mail_servers, mail_settings, context) as desk2:
        yield desk2


@contextlib.asynccontextmanager
async def running_live(
    mail_servers: Any, settings: Settings, context: IntakeContext
) -> AsyncIterator[Desk2]:
    """The desk, its outbox and its e-mail channel watching the front-desk mailbox."""
    store, desk = await make_desk(settings, context)
    outbox = Outbox(
        store, transport_from_settings(settings), desk.on_delivered, base_delay=0.1, max_delay=1
    )
    desk.set_outbox_waker(outbox.wake)
    channel = EmailChannel(desk, settings)
    await channel.start()
    watcher = channel.watcher(backoff_initial=0.1, backoff_max=1.0, timeout=5.0)
    outbox.start()
    task = asyncio.create_task(watcher.run())
    await asyncio.wait_for(watcher.connected.wait(), WAIT)
    try:
        yield Desk2(mail_servers, settings, store, desk, outbox, channel, watcher)
    finally:
        watcher.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, WAIT)
        await outbox.stop(grace=5)
        await channel.close()
        await store.close()


def by_subject(msgs: list[EmailMessage], pred: Callable[[str], bool]) -> list[EmailMessage]:
    return [m for m in msgs if pred(str(m["Subject"]))]


async def test_incomplete_guided_reply_completed_by_reply_ticket_in_support_mailbox(live: Desk2):
    # Given a customer writes without edition, version and coupon
    live.servers.deliver(live.customer_mail(INCOMPLETE + "\nСайт: shop.example\nШаги: не знаю"))
    # Then a guided reply arrives in their mailbox, in the thread
    [guided] = await live.wait_mail("customer", 1)
    assert guided["Subject"] == "Re: Не работает корзина"
    assert guided["Auto-Submitted"] == "auto-replied"
    form = [ln for ln in body_of(guided).splitlines() if ln.endswith(": ")]
    assert form == ["Редакция: ", "Версия: ", "Купон: "]
    assert live.servers.count("support") == 0
    # When they answer the form by replying
    reply = live.customer_mail(
        "Редакция: Бизнес\nВерсия: 24.100.0\nКупон: AB12-CD34-EF56\n\n"
        + "\n".join("> " + ln for ln in body_of(guided).splitlines()),
        subject=f"Re: {guided['Subject'].removeprefix('Re: ')}",
        In_Reply_To=str(guided["Message-ID"]),
        References=str(guided["Message-ID"]),
    )
    live.servers.deliver(reply)
    # Then the official ticket lands in the support mailbox
    [ticket] = await live.wait_mail("support", 1)
    assert "[WAS-" in ticket["Subject"]
    text = body_of(ticket)
    assert "AB12-CD34-EF56" in text and "24.100.0" in text and "Бизнес" in text
    assert CUSTOMER in str(ticket["Cc"])
    # And the customer has the confirmation with the ticket id (plus the Cc copy, and "filed")
    msgs = await live.wait_mail("customer", 3)
    tid = str(ticket["Subject"]).split("]")[0].split("[")[-1]
    confirmations = [
        m for m in msgs if m["Auto-Submitted"] == "auto-replied" and tid in body_of(m)
    ]
    assert confirmations, [str(m["Subject"]) for m in msgs]


async def test_raw_fixtures_robots_get_nothing_outlook_gets_a_form(live: Desk2):
    for name in ("auto_reply.eml", "bounce.eml", "outlook_html_cp1251.eml", "koi8r_plain.eml"):
        live.servers.deliver((FIXTURES / name).read_bytes())
    # Outlook (HTML only, windows-1251) and koi8-r messages get guided replies; robots nothing
    msgs = await live.wait_mail("customer", 2)
    await live.settle()  # the robots handled too, and nothing more on its way
    msgs = await live.servers.fetch_all("customer")
    subjects = sorted(str(m["Subject"]) for m in msgs)
    assert subjects == ["Re: Не работает корзина", "Re: Не работает обновление"]
    outlook = next(m for m in msgs if str(m["To"]) == "ivan@shop.example.ru")
    assert "https://shop.example.ru" in body_of(outlook)
    assert "Старый текст" not in body_of(outlook)
    ignored = {mid: o.reason for mid, o in live.channel.recent if o.kind == "ignored"}
    assert ignored["<oof-1@shop.example.ru>"] == "Auto-Submitted: auto-replied"
    assert ignored["<bounce-1@mx.example.net>"] == "Auto-Submitted: auto-replied"
    # (copies of our own replies that reach the front-desk mailbox are ignored as well)
    assert set(ignored.values()) <= {"Auto-Submitted: auto-replied", "our own address"}


async def test_agent_closure_reaches_the_customer_and_their_reply_reopens(live: Desk2):
    live.servers.deliver(live.customer_mail(COMPLETE))
    [ticket] = await live.wait_mail("support", 1)
    tid = str(ticket["Subject"]).split("]")[0].split("[")[-1]
    # The customer has the confirmation, the Cc copy of the ticket and the "filed" notice
    before = len(await live.wait_mail("customer", 3))
    # When an agent closes it, answering the ticket thread without the customer in Cc
    agent = EmailMessage(policy=POLICY)
    agent["From"] = "Анна <anna@whatasoft.test>"
    agent["To"] = str(ticket["Reply-To"]).split(",")[-1].strip()  # the ticket's reply address
    agent["Subject"] = f"Re: {ticket['Subject']}"
    agent["Message-ID"] = "<agent-1@whatasoft.test.mail>"
    agent["In-Reply-To"] = str(ticket["Message-ID"])
    agent["References"] = str(ticket["Message-ID"])
    agent.set_content("Исправлено в обновлении 24.100.1.\nСтатус: закрыто\n\n> цитата")
    live.servers.deliver(agent)
    msgs = await live.wait_mail("customer", before + 1)
    relay = msgs[-1]
    assert tid in body_of(relay) and "п. 4.3" in body_of(relay)
    assert "Исправлено в обновлении 24.100.1." in body_of(relay)
    # And the customer's reply reopens the ticket as a follow-up in the support thread
    live.servers.deliver(
        live.customer_mail(
            "Не помогло, ошибка осталась.",
            subject=str(relay["Subject"]),
            In_Reply_To=str(relay["Message-ID"]),
            To=str(relay["Reply-To"]),
        )
    )
    support = await live.wait_mail("support", 2)
    followup = support[-1]
    assert str(followup["Subject"]).startswith(f"Re: [{tid}]")
    assert str(ticket["Message-ID"]) in str(followup["References"])
    assert "Не помогло" in body_of(followup)


async def test_dovecot_restart_while_watching_loses_no_request(live: Desk2):
    await asyncio.wait_for(live.watcher.idling.wait(), WAIT)
    live.servers.deliver(live.customer_mail(INCOMPLETE, subject="Первое"))
    await live.wait_mail("customer", 1)
    await asyncio.to_thread(live.servers.restart_dovecot)
    live.servers.deliver(live.customer_mail(INCOMPLETE, subject="Второе"))
    msgs = await live.wait_mail("customer", 2)
    await live.settle()  # no second reply to "Первое" after the reconnect
    msgs = await live.servers.fetch_all("customer")
    assert sorted(str(m["Subject"]) for m in msgs) == ["Re: Второе", "Re: Первое"]


async def test_production_wiring_build_app_and_run_email_channel(
    mail_servers, mail_settings, trained_classifier
):
    # Given the app as `python -m bot` builds it (real classifier, outbox, desk)
    from bot.app import build_app

    app = await build_app(mail_settings, classifier=trained_classifier)
    task = asyncio.create_task(app.run_email_channel())
    try:
        # When a customer writes an incomplete request
        msg = EmailMessage(policy=POLICY)
        msg["From"] = CUSTOMER
        msg["To"] = mail_settings.from_address
        msg["Subject"] = "Сайт"
        msg["Message-ID"] = "<prod-1@shop.example>"
        msg.set_content(INCOMPLETE)
        mail_servers.deliver(msg)
        # Then the guided reply arrives through the real outbox
        [guided] = await mail_servers.wait_for(1, "customer", WAIT)
        assert guided["Subject"] == "Re: Сайт"
        assert "Адрес сайта: " in body_of(guided).splitlines()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app.close()
