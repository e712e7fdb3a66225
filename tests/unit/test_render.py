"""The ticket e-mail (bot/tickets/render.py) against the ARCHITECTURE.md contract."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.config import Settings
from bot.tickets.model import (
    FIELD_LABELS,
    UNKNOWN_VALUE_NOTES,
    AttachmentRef,
    Classification,
    DocLink,
    Ticket,
    summarize,
)
from bot.tickets.render import (
    PRIORITY_CRITICAL,
    PRIORITY_NORMAL,
    header_text,
    render_customer_reply,
    render_followup,
    render_ticket,
    safe_address,
    site_url_forms,
)

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        support_address="support@whatasoft.net",
        from_address="frontdesk@desk.whatasoft.net",
        data_dir=tmp_path,
    )


def make_ticket(**overrides: object) -> Ticket:
    fields: dict[str, object] = {
        "channel": "telegram",
        "customer_id": "42",
        "lang": "ru",
        "description": "После обновления сайт показывает белый экран на странице корзины",
        "steps": "1. Открыть корзину\n2. Нажать «Оформить»",
        "site_url": "https://shop.example.com/cart",
        "contact_email": "ivan@example.com",
        "classification": Classification("error", True, "3.4.1.1", False, 0.87),
        "created_at": NOW,
        "product": "1С-Битрикс: Управление сайтом",
        "edition": "Бизнес",
        "version": "24.100.0",
        "coupon": "AB12-CD34-EF56",
        "id": "WAS-000123",
    }
    fields.update(overrides)
    return Ticket(**fields)  # type: ignore[arg-type]


def reparse(message: EmailMessage) -> EmailMessage:
    """What a mail client sees: the bytes on the wire parsed back."""
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)  # type: ignore[return-value]


def bodies(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()  # type: ignore[attr-defined]


def test_headers_follow_the_contract(settings: Settings) -> None:
    msg = reparse(render_ticket(make_ticket(), settings))
    assert msg["To"] == "support@whatasoft.net"
    assert msg["From"] == "frontdesk@desk.whatasoft.net"
    assert msg["Cc"] == "ivan@example.com"
    assert [a.addr_spec for a in msg["Reply-To"].addresses] == [
        "ivan@example.com",
        "frontdesk@desk.whatasoft.net",
    ]
    assert msg["Subject"] == (
        "[WAS-000123] Ошибка продукта: "
        "После обновления сайт показывает белый экран на странице корзины"
    )
    assert msg["Message-ID"] == "<WAS-000123.ticket@desk.whatasoft.net>"
    assert msg["Date"].datetime == NOW
    assert msg["X-Priority"] is None
    assert msg["Bcc"] is None


def test_message_id_is_stable(settings: Settings) -> None:
    a = render_ticket(make_ticket(), settings)
    b = render_ticket(make_ticket(description="другое"), settings)
    assert a["Message-ID"] == b["Message-ID"]


def test_bytes_use_crlf_and_strict_policy(settings: Settings) -> None:
    raw = render_ticket(make_ticket(), settings).as_bytes()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert raw.isascii()  # 7-bit clean: no 8BITMIME/SMTPUTF8 needed from any server


def test_parts_list_every_field_with_russian_labels(settings: Settings) -> None:
    ticket = make_ticket(
        details={"Браузер": "Firefox 128"},
        notes=["Клиент упоминал пароль — удалён из текста"],
        suggested_docs=[DocLink("Белый экран", "https://dev.example.com/white-screen")],
        next_opening=datetime(2025, 3, 5, 4, 0, tzinfo=UTC),
    )
    msg = reparse(render_ticket(ticket, settings))
    plain, rich = bodies(msg)
    for text in (plain, rich):
        for label in (
            "Описание проблемы", "Шаги воспроизведения", "Адрес сайта", "Продукт", "Редакция",
            "Версия", "Купон", "E-mail для ответа", "Классификация", "Ошибка продукта",
            "в рамках поддержки", "3.4.1.1", "87%", "вне рабочего времени", "05.03.2025 07:00",
            "Предложенная документация", "Белый экран", "Дополнительные сведения",
            "Firefox 128", "Клиент упоминал пароль", "AB12-CD34-EF56", "24.100.0", "Бизнес",
        ):  # fmt: skip
            assert label in text, label
    assert "Нажать «Оформить»" in plain
    assert '<a href="https://dev.example.com/white-screen">' in rich


def test_ticket_json_attachment(settings: Settings) -> None:
    ticket = make_ticket()
    msg = reparse(render_ticket(ticket, settings))
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    data = json.loads(parts["ticket.json"].get_content())
    assert data == json.loads(json.dumps(ticket.to_json()))
    assert data["id"] == "WAS-000123"


def test_customer_files_attached_and_bmp_zipped(settings: Settings, tmp_path: Path) -> None:
    png = tmp_path / "shot.png"
    png.write_bytes(PNG)
    bmp = tmp_path / "old.bmp"
    bmp.write_bytes(b"BM" + b"\0" * 64)
    ticket = make_ticket(
        attachments=[
            AttachmentRef("экран.png", str(png), "image/png", len(PNG)),
            AttachmentRef("old.bmp", str(bmp), "image/bmp", 66),
            AttachmentRef("lost.png", str(tmp_path / "missing.png"), "image/png", 1),
        ]
    )
    msg = reparse(render_ticket(ticket, settings))
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(parts) == {"ticket.json", "экран.png", "old.bmp.zip"}
    assert parts["экран.png"].get_content() == PNG
    assert parts["экран.png"].get_content_type() == "image/png"
    with zipfile.ZipFile(io.BytesIO(parts["old.bmp.zip"].get_content())) as archive:
        assert archive.read("old.bmp").startswith(b"BM")
    plain, _ = bodies(msg)
    assert "lost.png" in plain and "недоступно" in plain


def test_critical_subject_and_priority(settings: Settings) -> None:
    ticket = make_ticket(classification=Classification("error", True, "3.4.1.1", True, 0.9))
    msg = reparse(render_ticket(ticket, settings))
    assert msg["Subject"].startswith("[КРИТИЧНО] [WAS-000123] Ошибка продукта: ")
    assert msg["X-Priority"] == "1"


@pytest.mark.parametrize("cut", range(0, 60, 3))
def test_subject_reads_back_exactly(settings: Settings, cut: int) -> None:
    # Folding must not lose the spaces between encoded words (4.4: the same subject).
    ticket = make_ticket(description="Не работает " + "ёжик в тумане " * 8 + "x" * cut)
    msg = render_ticket(ticket, settings)
    followup = render_followup(ticket, "ещё", [], settings, 1, now=NOW)
    assert reparse(msg)["Subject"] == str(msg["Subject"])
    assert reparse(followup)["Subject"] == f"Re: {msg['Subject']}"


def test_long_summary_is_cut_to_80(settings: Settings) -> None:
    description = "Очень длинное описание " * 20
    msg = reparse(render_ticket(make_ticket(description=description), settings))
    summary = msg["Subject"].split(": ", 1)[1]
    assert len(summary) <= 80
    assert summary.endswith("…")
    plain, _ = bodies(msg)
    assert description.strip() in " ".join(plain.split())


@pytest.mark.parametrize(
    "field",
    ["description", "contact_email", "steps", "product", "coupon", "site_url"],
)
def test_header_injection_is_impossible(settings: Settings, field: str) -> None:
    evil = "x\r\nBcc: evil@x.example\r\nX-Evil: 1"
    msg = render_ticket(make_ticket(**{field: evil}), settings)
    raw = msg.as_bytes()
    parsed = reparse(msg)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\r\nX-Evil:" not in head
    for name in ("To", "Cc", "Reply-To"):
        assert "evil" not in str(parsed[name] or "")
    if field == "contact_email":
        assert parsed["Cc"] is None
        assert [a.addr_spec for a in parsed["Reply-To"].addresses] == [
            "frontdesk@desk.whatasoft.net"
        ]


@pytest.mark.parametrize(
    "value",
    [
        "ivan@example.com, evil@x.example",
        "Ivan <ivan@example.com>",
        "ivan@example.com\nevil@x.example",
        "no-at-sign",
        "ivan@localhost",
        "",
    ],
)
def test_only_one_plain_address_reaches_cc(settings: Settings, value: str) -> None:
    parsed = reparse(render_ticket(make_ticket(contact_email=value), settings))
    assert parsed["Cc"] is None
    assert "evil" not in str(parsed["Reply-To"])


def test_html_is_escaped(settings: Settings) -> None:
    ticket = make_ticket(
        description="<script>alert('x')</script> & <b>жирный</b>",
        steps='"><img src=x onerror=alert(1)>',
        details={"<i>ключ</i>": "<u>значение</u>"},
        suggested_docs=[DocLink("<b>doc</b>", "javascript:alert(1)")],
        notes=["<hr>"],
    )
    _, rich = bodies(reparse(render_ticket(ticket, settings)))
    for raw in ("<script>", "<img", "<b>", "<i>", "<u>", "<hr>", 'href="javascript'):
        assert raw not in rich
    assert "&lt;script&gt;" in rich and "&amp;" in rich


def test_idn_url_is_shown_in_both_forms(settings: Settings) -> None:
    msg = reparse(render_ticket(make_ticket(site_url="https://готовый-сайт.рф/корзина"), settings))
    plain, rich = bodies(msg)
    for text in (plain, rich):
        assert "https://готовый-сайт.рф/корзина" in text
        assert "https://xn----8sbed5ac4aa4afh6h.xn--p1ai/корзина" in text


@pytest.mark.parametrize(
    ("url", "unicode_form", "ascii_form"),
    [
        ("https://пример.рф", "https://пример.рф", "https://xn--e1afmkfd.xn--p1ai"),
        ("http://xn--e1afmkfd.xn--p1ai/a?b=1", "http://пример.рф/a?b=1", "http://xn--e1afmkfd.xn--p1ai/a?b=1"),
        ("пример.рф:8080/x", "пример.рф:8080/x", "xn--e1afmkfd.xn--p1ai:8080/x"),
        ("https://example.com/path", "https://example.com/path", None),
        ("", "", None),
    ],
)  # fmt: skip
def test_site_url_forms(url: str, unicode_form: str, ascii_form: str | None) -> None:
    assert site_url_forms(url) == (unicode_form, ascii_form)


def test_followup_keeps_the_thread(settings: Settings, tmp_path: Path) -> None:
    png = tmp_path / "more.png"
    png.write_bytes(PNG)
    ticket = make_ticket()
    msg = reparse(
        render_followup(
            ticket, "Ещё скриншот\r\nBcc: evil@x.example",
            [AttachmentRef("more.png", str(png), "image/png")], settings, 7, now=NOW,
        )
    )  # fmt: skip
    original = render_ticket(ticket, settings)
    assert msg["Subject"] == f"Re: {original['Subject']}"
    assert msg["In-Reply-To"] == "<WAS-000123.ticket@desk.whatasoft.net>"
    assert msg["References"] == "<WAS-000123.ticket@desk.whatasoft.net>"
    assert msg["Message-ID"] == "<WAS-000123.followup-7@desk.whatasoft.net>"
    assert msg["To"] == "support@whatasoft.net"
    assert msg["Cc"] == "ivan@example.com"
    assert msg["Bcc"] is None
    plain, _ = bodies(msg)
    assert "Ещё скриншот" in plain
    assert [p.get_filename() for p in msg.iter_attachments()] == ["more.png"]


def test_customer_reply(settings: Settings) -> None:
    msg = reparse(
        render_customer_reply(
            "ivan@example.com", "Re: вопрос\r\nBcc: evil@x.example", "Здравствуйте!", settings,
            in_reply_to="<abc@mail.example.com>",
            references=["<root@mail.example.com>", "junk\r\n"], now=NOW,
        )
    )  # fmt: skip
    assert msg["To"] == "ivan@example.com"
    assert msg["Subject"] == "Re: вопрос Bcc: evil@x.example"
    assert msg["Bcc"] is None
    assert msg["In-Reply-To"] == "<abc@mail.example.com>"
    assert msg["References"] == "<root@mail.example.com> <abc@mail.example.com>"
    assert msg["Message-ID"].endswith("@desk.whatasoft.net>")
    assert msg.get_content().strip() == "Здравствуйте!"
    with pytest.raises(ValueError):
        render_customer_reply("a@b.example, c@d.example", "s", "t", settings)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("a\r\nb", "a b"), ("a\x00b\x1bc", "a b c"), ("  a \t b  ", "a b"), ("a\u2028b", "a b")],
)
def test_header_text(raw: str, clean: str) -> None:
    assert header_text(raw) == clean


def test_safe_address() -> None:
    assert safe_address("ivan@example.com") is not None
    assert safe_address(" ivan@example.com ") is not None
    assert safe_address("ivan@example.com\r\n") is None
    assert safe_address("a@b.example,c@d.example") is None


@pytest.mark.parametrize(
    ("description", "summary"),
    [
        ("Здравствуйте! После обновления корзина выдаёт ошибку 500. Сайт shop.ru, редакция "
         "Бизнес, купон AB12-CD34-EF56, почта a@shop.ru",
         "После обновления корзина выдаёт ошибку 500."),
        ("Здравствуйте, у нас не работает корзина. Редакция Бизнес",
         "У нас не работает корзина."),
        ("Добрый день! Помогите. Сайт лежит после переноса на новый хостинг, ошибка 502 на всех "
         "страницах", "Помогите. Сайт лежит после переноса на новый хостинг, ошибка 502 на всех "
         "страни…"),
        ("Сайт shop.ru не открывается! Версия 25.0.0", "Сайт shop.ru не открывается!"),
        ("Hi team, search is broken", "Search is broken"),
        ("Hi-tech магазин не открывается", "Hi-tech магазин не открывается"),
        ("Здравствуйте!", "Здравствуйте!"),
    ],
)  # fmt: skip
def test_the_summary_is_the_first_sentence_that_says_something(
    description: str, summary: str
) -> None:
    assert summarize(description) == summary
    assert len(summarize(description * 5)) <= 80


def test_the_subject_carries_the_problem_not_the_details_pasted_after_it(
    settings: Settings,
) -> None:
    ticket = make_ticket(
        description="Здравствуйте! После обновления корзина выдаёт ошибку 500. Сайт shop.ru, "
        "редакция Бизнес, купон AB12-CD34-EF56"
    )
    msg = reparse(render_ticket(ticket, settings))
    assert (
        msg["Subject"]
        == "[WAS-000123] Ошибка продукта: После обновления корзина выдаёт ошибку 500."
    )
    assert "купон AB12-CD34-EF56" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize("url", ["¡::", "http://пример.рф:99999/", "пример.рф:порт"])
def test_a_site_that_is_no_url_is_shown_as_written(url: str) -> None:
    assert site_url_forms(url) == (url, None)


def test_an_undecodable_encoded_word_is_defused_not_raised() -> None:
    text = header_text("Re: =??Q? =?utf-8?b?PT91dGYtOD9iP01BPT0/PQ==?= x")
    assert "=?" not in text and "\r" not in text and "\n" not in text


def test_a_sealed_message_is_not_changed_after_its_check(settings: Settings) -> None:
    reply = render_customer_reply("ivan@example.com", "s", "t", settings, kind="verification_code")
    assert reply.wire == reply.as_bytes() and b"X-Frontdesk-Kind: verification_code" in reply.wire
    with pytest.raises(RuntimeError):
        reply["Bcc"] = "victim@victim.test"
    with pytest.raises(RuntimeError):
        del reply["Auto-Submitted"]


# --- what agents read: labels, both forms of an address, notes, priority, the customer's words --


def question_label(question_id: str) -> str:
    """The label an operator wrote for a 4.2.6 question in data/questions.json."""
    doc = json.loads((Path(__file__).parents[2] / "data" / "questions.json").read_text("utf-8"))
    return str(doc["questions"][question_id]["label_ru"])


def test_details_are_shown_under_their_russian_labels_not_their_ids(settings: Settings) -> None:
    ticket = make_ticket(
        details={"error_text": "502 Bad Gateway", "since": "вчера", "cdn_provider": "нет"},
        detail_labels={"since": "С какого момента"},
    )
    plain, rich = bodies(reparse(render_ticket(ticket, settings)))
    for text in (plain, rich):
        assert question_label("error_text") in text  # no label given: the questions file's
        assert "С какого момента" in text and question_label("since") not in text  # the given one
        assert "Cdn provider" in text  # an id nobody labelled, made readable
        assert "error_text" not in text and "cdn_provider" not in text
    assert f"{question_label('error_text')}: 502 Bad Gateway" in plain


def test_a_cyrillic_contact_is_shown_in_unicode_beside_its_punycode(settings: Settings) -> None:
    for written in ("ivan@xn--e1afmkfd.xn--p1ai", "ivan@пример.рф"):
        msg = reparse(render_ticket(make_ticket(contact_email=written), settings))
        plain, rich = bodies(msg)
        assert "E-mail для ответа: ivan@пример.рф (ivan@xn--e1afmkfd.xn--p1ai)" in plain
        assert "ivan@пример.рф (ivan@xn--e1afmkfd.xn--p1ai)</a>" in rich
        assert 'href="mailto:ivan@xn--e1afmkfd.xn--p1ai"' in rich  # the link stays ASCII
        assert msg["Cc"] == "ivan@xn--e1afmkfd.xn--p1ai"
        assert msg["Reply-To"].addresses[0].addr_spec == "ivan@xn--e1afmkfd.xn--p1ai"
    plain, _ = bodies(reparse(render_ticket(make_ticket(), settings)))
    assert "E-mail для ответа: ivan@example.com" in plain.splitlines()  # ASCII: shown once


@pytest.mark.parametrize(
    ("field", "clause"),
    [("steps", "4.2.1"), ("edition", "4.2.4"), ("version", "4.2.4"), ("coupon", "4.2.5")],
)
@pytest.mark.parametrize("value", ["не знаю", ""])
def test_every_unknown_4_2_value_gets_one_note_with_its_clause(
    settings: Settings, field: str, clause: str, value: str
) -> None:
    ticket = make_ticket(**{field: value})
    label = FIELD_LABELS[field]["ru"]
    notes = [n for n in ticket.agent_notes if n.startswith(f"{label}:")]
    assert len(notes) == 1 and f"(п. {clause})" in notes[0]
    assert notes == [UNKNOWN_VALUE_NOTES[field]]
    plain, rich = bodies(reparse(render_ticket(ticket, settings)))
    assert f"• {notes[0]}" in plain
    assert f"<li>{notes[0]}</li>" in rich


def test_known_values_get_no_note_and_the_intakes_coupon_note_is_not_repeated(
    settings: Settings,
) -> None:
    assert make_ticket().agent_notes == []
    intake_note = "Купон: клиент не знает номер — запросите его (п. 4.2.5)."
    ticket = make_ticket(coupon="не знаю", version="не знаю", notes=[intake_note, "Другое."])
    assert ticket.agent_notes == [
        UNKNOWN_VALUE_NOTES["version"], UNKNOWN_VALUE_NOTES["coupon"], "Другое."
    ]  # fmt: skip
    msg = reparse(render_ticket(ticket, settings))
    plain, _ = bodies(msg)
    assert plain.count("Купон: клиент не знает") == 1
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert json.loads(parts["ticket.json"].get_content())["notes"] == ticket.agent_notes


def test_each_part_names_the_ticket_once(settings: Settings) -> None:
    for critical in (False, True):
        c = Classification("error", True, "3.4.1.1", critical, 0.9)
        plain, rich = bodies(reparse(render_ticket(make_ticket(classification=c), settings)))
        assert rich.count("<h1") == 1
        assert plain.count("Обращение WAS-000123") == 1
        body = rich.split("<body>", 1)[1]
        assert body.count("Обращение WAS-000123") == 1


@pytest.mark.parametrize("critical", [True, False])
def test_the_priority_line_is_under_the_title(settings: Settings, critical: bool) -> None:
    c = Classification("error", True, "3.4.1.1", critical, 0.9)
    plain, rich = bodies(reparse(render_ticket(make_ticket(classification=c), settings)))
    expected = PRIORITY_CRITICAL if critical else PRIORITY_NORMAL
    assert plain.splitlines()[2] == expected
    after_title = rich.split("</h1>", 1)[1].lstrip()
    assert after_title.startswith('<p class="priority priority-')
    assert expected in after_title.split("</p>", 1)[0]
    assert ("priority-critical" in rich) is critical
    assert (PRIORITY_CRITICAL in plain + rich) is critical


def test_the_original_message_goes_last_and_into_ticket_json(settings: Settings) -> None:
    original = "Здравствуйте!\nКорзина не работает.\nСайт shop.example.com, версия 24.100.0"
    msg = reparse(render_ticket(make_ticket(original_text=original), settings))
    plain, rich = bodies(msg)
    last = plain.replace("\r\n", "\n").rstrip().rsplit("\n\n", 1)[1]
    assert last.startswith("Исходное сообщение клиента")
    assert "    Сайт shop.example.com, версия 24.100.0" in last
    assert "<details><summary>" in rich and rich.index("<details>") > rich.index("Служебное")
    assert "Корзина не работает.<br>Сайт shop.example.com" in rich
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert json.loads(parts["ticket.json"].get_content())["original_text"] == original


def test_an_original_message_that_is_the_description_is_not_shown_twice(
    settings: Settings,
) -> None:
    ticket = make_ticket()
    ticket.original_text = ticket.description + "\n"
    plain, rich = bodies(reparse(render_ticket(ticket, settings)))
    assert "Исходное сообщение клиента" not in plain + rich


def test_the_new_sections_are_escaped(settings: Settings) -> None:
    ticket = make_ticket(
        contact_email='"><img src=x onerror=alert(1)>@evil.example',
        details={"<s>id</s>": "<u>ответ</u>"},
        detail_labels={"<s>id</s>": "<i>метка</i>"},
        original_text="<script>alert('x')</script>\n<a href=javascript:alert(1)>ссылка</a>",
        classification=Classification("error", True, "3.4.1.1", True, 0.9),
    )
    _, rich = bodies(reparse(render_ticket(ticket, settings)))
    for raw in ("<img", "<s>", "<i>", "<u>", "<script>", "<a href=javascript", "mailto:"):
        assert raw not in rich, raw
    assert "&lt;i&gt;метка&lt;/i&gt;" in rich and "&lt;script&gt;" in rich
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;@evil.example" in rich


@pytest.mark.parametrize(
    ("scope_confidence", "shown"),
    [(0.95, "вне рамок поддержки, п. 3.1.2.1"), (0.6, "решает поддержка")],
)
def test_an_uncertain_scope_call_is_shown_to_agents_as_theirs_to_decide(
    settings: Settings, scope_confidence: float, shown: str
) -> None:
    verdict = Classification("install", False, "3.1.2.1", False, 0.9, False, scope_confidence)
    ticket = make_ticket(classification=verdict)
    plain, _ = bodies(reparse(render_ticket(ticket, settings)))
    assert shown in plain
    data = ticket.to_json()
    assert data["in_scope"] is False and data["scope_confidence"] == scope_confidence


def test_a_header_class_is_made_once_and_still_parses_its_header() -> None:
    # The registry keeps the class it built for a header name (CPython builds a new one on every
    # lookup, which made rendering slow); a cached class must parse like a fresh one.
    from bot.tickets.render import POLICY

    assert POLICY.header_factory["Subject"] is POLICY.header_factory["subject"]
    assert POLICY.header_factory["To"] is not POLICY.header_factory["Subject"]
    to = POLICY.header_factory("To", "a@example.ru, b@example.ru")
    assert [a.addr_spec for a in to.addresses] == ["a@example.ru", "b@example.ru"]


def test_multipart_boundaries_are_unguessable_and_new_for_every_message(settings) -> None:
    # A customer who could guess a boundary could end a part early inside their own text.
    first = render_ticket(make_ticket(), settings)
    second = render_ticket(make_ticket(), settings)
    boundaries = [p.get_boundary() for m in (first, second) for p in m.walk() if p.is_multipart()]
    assert boundaries and all(re.fullmatch(r"=_[0-9a-f]{32}", b) for b in boundaries)
    assert len(set(boundaries)) == len(boundaries)
    assert email.message_from_bytes(first.wire).get_boundary() == first.get_boundary()


def test_headers_kept_as_written_fold_as_parsed_ones_and_refuse_line_breaks() -> None:
    # The renderer's own short ASCII headers are not parsed into header objects (speed); they
    # must come out as the standard policy writes them, and a line break is still refused.
    from bot.tickets.render import POLICY, OutboundMessage

    standard = email.policy.SMTP
    for name, value in (
        ("Message-ID", "<WAS-000001.ticket@whatasoft.net>"),
        ("Date", "Thu, 03 Dec 2026 10:08:00 +0300"),
        ("X-Frontdesk-Ticket", "WAS-000001"),
        ("Auto-Submitted", "auto-generated"),
    ):
        kept = OutboundMessage(policy=POLICY)
        kept[name] = value
        parsed = EmailMessage(policy=standard)
        parsed[name] = value
        assert kept.as_bytes() == parsed.as_bytes()
    with pytest.raises(ValueError, match="linefeed"):
        OutboundMessage(policy=POLICY)["X-Frontdesk-Ticket"] = "WAS-1\r\nBcc: x@example.ru"
    not_ascii = OutboundMessage(policy=POLICY)
    not_ascii["X-Frontdesk-Kind"] = "заявка"
    assert b"=?utf-8?" in not_ascii.as_bytes()  # parsed and encoded by the standard policy
