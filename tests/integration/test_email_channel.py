"""The guided e-mail channel on the real desk, store and intake core (no mail servers here).

End-to-end runs through Dovecot and SMTP are in test_email_channel_e2e.py.
"""

from __future__ import annotations

import email
import email.policy
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.app import mail_renderers
from bot.channel_names import EMAIL
from bot.channels.email.channel import EmailChannel, EmailChannelConfig, Outcome
from bot.config import Settings
from bot.desk import Desk
from bot.identity.guard import Guard
from bot.intake import texts as intake_texts
from bot.intake.events import Reply
from bot.intake.extract import extract_fields
from bot.intake.fields import FIELD_ORDER
from bot.intake.form_reply import FormRequest
from bot.intake.machine import IntakeContext
from bot.mail.inbound import parse_message
from bot.mail.reply_address import open_reply_addresses
from bot.policy.limits import GUIDED_REPLIES_HOUR, Limits, Rule, rules_from_settings
from bot.tickets.model import Classification, Ticket, TicketStatus
from bot.tickets.render import POLICY
from bot.tickets.store import Store

FRONT = "frontdesk@whatasoft.test"
SUPPORT = "support@whatasoft.test"
CUSTOMER = "ivan@shop.example"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
BMP = b"BM" + bytes(64)

COMPLETE = """Здравствуйте! После обновления корзина выдаёт ошибку 500 при оформлении заказа.

Шаги воспроизведения: открыть корзину, нажать «Оформить заказ».
Адрес сайта: https://shop.example
Редакция: Бизнес
Версия: 24.100.0
Купон: AB12-CD34-EF56
"""
INCOMPLETE = "Здравствуйте! После обновления корзина на сайте выдаёт ошибку 500 при оформлении."
# COMPLETE without the edition and the coupon.
INCOMPLETE_DOWN = COMPLETE.replace("Редакция: Бизнес\n", "").replace("Купон: AB12-CD34-EF56\n", "")
# The e-mail channel's state before its auto-replies were counted in limit_events.
LEGACY_STATE = """
CREATE TABLE sent (message_id TEXT PRIMARY KEY, ticket_id TEXT, kind TEXT NOT NULL,
                   recipient TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE auto_replies (sender TEXT NOT NULL, sent_at TEXT NOT NULL);
CREATE INDEX auto_replies_sender ON auto_replies (sender, sent_at);
"""


def stub_classification(text: str) -> Classification:
    return Classification("error", True, "3.4.1.1", False, 0.9)


def make_settings(tmp_path: Path, **kw) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        support_address=SUPPORT,
        from_address=FRONT,
        data_dir=tmp_path / "var",
        **kw,
    )


async def make_desk(
    settings: Settings,
    context: IntakeContext,
    *,
    guarded: bool = False,
    classify: Callable[[str], Classification] = stub_classification,
) -> tuple[Store, Desk]:
    """The desk as the e-mail channel meets it: its reply addresses, and either the identity
    guard (whose limiter counts the automatic replies) or a limiter of its own, both with the
    limits of `settings`; `classify` gives every request its verdict."""
    store = await Store.open(settings.database_path)
    replies = await open_reply_addresses(settings, store)
    ticket_mail, followup_mail = mail_renderers(settings, replies)
    ctx = replace(context, classify=classify, reserved_addresses=settings.reserved_addresses)
    guard = await Guard.open(settings, store) if guarded else None
    limits = None if guarded else await Limits.open(store, rules_from_settings(settings))
    desk = Desk(
        store, ctx, ticket_mail, followup_mail, support_address=SUPPORT,
        guard=guard, limits=limits, reply_addresses=replies,
    )  # fmt: skip
    return store, desk


