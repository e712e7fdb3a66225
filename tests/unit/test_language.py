"""The customer's language from the first message, and requests to switch it."""

from __future__ import annotations

import time

import pytest

from bot.intake import texts
from bot.intake.language import detect_lang, is_language_complaint, requested_lang

RUSSIAN = [
    # An English greeting does not outvote a Russian message
    "Hello, ставим коробку Битрикс на новый сервер, ошибка при установке",
    "Не работает оформление заказа, после нажатия кнопки белый экран",
    "Здравствуйте! После обновления на 23.300.0 сайт shop.ru показывает белый экран",
    "СРОЧНО НЕ РАБОТАЕТ САЙТ",
    "не знаю",
    # English error text inside a Russian message
    "После обновления сайт выдает ошибку: Fatal error: Uncaught Error: Call to undefined "
    "function mysql_connect() in /home/bitrix/www/bitrix/modules/main/lib/db/connection.php:12",
    "Не работает корзина: Table 'b_sale_basket' doesn't exist",
    "сайт выдаёт Allowed memory size exhausted tried to allocate bytes",
    "Сайт лежит, пишет You don't have permission to access this resource",
    "Сайт выдает Please try again later",
    "Добрый день! В логе PHP Fatal error: Uncaught Exception: Connection refused",
    "Fatal error: Allowed memory size exhausted — вот такая ошибка после обновления",
    "не работает composer install, выдает permission denied при деплое",
    'У нас после переезда на PHP 8.1 в админке Warning: Undefined array key "SITE_ID"',
    "Ошибка в консоли браузера:\nUncaught TypeError: Cannot read properties of undefined",
    'Кнопка `BX.ajax.runAction` возвращает 500, в ответе "Internal Server Error"',
    "Здравствуйте! Please help, после обновления не открывается админка",
    "Hello! Сайт не работает",
    "«Не работает корзина»",
    # transliterated Russian: the customer reads Russian
    "sait ne rabotaet posle obnovleniya",
    "pomogite pozhaluysta, oshibka v korzine",
]

ENGLISH = [
    "Hello, after the update to 23.300.0 the site shows a white screen",
    "Sorry, I don't speak Russian",
    "English please",
    "My checkout is broken since yesterday",
    "HELP PLEASE MY SITE IS DOWN",
    "I don't understand",
    "where do I find the version?",
    "what is a coupon?",
    "Hi there",
    "Error: my site is down",
    '"My checkout is broken"',
    # Russian interface names or errors inside an English message
    "The menu item Настройки продукта is missing",
    "Hi, I get Ошибка при выполнении запроса on checkout",
    "My site shows «Сайт временно недоступен»",
    "We use the Бизнес edition and the cart does not work",
    "Our admin says: Ошибка подключения к базе данных",
]

UNSURE = [
    "",
    "   ",
    "ok",
    "да",
    "Привет",
    "Hello",
    "SM6-NS-ABCD12345",
    "https://shop.ru",
    "23.300.0",
    "ivan@mail.ru",
    "Битрикс Бизнес 23.300.0",
    "/bitrix/admin/update_system.php",
    # a lone pasted error says nothing about who pasted it
    "Fatal error: Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480)",
    # neither Russian nor English
    "Hallo, meine Seite funktioniert nicht",
]


@pytest.mark.parametrize("text", RUSSIAN)
def test_russian_messages_are_russian(text: str) -> None:
    assert detect_lang(text) == "ru"


@pytest.mark.parametrize("text", ENGLISH)
def test_english_messages_are_english(text: str) -> None:
    assert detect_lang(text) == "en"


@pytest.mark.parametrize("text", UNSURE)
def test_too_little_of_the_customers_own_words_is_unsure(text: str) -> None:
    assert detect_lang(text) is None


def test_a_long_message_is_read_quickly() -> None:
    text = "После обновления сайт выдает ошибку: Fatal error: Uncaught Error\n" * 300
    start = time.perf_counter()
    assert detect_lang(text) == "ru"
    assert time.perf_counter() - start < 0.5


ASKS_FOR_ENGLISH = [
    "Sorry, I don't speak Russian",
    "English please",
    "in English?",
    "English!",
    "Do you speak English?",
    "I can't read Russian",
    "no russian",
    "можно по-английски",
    "можно по английски?",
    "давайте на английском",
    "не говорю по-русски",
]
ASKS_FOR_RUSSIAN = [
    "по-русски, пожалуйста",
    "можно на русском?",
    "No, Russian please",
    "Russian is fine",
    "Я не понимаю по-английски",
]
NOT_A_REQUEST = [
    "Английская версия сайта не работает",
    "The English version of the shop shows error 500",
    "I don't understand",
    "где это смотреть?",
    "не знаю",
    "shop.ru",
    "English? no, Russian please",  # asks for both: nothing to act on
    "Sorry, I don't speak Russian, but my colleague does and he set up the site last year "
    "with the English admin",
]


@pytest.mark.parametrize("text", ASKS_FOR_ENGLISH)
def test_a_request_for_english(text: str) -> None:
    assert is_language_complaint(text)
    assert requested_lang(text) == "en"


@pytest.mark.parametrize("text", ASKS_FOR_RUSSIAN)
def test_a_request_for_russian(text: str) -> None:
    assert is_language_complaint(text)
    assert requested_lang(text) == "ru"


@pytest.mark.parametrize("text", NOT_A_REQUEST)
def test_a_message_that_only_mentions_a_language_is_no_request(text: str) -> None:
    assert not is_language_complaint(text)
    assert requested_lang(text) is None


@pytest.mark.parametrize("key", ["greeting", "help"])
def test_greeting_and_help_say_how_to_switch_language_in_the_other_language(key: str) -> None:
    russian, english = texts.t(key, "ru"), texts.t(key, "en")
    assert "English? Send /lang" in russian
    assert "По-русски? Отправьте /lang" in english


def test_the_greeting_still_starts_with_the_salutation() -> None:
    assert texts.t("greeting", "ru").startswith("Здравствуйте!")
    assert texts.t("greeting", "en").startswith("Hello!")
