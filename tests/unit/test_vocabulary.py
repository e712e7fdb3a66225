"""Each vocabulary the desk shows or reads is written once; this pins what people see of them.

Categories come from data/scope.json (through `classifier.load_categories`), field labels from
`bot.tickets.model`, edition names from `bot.tickets.values`, yes/no words and the language
choice from `bot.intake.texts`, typed choices from `bot.intake.events.typed_option`, and files
are taken by `bot.intake.attachments.receive_attachment`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.intake import machine, questions, texts
from bot.intake.attachments import receive_attachment
from bot.intake.conversation import Turn
from bot.intake.events import ChoiceEvent, Option, TextEvent, typed_option
from bot.intake.extract import extract_fields
from bot.intake.fields import (
    EDITIONS,
    FIELD_ORDER,
    Field,
    Valid,
    edition_name,
    validate_edition,
)
from bot.intake.machine import IntakeContext
from bot.policy import kb
from bot.tickets.model import CATEGORY_LABELS_RU, AttachmentRef
from bot.tickets.values import EDITION_NAMES_EN
from classifier import CATEGORIES, load_categories
from tests.helpers import WORKING_HOURS as NOW
from tests.helpers import talk

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
BMP = b"BM" + b"\0" * 64


# --- categories -------------------------------------------------------------------------------


def test_categories_are_the_contract_ids_with_their_sections() -> None:
    categories = load_categories()
    assert [(c.id, c.section) for c in categories.values()] == [
        ("install", "3.1"),
        ("performance", "3.2"),
        ("update", "3.3"),
        ("error", "3.4"),
        ("development", "3.5"),
        ("theory", "3.6"),
    ]
    assert tuple(categories) == CATEGORIES
    # every list of categories in the bot is that one
    assert machine.CATEGORIES == questions.CATEGORIES == kb.CATEGORIES == CATEGORIES


def test_ticket_subject_category_names_are_unchanged() -> None:
    """The Russian names are part of the ticket e-mail's subject (a contract)."""
    assert CATEGORY_LABELS_RU == {
        "install": "Установка и настройка",
        "performance": "Производительность",
        "update": "Обновление продукта",
        "error": "Ошибка продукта",
        "development": "Разработка",
        "theory": "Работа с системой",
    }


def test_customers_see_the_category_with_its_section() -> None:
    assert [texts.category_name(c, "ru") for c in CATEGORIES] == [
        "Установка и настройка (3.1)",
        "Производительность (3.2)",
        "Обновление продукта (3.3)",
        "Ошибка продукта (3.4)",
        "Разработка (3.5)",
        "Работа с системой (3.6)",
    ]
    assert [texts.category_name(c, "en") for c in CATEGORIES] == [
        "Installation and setup (3.1)",
        "Performance (3.2)",
        "Product updates (3.3)",
        "Product error (3.4)",
        "Development (3.5)",
        "Using the system (3.6)",
    ]


# --- field labels -----------------------------------------------------------------------------


def test_field_labels_and_the_e_mail_form_overrides() -> None:
    assert [texts.field_label(f, "ru") for f in FIELD_ORDER] == [
        "Описание проблемы",
        "Шаги воспроизведения",
        "Адрес сайта",
        "Редакция",
        "Версия",
        "Купон",
        "E-mail для ответа",
    ]
    assert {f: texts.form_label(f, "ru") for f in FIELD_ORDER} == {
        f: texts.field_label(f, "ru") for f in FIELD_ORDER
    }
    # the parser does not know three of the English labels: the form writes others
    assert {f: texts.form_label(f, "en") for f in FIELD_ORDER} == {
        Field.DESCRIPTION: "Description",
        Field.STEPS: "Steps to reproduce",
        Field.SITE_URL: "Site URL",
        Field.EDITION: "Edition",
        Field.VERSION: "Version",
        Field.COUPON: "Coupon",
        Field.CONTACT_EMAIL: "Contact e-mail",
    }
    for f in (Field.DESCRIPTION, Field.SITE_URL, Field.CONTACT_EMAIL):
        label = texts.field_label(f, "en")
        assert f not in extract_fields(f"{label}: не знаю", "").values, label


