"""The vocabulary of ticket values: «не знаю» and demo answers, editions of both product lines,
the coupon's normal form."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.tickets.values import (
    BITRIX24,
    EDITION_NAMES_EN,
    EDITIONS,
    KNOWN_EDITIONS,
    SITE_MANAGER,
    UNKNOWN,
    canonical_edition,
    edition_products,
    is_demo_answer,
    is_same_answer,
    is_unknown_answer,
    normalise_coupon,
)

COUPON = Settings().coupon_pattern


# --- «не знаю» ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "не знаю",
        "Не знаю!",
        "незнаю",
        "нет",
        "Нет.",
        "не помню",
        "без купона",
        "нет купона, это демоверсия",
        "у нас демо",
        "демо",
        "купона нет",
        "у меня его нет",
        "версию не помню",
        "понятия не имею",
        "не в курсе",
        "затрудняюсь ответить",
        "не могу найти купон",
        "купона нет под рукой",
        "купон потеряли",
        "coupon lost",
        "don't have the coupon at hand",
        "шагов нет",
        "не знаю, как воспроизвести",
        "хз",
        "-",
        "n/a",
        "don't know",
        "I don’t know",
        "I do not know",
        "I don't have it",
        "no idea",
        "not sure",
        "we have no coupon",
        "can't remember",
        "none",
        "skip",
        "demo",
    ],
)
def test_short_answers_that_say_the_value_is_not_known(answer: str) -> None:
    assert is_unknown_answer(answer)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "да",
        "знаю",
        "I have it",
        "SM6-NS-ABCD12345",
        "23.300.0",
        "Бизнес",
        "нет доступа к админке",
        "не работает корзина",
        "Сайт не открывается, нет связи с базой данных",
        # a long sentence about a problem is not an answer, even made of answer words
        "нет нет нет нет не знаю не помню не могу сказать какая версия у нас стоит",
        "какая версия?",
    ],
)
def test_other_texts_are_not_unknown_answers(text: str) -> None:
    assert not is_unknown_answer(text)


@pytest.mark.parametrize(
    ("text", "demo"),
    [
        ("нет купона, это демоверсия", True),
        ("у нас демо", True),
        ("пока пробная версия", True),
        ("стоит демо-версия", True),
        ("it's a trial", True),
        ("we use the demo version", True),
        ("не знаю", False),
        ("без купона", False),
        ("на демоверсии не работает оформление заказа", False),
        ("как поставить демоверсию на хостинг", False),
    ],
)
def test_a_demo_version_is_told_apart_from_a_plain_dont_know(text: str, demo: bool) -> None:
    assert is_demo_answer(text) is demo


def test_the_same_answer_is_a_short_answer_saying_too() -> None:
    assert is_same_answer("версию тоже") and is_same_answer("version too")
    assert not is_same_answer("версия 23.300.0 тоже") and not is_same_answer("версию")


# --- editions -----------------------------------------------------------------------------------


def test_both_product_lines_editions_are_known_and_the_offered_ones_are_among_them() -> None:
    for name in ("Эксперт", "Первый сайт", "Бизнес веб-кластер", "CRM", "Интернет-магазин + CRM"):
        assert name in KNOWN_EDITIONS and name not in EDITIONS
    assert set(EDITIONS) < set(KNOWN_EDITIONS)
    assert list(EDITION_NAMES_EN) == list(KNOWN_EDITIONS)


@pytest.mark.parametrize("edition", KNOWN_EDITIONS)
def test_every_known_edition_is_read_by_either_name(edition: str) -> None:
    english = EDITION_NAMES_EN[edition]
    for written in (edition, english, edition.upper(), english.lower(), f"редакция «{edition}»"):
        assert canonical_edition(written) == edition, written


@pytest.mark.parametrize(
    ("written", "edition"),
    [
        ("Корпоративный портал - Энтерпрайз", "Корпоративный портал — Энтерпрайз"),
        ("корпоративный портал энтерпрайз", "Корпоративный портал — Энтерпрайз"),
        ("Битрикс24 Энтерпрайз 5000", "Энтерпрайз"),
        ("Корпоративный портал 100", "Корпоративный портал"),
        ("1С-Битрикс: Управление сайтом — Малый бизнес", "Малый бизнес"),
        ("Бизнес Веб кластер", "Бизнес веб-кластер"),
        ("Standart", "Стандарт"),
        ("Online Store + CRM", "Интернет-магазин + CRM"),
        ("не знаю", UNKNOWN),
        ("премиум", None),
        ("", None),
    ],
)
def test_editions_written_in_other_ways(written: str, edition: str | None) -> None:
    assert canonical_edition(written) == edition


def test_the_product_line_of_an_edition() -> None:
    assert edition_products("Малый бизнес") == (SITE_MANAGER,)
    assert edition_products("Корпоративный портал") == (BITRIX24,)
    assert edition_products("Интернет-магазин + CRM") == (BITRIX24,)
    assert edition_products("Энтерпрайз") == (SITE_MANAGER, BITRIX24)
    assert edition_products("премиум") == ()


# --- coupons ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("SM6-NS-ABCD12345", "SM6-NS-ABCD12345"),
        ("SM6 NS ABCD12345", "SM6-NS-ABCD12345"),
        ("SM6_NS_ABCD12345", "SM6-NS-ABCD12345"),
        ("SM6–NS–ABCD12345", "SM6-NS-ABCD12345"),
        ("sm6—ns—abcd12345", "SM6-NS-ABCD12345"),
        ("SM6 NS-ABCD12345", "SM6-NS-ABCD12345"),
        (" AB12 - CD34 - EF56 ", "AB12-CD34-EF56"),
    ],
)
def test_coupon_groups_are_joined_the_configured_way(written: str, normal: str) -> None:
    assert normalise_coupon(written, COUPON) == normal


def test_a_coupon_is_written_together_when_the_pattern_has_no_groups() -> None:
    assert normalise_coupon("12345 67890", r"\d{10}") == "1234567890"
    assert normalise_coupon("12345_67890", r"\d{10}") == "1234567890"


def test_without_a_pattern_or_a_match_the_plain_form_is_kept() -> None:
    # what the coupon registry has always compared: spaces dropped, dashes as hyphens
    assert normalise_coupon("sm6 ns–abcd12345") == "SM6NS-ABCD12345"
    assert normalise_coupon("SM6_NS_ABCD12345") == "SM6_NS_ABCD12345"
    assert normalise_coupon("ЖЖ 12", COUPON) == "ЖЖ12"
