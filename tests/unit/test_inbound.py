"""Unit tests of bot/mail/inbound.py: raw e-mails in every shape → what the customer wrote."""

from __future__ import annotations

import random
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mail.inbound import (
    InboundMessage,
    auto_reply_reason,
    decode_bytes,
    html_to_text,
    message_id_domain,
    normalize_subject,
    parse_message,
    strip_quotes,
    strip_signature,
    ticket_ids,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mail"
OWN = ["frontdesk@localhost", "frontdesk@frontdesk.localhost"]
OWN_DOMAINS = ["frontdesk.localhost"]


def fixture(name: str) -> InboundMessage:
    return parse_message((FIXTURES / name).read_bytes())


def build(body: str = "Привет", charset: str = "utf-8", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Ivan <ivan@shop.example.ru>")
    msg["To"] = "frontdesk@localhost"
    msg["Subject"] = headers.pop("Subject", "Вопрос")
    msg["Message-ID"] = headers.pop("Message_ID", "<m1@shop.example.ru>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, charset=charset)
    return msg.as_bytes()


# --- raw fixtures ---


def test_outlook_html_only_cp1251_is_converted_and_the_reply_block_cut():
    m = fixture("outlook_html_cp1251.eml")
    assert m.from_addr == "ivan@shop.example.ru"
    assert m.from_name == "Иван Петров"
    assert m.subject == "Не работает корзина"
    assert "После обновления не открывается корзина, ошибка 500." in m.text
    assert "Адрес сайта: https://shop.example.ru" in m.text
    assert "Версия: 24.100.0" in m.text  # &nbsp; became a space
    assert "Старый текст" not in m.text
    assert "From:" not in m.text
    assert "p.MsoNormal" not in m.body  # <style> dropped
    assert [a.name for a in m.attachments] == ["image001.png"]


def test_koi8r_plain_text_subject_and_signature():
    m = fixture("koi8r_plain.eml")
    assert m.subject == "Не работает обновление"
    assert m.from_name == "Мария"
    assert "ключ не активен" in m.text
    assert "Купон: AB12-CD34-EF56" in m.text
    assert "Ромашка" not in m.text  # after "-- "
    assert "Ромашка" in m.body


def test_gmail_reply_keeps_answers_drops_quote_and_keeps_attachments():
    m = fixture("gmail_reply_attachments.eml")
    assert m.text == "Версия: 24.100.0\nКупон: AB12-CD34-EF56"
    assert m.in_reply_to == "<guided-1@frontdesk.localhost>"
    assert m.references == ("<first-1@mail.gmail.com>", "<guided-1@frontdesk.localhost>")
    assert m.thread_ids[0] == "<guided-1@frontdesk.localhost>"
    names = [(a.name, a.content_type) for a in m.attachments]
    assert names == [
        ("screen.png", "image/png"),
        ("скрин.bmp", "image/bmp"),  # RFC 2231 file name
        ("invoice.pdf", "application/pdf"),
    ]
    assert m.attachments[1].data.startswith(b"BM")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto_reply.eml", "Auto-Submitted: auto-replied"),
        ("bounce.eml", "Auto-Submitted: auto-replied"),
    ],
)
def test_robot_fixtures_get_no_auto_reply(name: str, reason: str):
    assert auto_reply_reason(fixture(name), OWN, OWN_DOMAINS) == reason


def test_bounce_text_is_the_human_part_only():
    m = fixture("bounce.eml")
    assert "User unknown" in m.body
    assert "Reporting-MTA" not in m.body
    assert m.attachments == ()


def test_malformed_message_is_recovered_not_raised():
    m = fixture("malformed.eml")
    assert m.defects
    assert m.from_addr == "ivan@shop.example.ru"
    assert m.from_name == "Иван"  # raw 8-bit windows-1251 header
    assert m.subject == "Проблема с сайтом"
    assert m.message_id == ""
    assert m.date is None
    assert "Привет" in m.text


# --- charsets ---


@pytest.mark.parametrize("charset", ["utf-8", "koi8-r", "windows-1251"])
def test_body_charsets(charset: str):
    m = parse_message(build("Сайт не открывается, ошибка 500", charset=charset))
    assert m.text == "Сайт не открывается, ошибка 500"


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("Привет, мир".encode("cp1251"), None, "Привет, мир"),
        ("Привет, мир".encode("koi8-r"), None, "Привет, мир"),
        ("Привет, мир".encode("cp1251"), "utf-8", "Привет, мир"),  # mislabelled
        ("Привет".encode(), "x-unknown", "Привет"),
        (b"plain", "us-ascii", "plain"),
    ],
)
def test_decode_bytes(data: bytes, declared: str | None, expected: str):
    assert decode_bytes(data, declared) == expected