@dataclass
class Env:
    settings: Settings
    store: Store
    desk: Desk
    channel: EmailChannel
    counter: int = 0
    notified: list[tuple[str, str]] = field(default_factory=list)

    def build(
        self,
        body: str = INCOMPLETE,
        sender: str = CUSTOMER,
        subject: str = "Не работает корзина",
        attachments: tuple[tuple[str, str, bytes], ...] = (),
        **headers: str,
    ) -> EmailMessage:
        self.counter += 1
        msg = EmailMessage(policy=POLICY)  # the stdlib default policy folds away spaces
        msg["From"] = sender
        msg["To"] = headers.pop("To", FRONT)
        msg["Subject"] = subject
        msg["Message-ID"] = f"<c{self.counter}@shop.example>"
        for name, value in headers.items():
            msg[name.replace("_", "-")] = value
        msg.set_content(body)
        for name, ctype, data in attachments:
            maintype, subtype = ctype.split("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg

    async def send(self, msg: EmailMessage | None = None, **kw) -> Outcome:
        msg = msg if msg is not None else self.build(**kw)
        return await self.channel.handle(parse_message(msg.as_bytes()))

    async def queued(self, kind: str | None = None) -> list[EmailMessage]:
        rows = await self.store.due_messages(datetime.now(UTC) + timedelta(days=1), limit=500)
        return [
            email.message_from_bytes(r.raw, policy=email.policy.default)  # type: ignore[misc]
            for r in rows
            if kind is None or r.kind == kind
        ]

    async def replies_to(self, address: str) -> list[EmailMessage]:
        return [m for m in await self.queued("reply") if m["To"] == address]


@asynccontextmanager
async def running(
    settings: Settings,
    context: IntakeContext,
    classify: Callable[[str], Classification] = stub_classification,
) -> AsyncIterator[Env]:
    """A desk and its e-mail channel, started; both closed on the way out."""
    store, desk = await make_desk(settings, context, classify=classify)
    channel = EmailChannel(desk, settings)
    await channel.start()
    try:
        yield Env(settings, store, desk, channel)
    finally:
        await channel.close()
        await store.close()


@pytest.fixture
async def env(tmp_path: Path, context: IntakeContext) -> AsyncIterator[Env]:
    async with running(make_settings(tmp_path), context) as e:

        async def telegram(user_id: str, reply: Reply) -> None:
            e.notified.append((user_id, reply.text))

        e.desk.subscribe("telegram", telegram)
        yield e


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def form_lines(text: str) -> list[str]:
    """The empty lines of a guided reply's form."""
    return [line for line in text.splitlines() if line.endswith(": ")]


# --- new requests -------------------------------------------------------------------------


async def test_complete_request_is_filed_and_confirmed(env: Env):
    out = await env.send(body=COMPLETE)
    assert out.kind == "filed" and out.ticket_id
    [ticket_mail] = await env.queued("ticket")
    assert ticket_mail["To"] == SUPPORT
    assert out.ticket_id in ticket_mail["Subject"]
    ticket = await env.store.get_ticket(out.ticket_id)
    assert ticket is not None
    assert ticket.contact_email == CUSTOMER  # the From address
    assert ticket.channel == "email" and ticket.customer_id == CUSTOMER
    assert (ticket.site_url, ticket.edition, ticket.version) == (
        "https://shop.example/",
        "Бизнес",
        "24.100.0",
    )
    [reply] = await env.replies_to(CUSTOMER)
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == "<c1@shop.example>"
    assert reply["Subject"] == f"Re: [{out.ticket_id}] Не работает корзина"
    assert out.ticket_id in body_of(reply)


async def test_incomplete_request_gets_one_guided_reply_listing_exactly_the_missing(env: Env):
    # Given a message with the description and the site only
    out = await env.send(body=INCOMPLETE + "\nСайт: shop.example")
    assert out.kind == "guided"
    [reply] = await env.replies_to(CUSTOMER)
    text = body_of(reply)
    # Then the reply keeps the thread and the subject
    assert reply["Subject"] == "Re: Не работает корзина"
    assert reply["In-Reply-To"] == "<c1@shop.example>"
    assert reply["Auto-Submitted"] == "auto-replied"
    # And says what was understood (the prose acknowledged, not quoted to an unproven sender),
    # and lists exactly the missing fields as a form
    assert "Описание проблемы: получено" in text
    assert "корзина на сайте выдаёт ошибку 500" not in text
    assert "shop.example" in text
    form = [line for line in text.splitlines() if line.endswith(": ")]
    assert form == [
        "Шаги воспроизведения: ",
        "Редакция: ",
        "Версия: ",
        "Купон: ",
    ]
    assert not await env.queued("ticket")


async def test_a_customer_without_the_coupon_may_say_so_and_is_filed(env: Env):
    # Given a guided reply asking for the coupon, which says where it is and that "не знаю" works
    await env.send(body=INCOMPLETE + "\nСайт: shop.example")
    [guided] = await env.replies_to(CUSTOMER)
    assert "документах о покупке" in body_of(guided) and "строке купона" in body_of(guided)
    # When a complete e-mail says "не знаю" on the coupon line
    out = await env.send(body=COMPLETE.replace("Купон: AB12-CD34-EF56", "Купон: не знаю"))
    # Then it is filed, and the agents read that the coupon is to be asked for
    assert out.kind == "filed"
    [ticket] = await env.queued("ticket")
    text = body_of(ticket)
    assert "Купон: не знаю" in text and "клиент не знает номер" in text


async def test_reply_to_the_form_is_merged_and_files_the_ticket(env: Env):
    await env.send(body=INCOMPLETE)
    [guided] = await env.replies_to(CUSTOMER)
    # When the customer fills the form in their reply, quoting ours below
    filled = (
        "Шаги воспроизведения: открыть корзину, нажать «Оформить»\n"
        "Адрес сайта: shop.example\nРедакция: Бизнес\nВерсия: 24.100.0\n"
        "Купон: AB12-CD34-EF56\n\n"
        "On Mon, Desk <frontdesk@whatasoft.test> wrote:\n"
        + "\n".join("> " + line for line in body_of(guided).splitlines())
    )
    out = await env.send(
        body=filled,
        subject="Re: Не работает корзина",
        In_Reply_To=guided["Message-ID"],
        References=f"<c1@shop.example> {guided['Message-ID']}",
    )
    assert out.kind == "filed"
    ticket = await env.store.get_ticket(out.ticket_id or "")
    assert ticket is not None
    assert "ошибку 500" in ticket.description
    assert ticket.coupon == "AB12-CD34-EF56"
    assert ticket.steps.startswith("открыть корзину")


async def test_inline_answers_under_the_quoted_form_are_understood(env: Env):
    await env.send(body=INCOMPLETE + "\nСайт: shop.example\nШаги: не знаю")
    [guided] = await env.replies_to(CUSTOMER)
    quoted = []
    answers = {"Редакция": "Бизнес", "Версия": "24.100.0", "Купон": "AB12-CD34-EF56"}
    for line in body_of(guided).splitlines():
        quoted.append("> " + line.rstrip())
        label = line.rstrip().rstrip(":")
        if line.endswith(": ") and label in answers:
            quoted.append(answers[label])
    out = await env.send(body="\n".join(quoted), In_Reply_To=guided["Message-ID"])
    assert out.kind == "filed"


async def test_invalid_value_is_explained_and_asked_again(env: Env):
    out = await env.send(body=INCOMPLETE + "\nСайт: shop.example\nКупон: ???")
    assert out.kind == "guided"
    text = body_of((await env.replies_to(CUSTOMER))[0])
    assert "Купон: не получилось принять «???»" in text
    assert "Купон: " in text.splitlines()


async def test_form_labels_are_read_back_by_the_parser():
    for lang in intake_texts.LANGS:
        for fld in FIELD_ORDER:
            label = intake_texts.form_label(fld, lang)
            got = extract_fields(f"{label}: не знаю", Settings().coupon_pattern).values
            assert fld in got, (lang, label)


async def test_english_request_gets_an_english_form(env: Env):
    out = await env.send(
        body="Hello, the shopping cart of our site shows error 500 since the last update.",
        subject="Cart broken",
    )
    assert out.kind == "guided"
    text = body_of((await env.replies_to(CUSTOMER))[0])
    assert "Site URL: " in text.splitlines()
    assert "Coupon: " in text.splitlines()


async def test_a_short_russian_request_gets_a_russian_form(env: Env):
    # The sender's address, added as the contact line, is not what the language is read from
    out = await env.send(body="Очень медленно работает админка", subject="Админка")
    assert out.kind == "guided"
    text = body_of((await env.replies_to(CUSTOMER))[0])
    assert "Адрес сайта: " in text.splitlines() and "Site URL: " not in text.splitlines()


async def test_a_message_held_for_its_wording_is_sent_as_it_is_on_request(env: Env):
    # Given a complete request with an insult in it (4.8.11)
    out = await env.send(body="Вы там идиоты совсем?\n" + COMPLETE)
    # Then the reply says why it is held and how to answer, and asks for nothing it contains
    assert out.kind == "guided"
    [held] = await env.replies_to(CUSTOMER)
    text = body_of(held)
    assert "п. 4.8.11" in text and "«Отправить как есть»" in text
    assert form_lines(text) == []
    assert not await env.queued("ticket")
    # When the customer answers "send it as it is"
    out = await env.send(
        body="Отправить как есть",
        subject="Re: Не работает корзина",
        In_Reply_To=held["Message-ID"],
    )
    # Then the held message is filed, with everything it gave
    assert out.kind == "filed"
    ticket = await env.store.get_ticket(out.ticket_id or "")
    assert ticket is not None
    assert "ошибку 500" in ticket.description and ticket.coupon == "AB12-CD34-EF56"
    assert ticket.contact_email == CUSTOMER


async def test_attachments_kept_bmp_zipped_others_refused(env: Env):
    out = await env.send(
        body=COMPLETE,
        attachments=(
            ("screen.png", "image/png", PNG),
            ("shot.bmp", "image/bmp", BMP),
            ("report.pdf", "application/pdf", b"%PDF-1.4"),
        ),
    )
    assert out.kind == "filed"
    ticket = await env.store.get_ticket(out.ticket_id or "")
    assert ticket is not None
    assert sorted(a.name for a in ticket.attachments) == ["screen.png", "shot.zip"]
    text = body_of((await env.replies_to(CUSTOMER))[0])
    assert "report.pdf" in text  # refused, with the reason (4.6)


async def test_new_message_after_filing_is_a_new_request(env: Env):
    first = await env.send(body=COMPLETE)
    second = await env.send(body=COMPLETE.replace("корзина", "каталог"), subject="Каталог")
    assert first.kind == second.kind == "filed"
    assert first.ticket_id != second.ticket_id
    assert len(await env.queued("ticket")) == 2


# --- loop and abuse safety ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "auto-generated"},
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"Precedence": "junk"},
        {"sender": "MAILER-DAEMON@mx.shop.example"},
        {"sender": "postmaster@shop.example"},
        {"sender": "no-reply@shop.example"},
        {"sender": FRONT},
        {"Message_ID": "<loop@whatasoft.test>"},
    ],
)
async def test_robots_and_our_own_mail_get_no_reply(env: Env, headers: dict[str, str]):
    sender = headers.pop("sender", CUSTOMER)
    msg = env.build(sender=sender, **{k: v for k, v in headers.items() if k != "Message_ID"})
    if "Message_ID" in headers:
        del msg["Message-ID"]
        msg["Message-ID"] = headers["Message_ID"]
    out = await env.send(msg)
    assert out.kind == "ignored"
    assert await env.queued() == []


