"""Extraction of 4.2 fields from realistic free text, Russian and English."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.intake.extract import extract_fields
from bot.intake.fields import Field

COUPON = Settings().coupon_pattern


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Здравствуйте! После обновления на 23.300.0 сайт готовый-сайт-для-бизнеса.рф "
            "показывает белый экран на всех страницах. Редакция Бизнес, купон SM6-NS-ABCD12345, "
            "ответ на ivan+support@mail.ru",
            {
                Field.VERSION: "23.300.0",
                Field.SITE_URL: "готовый-сайт-для-бизнеса.рф",
                Field.EDITION: "Бизнес",
                Field.COUPON: "SM6-NS-ABCD12345",
                Field.CONTACT_EMAIL: "ivan+support@mail.ru",
            },
        ),
        (
            "Hi, our site https://shop.example.com/catalog/ returns 500 since the update. "
            "Edition: Small Business, version 24.0.100, coupon AB12-CD34-EF56, "
            "mail me at john@example.com",
            {
                Field.SITE_URL: "https://shop.example.com/catalog/",
                Field.EDITION: "Small Business",
                Field.VERSION: "24.0.100",
                Field.COUPON: "AB12-CD34-EF56",
                Field.CONTACT_EMAIL: "john@example.com",
            },
        ),
        (
            "сайт: example.ru\nВерсия: 23.300.0\nОписание: не работает корзина\nпосле обновления\n"
            "Купон: XX1-YY2-ZZ3",
            {
                Field.SITE_URL: "example.ru",
                Field.VERSION: "23.300.0",
                Field.DESCRIPTION: "не работает корзина\nпосле обновления",
                Field.COUPON: "XX1-YY2-ZZ3",
            },
        ),
        (
            "у меня php 8.1.2 и mysql 8.0.36, битрикс 22.0.5, сервер 192.168.1.10, "
            "ошибка в файле init.php",
            {Field.VERSION: "22.0.5"},
        ),
        ("не приходит пароль на почту после регистрации", {}),
        ("пишите на ivan@mail.ru", {Field.CONTACT_EMAIL: "ivan@mail.ru"}),
        ("ticket WAS-000123 still open, see bitrix/admin/index.php", {}),
        (
            "Редакция: Старт\nE-mail: a.b@c.ru\nШаги:\n1. Открыть каталог\n2. Нажать купить",
            {
                Field.EDITION: "Старт",
                Field.CONTACT_EMAIL: "a.b@c.ru",
                Field.STEPS: "1. Открыть каталог\n2. Нажать купить",
            },
        ),
    ],
)
def test_fields_found_in_realistic_messages(message: str, expected: dict[Field, str]) -> None:
    assert extract_fields(message, COUPON).values == expected


def test_prose_is_kept_as_the_description_candidate() -> None:
    extracted = extract_fields("Не работает корзина на example.ru после обновления", COUPON)
    assert extracted.has_prose
    assert "корзина" in extracted.prose


def test_bare_values_are_not_prose() -> None:
    extracted = extract_fields("example.ru 23.300.0 ivan@mail.ru", COUPON)
    assert not extracted.has_prose
    assert len(extracted.values) == 3


@pytest.mark.parametrize(
    "message",
    ["", "\x00\x01\x02", "😀" * 1000, "a" * 100_000, "Ωмега ɑlpha 中文 مرحبا", "\u202e" * 50],
)
def test_garbage_never_raises(message: str) -> None:
    extract_fields(message, COUPON)