# --- html ---


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Один</p><p>Два</p>", "Один\n\nДва"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<style>p{}</style><script>x()</script>текст", "текст"),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("&lt;b&gt; &amp; &nbsp;x", "<b> & x"),
        ("hi<blockquote>old<br>older</blockquote>", "hi\n> old\n> older"),
        ("<table><tr><td>Версия:</td><td>24.1</td></tr></table>", "Версия: 24.1"),
        ("<pre>a\n  b</pre>", "a\n  b"),
        ("<p>unclosed <b>tags", "unclosed tags"),
    ],
)
def test_html_to_text(html: str, expected: str):
    assert html_to_text(html) == expected


# --- quotes and signatures ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new\n\n> old\n> older", "new"),
        ("new\n\nOn Mon, 3 Mar 2025, Desk <d@x> wrote:\n> old", "new"),
        ("new\nOn Mon, 3 Mar 2025 at 10:00, Desk <d@x>\nwrote:\n> old", "new"),
        ("new\n\n03.03.2025 10:00, Desk пишет:\n> old", "new"),
        ("new\n\nПонедельник, 3 марта 2025, 10:00 +03:00 от Desk <d@x>:\n> old", "new"),
        ("new\n-----Original Message-----\nFrom: a\nold", "new"),
        ("new\n-----Исходное сообщение-----\nold", "new"),
        ("new\n________________________________\nFrom: Desk\nSent: Monday\nTo: me\nold", "new"),
        ("new\n\nОт: Desk\nОтправлено: понедельник\nКому: я\nТема: x\nold", "new"),
        # inline answers between quoted lines are kept
        (
            "On Mon, Desk wrote:\n> question one?\nanswer one\n> question two?\nanswer two",
            "answer one\nanswer two",
        ),
        # an answer under a quoted empty form label is joined to the label
        (
            "> Версия:\n24.100.0\n> Купон:\nAB12-CD34\n> Адрес сайта:\n",
            "Версия: 24.100.0\nКупон: AB12-CD34",
        ),
        ("> Версия:\nВерсия: 24.1", "Версия: 24.1"),
        ("no quotes at all", "no quotes at all"),
        (
            "From: is fine in prose\nwhen no header block follows",
            "From: is fine in prose\nwhen no header block follows",
        ),
    ],
)
def test_strip_quotes(text: str, expected: str):
    assert strip_quotes(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("body\n-- \nsig", "body"),
        ("body\n--\nsig", "body"),
        ("body\n-- not a sig\nmore", "body\n-- not a sig\nmore"),
        ("a\n-- \nb\n-- \nsig", "a\n-- \nb"),
    ],
)
def test_strip_signature(text: str, expected: str):
    assert strip_signature(text) == expected


# --- subjects and ids ---


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Fwd: вопрос", "вопрос"),
        ("RE[2]: вопрос", "вопрос"),
        ("Отв: Re: вопрос", "вопрос"),
        ("вопрос: Re: не префикс", "вопрос: Re: не префикс"),
    ],
)
def test_normalize_subject(subject: str, expected: str):
    assert normalize_subject(subject) == expected


