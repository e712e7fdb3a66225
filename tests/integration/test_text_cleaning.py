"""Text is cleaned where it enters: lone surrogates become U+FFFD, control characters spaces.

Through the real desk with its SQLite store, the console (in process and as `frontdesk chat` on a
real stdin), inbound e-mail decoding, and the field extraction that used to glue words together.
"""

from __future__ import annotations

import email
import email.policy
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.intake import texts
from bot.intake.conversation import Step
from bot.intake.events import ChoiceEvent, CommandEvent, TextEvent, clean_event
from bot.intake.extract import extract_fields
from bot.intake.fields import Field, Invalid, clean_text, validate_email
from bot.mail.inbound import decode_bytes, parse_message
from bot.text import clean
from bot.tickets.model import Ticket
from bot.tickets.render import render_ticket
from classifier import Classifier
from tests.helpers import file_request

COUPONS = r"[A-Z0-9]+(?:-[A-Z0-9]+){2,5}"
INJECTION = "ivan@mail.ru\u0085Bcc: c@z.ru"

# A complete request with a lone surrogate, a NUL, a NEL and a line separator in it.
BROKEN = (
    "Не работает оформление заказа в корзине\ud800: кнопка «Оформить»\x00ничего не делает. "
    "Сайт example.ru, редакция Бизнес, версия 25.1.0, купон SM6-NS-ABCD12345, ivan@example.ru\n"
    "Шаги: 1. добавить товар\u20282. нажать\u0085Оформить"
)


# --------------------------------------------------------------------------------- bot/text.py


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\ud800b", "a\ufffdb"),  # a lone high surrogate (a "\ud800" escape in JSON)
        ("a\udcffb", "a\ufffdb"),  # a surrogate escape of an invalid byte
        ("\ud83d\ude00", "\U0001f600"),  # a well-formed pair is its character
        ("a\x00b\x1bc\x7fd\x85e\x9ff", "a b c d e f"),  # C0, DEL, C1: spaces, never deleted
        ("one\r\ntwo\rthree\u2028four\u2029five", "one\ntwo\nthree\nfour\nfive"),
        ("keep\ttab\nand newline", "keep\ttab\nand newline"),
        ("a\u200bb\u202ec\ufeffd", "abcd"),  # invisible formatting: dropped, as before
    ],
)
def test_clean_multiline(raw: str, expected: str) -> None:
    assert clean(raw) == expected
    assert clean(expected) == expected  # idempotent: cleaning again at the desk changes nothing


def test_clean_single_line_makes_every_break_a_space() -> None:
    assert clean("scr\x00een\r\nshot\n\t\u2028x\ud800.png", multiline=False) == (
        "scr een shot   x\ufffd.png"
    )


def test_clean_event_cleans_text_commands_and_choices() -> None:
    assert clean_event(TextEvent("a\ud800\x00b")) == TextEvent("a\ufffd b")
    assert clean_event(CommandEvent("lang", "en\x85")) == CommandEvent("lang", "en ")
    assert clean_event(ChoiceEvent("send\u2028")) == ChoiceEvent("send ")


# ------------------------------------------------------------------------- fields, extraction


def test_a_control_character_never_glues_an_address_to_the_next_word() -> None:
    assert clean_text(INJECTION) == "ivan@mail.ru Bcc: c@z.ru"
    # The address as a labelled value is refused, not read as a different address
    assert validate_email(INJECTION) == Invalid("email_format")
    labelled = extract_fields(f"E-mail: {INJECTION}", COUPONS)
    assert labelled.values[Field.CONTACT_EMAIL] == "ivan@mail.ru Bcc: c@z.ru"
    # In free text the address the customer typed is found, not "ivan@mail.rubcc"
    free = extract_fields(f"Не работает корзина, пишите на {INJECTION}", COUPONS)
    assert free.values[Field.CONTACT_EMAIL] == "ivan@mail.ru"


# ------------------------------------------------------------------------ the desk and SQLite


@pytest.fixture
async def app(settings: Settings, trained_classifier: Classifier) -> AsyncIterator[App]:
    application = await build_app(settings, classifier=trained_classifier)
    yield application
    await application.close()