async def test_raw_auto_reply_and_bounce_fixtures_are_ignored(env: Env):
    fixtures = Path(__file__).parents[1] / "fixtures" / "mail"
    for name in ("auto_reply.eml", "bounce.eml"):
        out = await env.channel.handle(parse_message((fixtures / name).read_bytes()))
        assert out.kind == "ignored", name
    assert await env.queued() == []


async def test_guided_replies_are_limited_per_sender_per_hour(env: Env):
    kinds = [(await env.send(body=f"{INCOMPLETE} Попытка {i}.")).kind for i in range(7)]
    assert kinds == ["guided"] * 5 + ["rate_limited"] * 2
    assert len(await env.replies_to(CUSTOMER)) == 5
    other = await env.send(sender="other@shop.example")
    assert other.kind == "guided"


async def test_guided_reply_limit_is_the_shared_limit_events_rule(env: Env):
    # Given the desk's limiter (another Limits on the same store sees the same rows)
    limits = await Limits.open(env.store)
    key = f"email:{CUSTOMER}"
    assert (await env.desk.auto_reply_limits()).rules[GUIDED_REPLIES_HOUR] == Rule(
        5, timedelta(hours=1)
    )
    # When a sender writes six incomplete requests within the hour
    kinds = [(await env.send(body=f"{INCOMPLETE} Попытка {i}.")).kind for i in range(6)]
    # Then five guided replies were counted in limit_events and the sixth was not sent
    assert kinds == ["guided"] * 5 + ["rate_limited"]
    assert not (await limits.peek(GUIDED_REPLIES_HOUR, key, datetime.now(UTC))).allowed
    assert len(await env.replies_to(CUSTOMER)) == 5
    # and another sender still gets one
    assert (await env.send(sender="other@shop.example")).kind == "guided"
    other = await limits.peek(GUIDED_REPLIES_HOUR, "email:other@shop.example", datetime.now(UTC))
    assert other.used == 1