def test_ticket_ids_and_message_id_domain():
    assert ticket_ids("Re: [WAS-000123] Ошибка: x [WAS-000123] WAS-000200") == [
        "WAS-000123",
        "WAS-000200",
    ]
    assert ticket_ids("WAS-12") == []
    assert message_id_domain("<a.b@Desk.Example>") == "desk.example"
    assert message_id_domain("nonsense") == ""


# --- loop safety ---


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, None),
        ({"Auto_Submitted": "no"}, None),
        ({"Auto_Submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
        ({"Auto_Submitted": "auto-replied; owner-email=x@y"}, "Auto-Submitted: auto-replied"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"Precedence": "list"}, "Precedence: list"),
        ({"Precedence": "junk"}, "Precedence: junk"),
        ({"List_Id": "<news.example>"}, "mailing list"),
        ({"X_Autoreply": "yes"}, "x-autoreply"),
        ({"Return_Path": "<>"}, "null sender"),
        ({"From": "MAILER-DAEMON@mx.example"}, "robot sender mailer-daemon@mx.example"),
        ({"From": "postmaster@mx.example"}, "robot sender postmaster@mx.example"),
        ({"From": "no-reply@shop.example"}, "robot sender no-reply@shop.example"),
        ({"From": "noreply@shop.example"}, "robot sender noreply@shop.example"),
        ({"From": "Desk <FrontDesk@frontdesk.localhost>"}, "our own address"),
        ({"Message_ID": "<x1@frontdesk.localhost>"}, "our own Message-ID"),
    ],
)
def test_auto_reply_reason(headers: dict[str, str], reason: str | None):
    m = parse_message(build(**headers))
    assert auto_reply_reason(m, OWN, OWN_DOMAINS) == reason


def test_from_missing_is_no_sender():
    assert auto_reply_reason(parse_message(b"Subject: x\r\n\r\nhello\r\n")) == "no sender"


# --- robustness ---


def test_garbage_never_raises():
    rng = random.Random(7)
    samples = [b"", b"\x00\xff" * 50, b"From:\r\n\r\n", b"Content-Type: multipart/mixed\r\n\r\n"]
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        samples += [raw[: rng.randrange(len(raw))] for _ in range(20)]
        for _ in range(20):
            mutated = bytearray(raw)
            for _ in range(10):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            samples.append(bytes(mutated))
    for raw in samples:
        m = parse_message(raw)
        assert isinstance(m.text, str)
        auto_reply_reason(m, OWN, OWN_DOMAINS)


def test_text_html_only_message():
    msg = EmailMessage()
    msg["From"] = "a@b.example"
    msg["Subject"] = "html"
    msg.set_content("<p>Сайт: <b>https://x.example</b></p><div>Версия: 24.1</div>", subtype="html")
    m = parse_message(msg.as_bytes())
    assert m.text == "Сайт: https://x.example\n\nВерсия: 24.1"


@pytest.mark.parametrize(
    "value",
    ["0@0.AA ( <ivan@mail.ru>", "anna@whatasoft.test <attacker@evil.test>", "a@b.ru, c@d.ru"],
)
def test_a_from_that_reads_two_ways_has_no_sender(value: str) -> None:
    assert parse_message(f"From: {value}\r\n\r\nb".encode()).from_addr == ""


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ('"anna@whatasoft.test" <attacker@evil.test>', "attacker@evil.test"),
        ("=?utf-8?q?anna=40whatasoft.test?= <attacker@evil.test>", "attacker@evil.test"),
        ("Иван <ivan@mail.ru>", "ivan@mail.ru"),
    ],
)
def test_a_quoted_or_encoded_name_is_not_the_address(value: str, address: str) -> None:
    assert parse_message(f"From: {value}\r\n\r\nb".encode()).from_addr == address