async def test_a_turn_with_a_lone_surrogate_is_stored_and_its_ticket_renders(
    app: App, settings: Settings
) -> None:
    # Given a request with a lone surrogate and control characters, through the real desk
    await file_request(app, "s1", BROKEN)
    # Then the turns were stored (SQLite refuses lone surrogates) and the ticket was filed
    (ticket,) = await app.desk.tickets_of("test", "s1")
    assert "корзине\ufffd:" in ticket.description
    assert "«Оформить» ничего" in ticket.description  # the NUL is a space, words stay apart
    assert ticket.steps == "1. добавить товар\n2. нажать Оформить"
    assert not any("\ud800" <= ch <= "\udfff" for ch in ticket.description + ticket.steps)
    # And the ticket renders, and its e-mail is written
    rendered = render_ticket(ticket, settings)
    assert b"WAS-000001" in rendered.as_bytes()
    assert await app.drain_outbox(10)
    message = email.message_from_bytes(
        (settings.outbox_dir / f"{ticket.id}.eml").read_bytes(), policy=email.policy.default
    )
    body = message.get_body(("plain",))
    assert body is not None and "корзине\ufffd:" in body.get_content()


async def test_a_stored_ticket_with_cleaned_text_round_trips(app: App) -> None:
    await file_request(app, "s2", BROKEN)
    (ticket,) = await app.desk.tickets_of("test", "s2")
    stored = await app.store.get_ticket(ticket.id)
    assert isinstance(stored, Ticket) and stored.description == ticket.description


async def test_an_address_with_a_control_character_is_refused_and_asked_again(
    app: App,
) -> None:
    # Given a customer asked for the contact e-mail (after the site-down question, 2.2)
    request = BROKEN.replace(", ivan@example.ru", "")
    await app.desk.handle("test", "e1", TextEvent(request))
    conversation = await app.desk.conversation("test", "e1")
    assert conversation is not None and conversation.step is Step.CRITICAL
    await app.desk.handle("test", "e1", ChoiceEvent("no"))
    conversation = await app.desk.conversation("test", "e1")
    assert conversation is not None and conversation.asking == Field.CONTACT_EMAIL.value
    # When the answer carries a NEL and a header after it, as a form line
    (reply,) = await app.desk.handle("test", "e1", TextEvent(f"E-mail: {INJECTION}"))
    # Then it is refused politely and asked again; no glued address is taken
    assert "ivan@mail.ru Bcc: c@z.ru" in reply.text
    assert texts.reason("email_format", "ru") in reply.text
    assert texts.t("ask_contact_email", "ru") in reply.text
    conversation = await app.desk.conversation("test", "e1")
    assert conversation is not None and Field.CONTACT_EMAIL.value not in conversation.fields
    # And typed on its own, the address is the one the customer wrote, never "ivan@mail.rubcc"
    await app.desk.handle("test", "e1", TextEvent(INJECTION))
    conversation = await app.desk.conversation("test", "e1")
    assert conversation is not None
    assert conversation.fields[Field.CONTACT_EMAIL.value] == "ivan@mail.ru"


# ---------------------------------------------------------------------------------- console


async def test_console_survives_surrogate_escapes_and_files_the_ticket(
    app: App, settings: Settings
) -> None:
    # What Python reads from a terminal with invalid UTF-8: surrogate escapes (\udcXX)
    broken = BROKEN.replace("\ud800", "\udcff\udcfe").replace("\n", " ")
    answers = ["1"] * 10
    stdin = io.StringIO("\n".join([broken, *answers]) + "\n")
    out = io.StringIO()
    await ConsoleChannel(app.desk, settings.data_dir, stdin, out).run()
    text = out.getvalue()
    assert texts.t("error", "ru") not in text
    assert "WAS-000001" in text
    (ticket,) = await app.desk.tickets_of("console", "local")
    assert "корзине\ufffd\ufffd:" in ticket.description


async def test_console_attach_with_an_unclosed_quote_does_not_end_the_chat(
    app: App, settings: Settings
) -> None:
    stdin = io.StringIO("/attach 'screen.png\n/status\n")
    out = io.StringIO()
    await ConsoleChannel(app.desk, settings.data_dir, stdin, out).run()
    assert texts.t("status_none", "ru") in out.getvalue()