async def test_guided_reply_limit_follows_the_setting(tmp_path: Path, context: IntakeContext):
    settings = make_settings(tmp_path, limit_guided_replies_per_hour=2)
    async with running(settings, context) as env:
        kinds = [(await env.send(body=f"{INCOMPLETE} {i}.")).kind for i in range(3)]
    assert kinds == ["guided", "guided", "rate_limited"]


async def test_replies_that_always_go_still_count_towards_the_limit(env: Env):
    # Given a confirmation (never held back), then requests until one is held back
    kinds = [(await env.send(body=COMPLETE)).kind]
    for i in range(10):
        kinds.append((await env.send(body=f"{INCOMPLETE} Попытка {i}.")).kind)
        if kinds[-1] == "rate_limited":
            break
    # Then the confirmations took slots too: five automatic replies in all, then no more
    assert kinds[0] == "filed" and kinds[-1] == "rate_limited"
    assert kinds.count("filed") + kinds.count("guided") == 5
    assert len(await env.replies_to(CUSTOMER)) == 5


async def test_an_old_auto_replies_table_is_carried_over_and_dropped(
    tmp_path: Path, context: IntakeContext
):
    # Given the e-mail state of an earlier version: three replies this hour, one yesterday
    settings = make_settings(tmp_path)
    path = settings.data_dir / "email-channel.sqlite3"
    path.parent.mkdir(parents=True)
    now = datetime.now(UTC)
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY_STATE)
        sent = [now - timedelta(minutes=m) for m in (5, 10, 15)] + [now - timedelta(days=1)]
        db.executemany(
            "INSERT INTO auto_replies VALUES (?, ?)", [(CUSTOMER, t.isoformat()) for t in sent]
        )
    db.close()
    # When the channel starts
    async with running(settings, context) as env:
        # Then the table is gone and this hour's three count: two guided replies are left
        with sqlite3.connect(path) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        db.close()
        assert "auto_replies" not in tables and "sent" in tables
        kinds = [(await env.send(body=f"{INCOMPLETE} {i}.")).kind for i in range(3)]
    assert kinds == ["guided", "guided", "rate_limited"]
    # and a second start finds nothing to carry over
    async with running(settings, context):
        pass