# --- editions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_edition_is_found_by_either_name(edition: str) -> None:
    english = EDITION_NAMES_EN[edition]
    assert edition_name(edition, "en") == english and edition_name(edition, "ru") == edition
    for name in (edition, english, edition.lower(), english.upper()):
        assert validate_edition(name) == Valid(edition), name
    for text in (
        f"Сайт не открывается, редакция {edition}",
        f"The site fails, edition {english}",
        f"У нас {edition} редакция, не работает корзина",
    ):
        found = extract_fields(text, "").values.get(Field.EDITION, "")
        assert validate_edition(found) == Valid(edition), text


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "lang"),
    [("en", "en"), ("en-GB", "en"), ("EN", "en"), ("ru", "ru"), ("de", "ru"), ("", "ru")]
    + [(None, "ru")],
)
def test_the_language_is_english_for_en_codes_and_russian_otherwise(
    code: str | None, lang: str
) -> None:
    assert texts.pick_lang(code) == lang
    assert machine.new_conversation(code).lang == lang


# --- typed choices and yes/no -----------------------------------------------------------------


def test_a_typed_label_value_or_number_counts_as_the_button() -> None:
    options = (Option("send", "Отправить"), Option("edit", "Исправить"))
    assert typed_option("  отправить! ", options) == "send"
    assert typed_option("EDIT", options) == "edit"
    assert typed_option("2", options) == "edit"
    assert typed_option("2", options, numbered=False) is None  # a keyboard shows no numbers
    assert typed_option("3", options) is None
    assert typed_option("отправить письмо", options) is None
    assert typed_option("", options) is None


def _at_the_critical_question(context: IntakeContext) -> Turn:
    """A request whose site is down (2.2), with every field given: the next step asks if so."""
    text = (
        "После обновления сайт shop.example.ru показывает белый экран на всех страницах. "
        "Редакция Бизнес, версия 25.0.0, купон SM6-NS-ABCD12345."
    )
    turn = talk(context, TextEvent(text))  # the e-mail is missing: 2.2 is asked first
    assert turn.state.step == "critical"
    return turn


@pytest.mark.parametrize(
    ("answer", "critical"),
    [("да", True), ("Не работает", True), ("down", True), ("нет", False), ("работает", False)],
)
def test_is_the_site_down_may_be_answered_in_words(
    context: IntakeContext, answer: str, critical: bool
) -> None:
    asked = _at_the_critical_question(context)
    turn = machine.handle(asked.state, TextEvent(answer), NOW, context)
    assert turn.state.critical is critical
    assert texts.yes_or_no(answer, site_down=True) is critical


def test_yes_no_words_are_one_vocabulary(context: IntakeContext) -> None:
    assert texts.yes_or_no("Да!") is True and texts.yes_or_no("nope") is False
    assert texts.yes_or_no("работает") is None  # only an answer to "is the site down?"
    assert texts.SITE_DOWN_YES >= texts.YES_WORDS and texts.SITE_DOWN_NO >= texts.NO_WORDS
    asked = _at_the_critical_question(context)
    pressed = machine.handle(asked.state, ChoiceEvent("yes"), NOW, context)
    typed = machine.handle(asked.state, TextEvent("ага"), NOW, context)
    assert typed.state == pressed.state


# --- attachments ------------------------------------------------------------------------------


async def test_a_file_is_checked_before_it_is_read_then_kept(tmp_path: Path) -> None:
    reads: list[str] = []

    def reader(name: str, data: bytes) -> Callable[[], Awaitable[bytes]]:
        async def read() -> bytes:
            reads.append(name)
            return data

        return read

    async def take(
        name: str, data: bytes, size: int | None = None, lang: str = "ru"
    ) -> tuple[AttachmentRef | None, str | None]:
        size = len(data) if size is None else size
        read = reader(name, data)
        return await receive_attachment(tmp_path, "test:1", name, None, size, read, lang)

    ref, note = await take("report.pdf", b"%PDF-1.4")
    assert ref is None and note is not None and "4.6" in note
    ref, note = await take("huge.png", PNG, size=50 * 1024 * 1024, lang="en-GB")
    assert ref is None and note is not None and "too big" in note
    assert reads == []  # refused by name or size: never downloaded
    ref, note = await take("shot.png", PNG)
    assert ref is not None and note is None
    assert await asyncio.to_thread(Path(ref.path).read_bytes) == PNG
    ref, note = await take("fake.png", b"MZ\x90\x00")
    assert ref is None and note is not None  # the content decides, not the name
    ref, note = await take("screen.bmp", BMP)
    assert ref is not None and ref.name == "screen.zip" and note is not None
    assert reads == ["shot.png", "fake.png", "screen.bmp"]