def _chat_bytes(data_dir: Path, model_dir: Path, data: bytes, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    environ.update(FRONTDESK_DATA_DIR=str(data_dir), FRONTDESK_MODEL_DIR=str(model_dir), **env)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=data, capture_output=True, env=environ, timeout=120, cwd=data_dir.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    return result.stdout.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "io_encoding",
    ["utf-8:surrogateescape", "utf-8:strict"],  # a C/POSIX locale, and a strict UTF-8 terminal
)
def test_console_process_reads_invalid_utf8_from_stdin(
    tmp_path: Path, model_dir: Path, trained_classifier: Classifier, io_encoding: str
) -> None:
    # Given a terminal that sends a windows-1251 word into a UTF-8 session
    line = "Не работает оформление заказа в корзине: ".encode() + "ошибка".encode("cp1251")
    out = _chat_bytes(
        tmp_path / "var", model_dir, line + b"\n/status\n", PYTHONIOENCODING=io_encoding
    )
    # Then the turn is answered (a site that does not work: asked whether it is down, 2.2)
    # and the chat goes on
    assert texts.t("error", "ru") not in out
    assert texts.t("ask_critical", "ru") in out
    assert texts.t("status_none", "ru") in out


# --------------------------------------------------------------------------- inbound e-mail


def test_utf8_body_with_a_few_invalid_bytes_stays_utf8() -> None:
    text = "Здравствуйте! После обновления на 25.1.0 сайт показывает белый экран на страницах."
    # A stray 8-bit byte and a multi-byte character cut in half
    broken = "Здравствуйте!".encode() + b"\xff" + " После обновления на 25.1.0 ".encode()
    broken += "с".encode()[:1] + "айт показывает белый экран на страницах.".encode()
    decoded = decode_bytes(broken)
    assert decoded == (
        "Здравствуйте!\ufffd После обновления на 25.1.0 \ufffdайт показывает белый экран на "
        "страницах."
    )
    # Labelled utf-8, the same
    assert decode_bytes(broken, "utf-8") == decoded
    # Real 8-bit Cyrillic without a label still reads as before
    assert decode_bytes(text.encode("cp1251")) == text
    assert decode_bytes(text.encode("koi8-r")) == text
    assert decode_bytes(text.encode("cp1251"), "utf-8") == text  # mislabelled


def test_a_message_body_with_one_invalid_byte_is_not_mojibake() -> None:
    body = "Сайт не открывается, ошибка 500 на странице корзины".encode()
    raw = (
        b"From: ivan@example.ru\r\nSubject: =?utf-8?b?0J7RiNC40LHQutCw?=\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body[:20] + b"\xc0" + body[20:] + b"\r\n"
    )  # fmt: skip
    assert parse_message(raw).text == "Сайт не отк\ufffdрывается, ошибка 500 на странице корзины"


@pytest.mark.parametrize(
    "charset",
    [
        "utf-8\x00",
        "\x00",
        "utf\x00-8",
        "../../etc",
        "a" * 5000,
        "utf-8" + "\udcff",
        "unicode_escape",  # a Python codec, not a charset: escapes would become any character
        "x" * 41,
    ],
)
def test_malformed_charset_names_fall_back_to_detection(charset: str) -> None:
    raw = (
        "From: Иван <ivan@example.ru>\r\nSubject: test\r\n"
        f'Content-Type: text/plain; charset="{charset}"\r\n\r\n'
        "Привет, сайт не открывается \\ud800\r\n"
    ).encode("cp1251", "surrogateescape")
    m = parse_message(raw)  # never raises
    assert m.text == "Привет, сайт не открывается \\ud800"
    assert m.from_addr == "ivan@example.ru"
    assert decode_bytes("Привет".encode("cp1251"), charset) == "Привет"


def test_a_declared_utf7_body_yields_no_lone_surrogate() -> None:
    raw = (
        b'From: a@example.ru\r\nContent-Type: text/plain; charset="utf-7"\r\n\r\n'
        b"hi +2AA- there\r\n"
    )
    assert parse_message(raw).text == "hi \ufffd there"


def test_control_characters_in_a_mail_body_become_spaces() -> None:
    raw = (
        b"From: a@example.ru\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "E-mail: ivan@mail.ru\u0085Bcc: c@z.ru\r\nwords\x00apart\r\n".encode()
    )
    m = parse_message(raw)
    assert "E-mail: ivan@mail.ru Bcc: c@z.ru" in m.text
    assert "words apart" in m.text