async def test_malformed_mail_does_not_crash_the_channel(env: Env):
    raw = (Path(__file__).parents[1] / "fixtures" / "mail" / "malformed.eml").read_bytes()
    await env.channel.handle_raw(raw)
    assert env.channel.outcomes == {"guided": 1}


# --- thread replies -------------------------------------------------------------------------


async def filed(env: Env) -> Ticket:
    out = await env.send(body=COMPLETE)
    ticket = await env.store.get_ticket(out.ticket_id or "")
    assert ticket is not None
    return ticket


def ticket_msgid(ticket: Ticket) -> str:
    return f"<{ticket.id}.ticket@whatasoft.test>"


async def reply_address(env: Env, ticket: Ticket) -> str:
    """The front-desk address the ticket e-mail asks agents to answer (its last Reply-To)."""
    [mail] = [m for m in await env.queued("ticket") if ticket.id in m["Subject"]]
    address = str(mail["Reply-To"]).split(",")[-1].strip()
    assert address.startswith("frontdesk+") and address != FRONT
    return address


async def test_agent_answer_with_customer_in_cc_is_not_relayed_again(env: Env):
    ticket = await filed(env)
    before = len(await env.replies_to(CUSTOMER))
    out = await env.send(
        sender="anna@whatasoft.test",
        body="Проверьте настройки кэша.",
        subject=f"Re: [{ticket.id}] Ошибка продукта: корзина",
        To=f"{CUSTOMER}, {await reply_address(env, ticket)}",
        In_Reply_To=ticket_msgid(ticket),
    )
    assert out.kind == "relayed" and out.ticket_id == ticket.id
    assert out.reason == "customer already in To/Cc"
    assert len(await env.replies_to(CUSTOMER)) == before
    updated = await env.store.get_ticket(ticket.id)
    assert updated is not None and updated.status == TicketStatus.ANSWERED


async def test_agent_answer_without_customer_is_relayed_by_mail(env: Env):
    ticket = await filed(env)
    out = await env.send(
        sender="anna@whatasoft.test",
        body="Проверьте настройки кэша.\n\n> old quoted text",
        subject=f"Re: [{ticket.id}] Ошибка продукта: корзина",
        To=await reply_address(env, ticket),
        References=ticket_msgid(ticket),
    )
    assert out.kind == "relayed"
    relay = (await env.replies_to(CUSTOMER))[-1]
    text = body_of(relay)
    assert ticket.id in text and "Проверьте настройки кэша." in text
    assert "old quoted" not in text
    assert ticket.id in relay["Subject"]


async def test_closure_reminds_of_4_3_and_a_customer_reply_reopens(env: Env):
    ticket = await filed(env)
    out = await env.send(
        sender="anna@whatasoft.test",
        body="Исправили.\nСтатус: закрыто",
        subject=f"Re: [{ticket.id}] Ошибка продукта: корзина",
        To=f"{CUSTOMER}, {await reply_address(env, ticket)}",
        In_Reply_To=ticket_msgid(ticket),
    )
    assert out.kind == "closed"
    closed = await env.store.get_ticket(ticket.id)
    assert closed is not None and closed.status == TicketStatus.CLOSED
    reminder = (await env.replies_to(CUSTOMER))[-1]
    assert "п. 4.3" in body_of(reminder)
    assert "временные учётные записи" in body_of(reminder)
    # When the customer answers the reminder: the ticket reopens in the same thread (5.1)
    out = await env.send(
        body="Ошибка вернулась после очистки кэша.",
        subject=reminder["Subject"],
        In_Reply_To=reminder["Message-ID"],
        To=str(reminder["Reply-To"]),
    )
    assert out.kind == "reopened" and out.ticket_id == ticket.id
    [followup] = await env.queued("followup")
    assert followup["To"] == SUPPORT
    assert followup["Subject"].startswith(f"Re: [{ticket.id}]")
    assert ticket_msgid(ticket) in followup["References"]
    assert "открыл обращение повторно" in body_of(followup)
    assert "Ошибка вернулась" in body_of(followup)
    reopened = await env.store.get_ticket(ticket.id)
    assert reopened is not None and reopened.status == TicketStatus.FILED


