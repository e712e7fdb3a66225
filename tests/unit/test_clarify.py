"""A question back instead of an answer is answered with where to find the value, never with a
format error."""

from __future__ import annotations

import re

import pytest

from bot.intake.clarify import question_back, where_to_find
from bot.intake.fields import EDITIONS, FIELD_ORDER, Field, edition_name
from bot.intake.language import detect_lang

QUESTIONS_BACK = [
    "где это смотреть?",
    "а где это найти",
    "что это?",
    "что такое купон? где его взять?",
    "что за купон?",
    "какая у меня редакция?",
    "не понимаю, что писать",
    "не понял",
    "не знаю, где посмотреть",
    "как узнать версию?",
    "Где посмотреть версию битрикса?",
    "а это обязательно?",
    "в смысле?",
    "что сюда писать?",
    "зачем вам купон?",
    "какой адрес?",
    "?",
    "??",
    "what is a coupon?",
    "what's a coupon",
    "where can I find it",
    "where do I find the version?",
    "which edition do I have?",
    "how do I check the version",
    "what do you mean?",
    "I don't understand",
    "I don't get it",
]

ANSWERS_AND_REAL_QUESTIONS = [
    # answers, some with a question mark
    "версия 23.300.0?",
    "23.300.0",
    "Бизнес",
    "Бизнес?",
    "наверное Бизнес?",
    "shop.ru",
    "ivan@mail.ru?",
    "SM6-NS-ABCD12345",
    "не знаю",
    "нет",
    "I don't know",
    "no idea",
    # acknowledgements
    "понятно",
    "понял, сейчас",
    "ок",
    "I understand",
    # questions to support: they name something other than what was asked
    "Где найти настройки почты? После обновления раздел пропал",
    "Как настроить кеширование?",
    "Как обновить версию?",
    "Что делать, если корзина не работает?",
    "Почему сайт тормозит?",
    "Что такое композитный сайт?",
    "How do I clear the cache?",
    "What is the best hosting for Bitrix?",
    "",
]


@pytest.mark.parametrize("text", QUESTIONS_BACK)
def test_a_question_about_the_question_is_recognised(text: str) -> None:
    assert question_back(text)


@pytest.mark.parametrize("text", ANSWERS_AND_REAL_QUESTIONS)
def test_answers_and_real_questions_are_not_questions_back(text: str) -> None:
    assert not question_back(text)


def test_a_long_message_is_not_a_question_back() -> None:
    assert not question_back("где это смотреть? " * 10)


@pytest.mark.parametrize("field", FIELD_ORDER)
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_field_has_help_in_the_customers_language(field: Field, lang: str) -> None:
    text = where_to_find(field, lang)
    assert len(text) > 80
    assert re.search(r"(п\.|clauses?) 4\.", text), "cites the regulation"
    assert detect_lang(text) == lang
    assert "{" not in text  # every placeholder filled


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_version_and_edition_are_found_on_the_platform_update_page(lang: str) -> None:
    for field in (Field.VERSION, Field.EDITION):
        text = where_to_find(field, lang)
        assert "/bitrix/admin/update_system.php" in text
        assert "Обновление платформы" in text


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_edition_help_names_every_edition(lang: str) -> None:
    text = where_to_find(Field.EDITION, lang)
    for edition in EDITIONS:
        assert edition_name(edition, lang) in text


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_coupon_is_in_the_purchase_mail_and_the_license_key_settings(lang: str) -> None:
    text = where_to_find(Field.COUPON, lang)
    assert "/bitrix/admin/settings.php?mid=main" in text
    assert ("письме" in text) if lang == "ru" else ("e-mail" in text)


@pytest.mark.parametrize("field", [Field.STEPS, Field.EDITION, Field.VERSION, Field.COUPON])
def test_where_the_desk_accepts_dont_know_the_help_says_so(field: Field) -> None:
    assert "«не знаю»" in where_to_find(field, "ru")
    assert "“don't know”" in where_to_find(field, "en")