async def test_closure_marker_in_the_subject(env: Env):
    ticket = await filed(env)
    out = await env.send(
        sender="anna@whatasoft.test",
        body="Готово.",
        subject=f"[Закрыто] Re: [{ticket.id}] Ошибка продукта",
        To=await reply_address(env, ticket),
    )
    assert out.kind == "closed"


async def test_customer_followup_in_thread_is_forwarded_unless_support_has_it(env: Env):
    ticket = await filed(env)
    out = await env.send(
        body="Забыл: ошибка только в Firefox.",
        subject=f"Re: [{ticket.id}] Ошибка продукта",
        In_Reply_To=ticket_msgid(ticket),
        To=await reply_address(env, ticket),
    )
    assert out.kind == "followup"
    assert len(await env.queued("followup")) == 1
    out = await env.send(
        body="И в Chrome тоже.",
        subject=f"Re: [{ticket.id}] Ошибка продукта",
        In_Reply_To=ticket_msgid(ticket),
        To=f"{SUPPORT}, {await reply_address(env, ticket)}",
    )
    assert out.kind == "followup" and out.reason == "support already in To/Cc"
    assert len(await env.queued("followup")) == 1


async def test_stranger_in_a_ticket_thread_is_a_new_request_zammad_5064(env: Env):
    # Given a filed ticket of ivan@
    ticket = await filed(env)
    replies_before = len(await env.replies_to(CUSTOMER))
    # When someone else writes with its tag and thread headers
    out = await env.send(
        sender="mallory@evil.example",
        body="Статус: закрыто\nПришлите пароли от сайта на этот адрес.",
        subject=f"Re: [{ticket.id}] Ошибка продукта: корзина",
        In_Reply_To=ticket_msgid(ticket),
        References=ticket_msgid(ticket),
    )
    # Then it is a new request of mallory's: the ticket and its customer are untouched
    assert out.kind == "guided" and out.ticket_id is None
    unchanged = await env.store.get_ticket(ticket.id)
    assert unchanged is not None and unchanged.status == ticket.status
    assert len(await env.replies_to(CUSTOMER)) == replies_before
    assert await env.queued("followup") == []
    [to_mallory] = await env.replies_to("mallory@evil.example")
    assert ticket.id not in to_mallory["Subject"]


async def test_agent_answer_to_a_telegram_ticket_goes_through_the_desk(env: Env):
    ticket = await filed(env)
    # A Telegram ticket: same store, another channel and customer id
    ticket.channel, ticket.customer_id, ticket.id = "telegram", "4242", ""
    ticket_mail, _ = mail_renderers(
        env.settings, await open_reply_addresses(env.settings, env.store)
    )
    tg = await env.store.create_ticket(ticket, ticket_mail, ticket.created_at)
    out = await env.send(
        sender="anna@whatasoft.test",
        body="Исправлено в 24.100.1.\nСтатус: закрыто",
        subject=f"Re: [{tg.id}] Ошибка продукта",
        To=f"{CUSTOMER}, {await reply_address(env, tg)}",
        In_Reply_To=ticket_msgid(tg),
    )
    assert out.kind == "closed"
    assert [u for u, _ in env.notified] == ["4242", "4242"]
    assert "Исправлено в 24.100.1." in env.notified[0][1]
    assert "п. 4.3" in env.notified[1][1]


async def test_agent_outside_any_thread_is_ignored(env: Env):
    out = await env.send(sender="anna@whatasoft.test", body="Тест рассылки агентам.")
    assert out.kind == "ignored"


def test_config_defaults_from_settings(tmp_path: Path):
    cfg = EmailChannelConfig.from_settings(make_settings(tmp_path))
    assert cfg.agent_domains == frozenset({"whatasoft.test"})
    assert cfg.is_agent("Anna@WhatASoft.test") and not cfg.is_agent("a@shop.example")
    custom = EmailChannelConfig.from_settings(
        make_settings(tmp_path), agent_domains=frozenset({"helpdesk.example"})
    )
    assert custom.is_agent("x@helpdesk.example") and custom.is_agent(SUPPORT)


# --- the chat's button steps, settled by e-mail -------------------------------------------


@asynccontextmanager
async def classified(
    tmp_path: Path, context: IntakeContext, verdict: Classification
) -> AsyncIterator[Env]:
    """A desk whose classifier says `verdict` of every request, and its e-mail channel."""
    async with running(make_settings(tmp_path), context, lambda text: verdict) as env:
        yield env


@pytest.fixture
async def gated(tmp_path: Path, context: IntakeContext) -> AsyncIterator[Env]:
    """A desk whose classifier is unsure of the category and thinks the site is down."""
    unsure_critical = Classification("error", True, "3.4.1.1", True, 0.3, unsure=True)
    async with classified(tmp_path, context, unsure_critical) as env:
        yield env


@pytest.fixture
async def down(tmp_path: Path, context: IntakeContext) -> AsyncIterator[Env]:
    """A desk whose classifier is sure of the category and thinks the site is down."""
    sure_critical = Classification("error", True, "3.4.1.1", True, 0.9)
    async with classified(tmp_path, context, sure_critical) as env:
        yield env


async def test_a_complete_site_down_request_is_filed_at_once_with_notes(gated: Env):
    # Given a complete request that reads as a site that is down, the category unsure
    out = await gated.send(body=COMPLETE)
    # Then it is filed with no guided reply: critical and the likeliest category, both noted
    assert out.kind == "filed"
    [reply] = await gated.replies_to(CUSTOMER)
    assert out.ticket_id and out.ticket_id in body_of(reply)
    # The confirmation of a filed request asks nothing: no summary question, no optional ones
    assert "Всё верно?" not in body_of(reply) and "допишите" not in body_of(reply)
    ticket = await gated.store.get_ticket(out.ticket_id)
    assert ticket is not None
    assert ticket.classification.critical and ticket.classification.category == "error"
    notes = " ".join(ticket.notes)
    assert "клиент её не подтверждал" in notes and "клиентом не подтверждена" in notes


async def test_category_and_site_down_are_asked_in_the_form_and_read_back(gated: Env):
    # Given an incomplete request that reads as a site that is down, the category unsure
    out = await gated.send(body=INCOMPLETE_DOWN)
    # Then ONE guided reply asks everything still needed: whether the site is down (first, 2.2),
    # the missing fields, and the category with its choices
    assert out.kind == "guided"
    [guided] = await gated.replies_to(CUSTOMER)
    text = body_of(guided)
    assert form_lines(text) == [
        "Сайт сейчас не работает (да/нет): ",
        "Редакция: ",
        "Купон: ",
        "Категория: ",
    ]
    assert "(п. 2.2)" in text and "Обновление продукта (3.3)" in text
    # When the customer fills every line in one reply
    answer = (
        "Сайт сейчас не работает (да/нет): да\nРедакция: Бизнес\nКупон: AB12-CD34-EF56\n"
        "Категория: Обновление продукта"
    )
    out = await gated.send(
        body=answer, subject="Re: Не работает корзина", In_Reply_To=guided["Message-ID"]
    )
    # Then the ticket is filed, critical and in the category as answered (2.2), with no second
    # guided reply and nothing left for the agents to check
    assert out.kind == "filed"
    ticket = await gated.store.get_ticket(out.ticket_id or "")
    assert ticket is not None
    assert ticket.classification.category == "update" and ticket.classification.critical
    assert (ticket.edition, ticket.coupon) == ("Бизнес", "AB12-CD34-EF56")
    notes = " ".join(ticket.notes)
    assert "Категория выбрана клиентом" in notes
    assert "не подтверждал" not in notes and "не подтверждена" not in notes
    replies = await gated.replies_to(CUSTOMER)
    assert len(replies) == 2 and out.ticket_id in body_of(replies[-1])


async def test_a_second_guided_reply_asks_only_what_is_still_missing_or_invalid(down: Env):
    # Given the one guided reply to an incomplete site-down request
    await down.send(body=INCOMPLETE_DOWN)
    [guided] = await down.replies_to(CUSTOMER)
    assert form_lines(body_of(guided)) == [
        "Сайт сейчас не работает (да/нет): ",
        "Редакция: ",
        "Купон: ",
    ]
    # When the answer settles everything but the coupon, which is invalid
    answer = "Сайт сейчас не работает (да/нет): нет\nРедакция: Бизнес\nКупон: ???"
    out = await down.send(body=answer, In_Reply_To=guided["Message-ID"])
    # Then the second guided reply explains the coupon and asks for it alone
    assert out.kind == "guided"
    text = body_of((await down.replies_to(CUSTOMER))[-1])
    assert "Купон: не получилось принять «???»" in text
    assert form_lines(text) == ["Купон: "]
    # And the coupon files the ticket, with the answers of the first reply kept
    out = await down.send(body="Купон: AB12-CD34-EF56")
    assert out.kind == "filed"
    ticket = await down.store.get_ticket(out.ticket_id or "")
    assert ticket is not None
    assert ticket.edition == "Бизнес" and not ticket.classification.critical


async def test_a_category_answered_with_a_field_still_missing_is_not_asked_again(gated: Env):
    # Given the one guided reply to an incomplete site-down request, the category unsure
    await gated.send(body=INCOMPLETE_DOWN)
    [guided] = await gated.replies_to(CUSTOMER)
    assert "Категория: " in form_lines(body_of(guided))
    # When the answer names the category but leaves the coupon invalid
    answer = (
        "Сайт сейчас не работает (да/нет): да\nРедакция: Бизнес\nКупон: ???\n"
        "Категория: Обновление продукта"
    )
    out = await gated.send(body=answer, In_Reply_To=guided["Message-ID"])
    # Then only the coupon is asked again, and the category stays as answered
    assert out.kind == "guided"
    assert form_lines(body_of((await gated.replies_to(CUSTOMER))[-1])) == ["Купон: "]
    out = await gated.send(body="Купон: AB12-CD34-EF56")
    assert out.kind == "filed"
    ticket = await gated.store.get_ticket(out.ticket_id or "")
    assert ticket is not None and ticket.classification.category == "update"


async def test_steps_left_out_of_the_answer_are_not_asked_twice(down: Env):
    # Given the one guided reply to a site-down request without steps: it asks whether the
    # site is down and the missing fields, not the steps (none for a site that is down, 4.2.1)
    no_steps = INCOMPLETE_DOWN.replace(
        "Шаги воспроизведения: открыть корзину, нажать «Оформить заказ».\n", ""
    )
    await down.send(body=no_steps)
    [guided] = await down.replies_to(CUSTOMER)
    lines = form_lines(body_of(guided))
    assert "Шаги воспроизведения: " not in lines
    assert "Сайт сейчас не работает (да/нет): " in lines
    # When the customer says the site works and fills the rest, without steps
    answer = "Сайт сейчас не работает (да/нет): нет\nРедакция: Бизнес\nКупон: AB12-CD34-EF56"
    out = await down.send(body=answer, In_Reply_To=guided["Message-ID"])
    # Then the ticket is filed: steps are asked where possible, once (4.2.1), as in a chat
    assert out.kind == "filed"


async def test_all_answers_in_one_message_need_no_round_trip(gated: Env):
    out = await gated.send(
        body=COMPLETE + "Категория: ошибка продукта\nСайт сейчас не работает (да/нет): нет\n"
    )
    assert out.kind == "filed"
    ticket = await gated.store.get_ticket(out.ticket_id or "")
    assert ticket is not None and not ticket.classification.critical


async def test_a_4_2_6_answer_given_with_its_label_reaches_the_ticket(env: Env):
    out = await env.send(body=COMPLETE + "Когда началось: вчера вечером\n")
    assert out.kind == "filed"
    ticket = await env.store.get_ticket(out.ticket_id or "")
    assert ticket is not None
    said = " ".join([ticket.description, *ticket.details.values()])
    assert "вчера вечером" in said  # found by the question's patterns, or read by its label


def test_question_lines_are_read_by_their_labels():
    from bot.intake.events import ChoiceEvent, TextEvent
    from bot.intake.form import question_answer
    from bot.intake.questions import load_questions

    questions = load_questions()
    text = "Когда началось: вчера\nBrowser / another browser: Firefox 120"
    assert question_answer("since", text, questions) == TextEvent("вчера")
    assert question_answer("browser", text, questions) == TextEvent("Firefox 120")
    assert question_answer("changes", text, questions) == ChoiceEvent("skip")
    assert question_answer("no-such-question", text, questions) == ChoiceEvent("skip")


async def test_a_filing_whose_confirmation_was_cut_off_is_confirmed_on_the_retry(env: Env):
    # Given an e-mail whose ticket was filed (and the e-mail recorded as handled with it), the
    # process stopping before the confirmation was queued
    msg = env.build(body=COMPLETE)
    raw = msg.as_bytes()
    parsed = parse_message(raw)
    key = f"{parsed.from_addr} {parsed.message_id}"
    request = FormRequest(text=parsed.text, subject=parsed.subject, lang="ru")
    with env.desk.handling_inbound(key):
        filed_reply = await env.desk.form_request(EMAIL, CUSTOMER, request)
    assert filed_reply.ticket_id is not None
    assert await env.replies_to(CUSTOMER) == []
    # When the watcher hands the same e-mail over again, twice
    await env.channel.handle_raw(raw)
    await env.channel.handle_raw(raw)
    # Then the customer gets the confirmation once, in the e-mail's thread, and nothing is filed
    replies = await env.replies_to(CUSTOMER)
    assert len(replies) == 1
    assert filed_reply.ticket_id in replies[0]["Subject"]
    assert replies[0]["In-Reply-To"] == parsed.message_id
    assert "поставлено в очередь" in replies[0].get_content()
    assert await env.store.count_tickets() == 1
