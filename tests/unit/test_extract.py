"""Extraction of 4.2 fields from realistic free text, Russian and English."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.intake.extract import extract_fields
from bot.intake.fields import Field
from bot.tickets.values import normalise_coupon

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


# --- labels anywhere in a line ------------------------------------------------------------------


def test_a_steps_label_inside_a_pasted_message() -> None:
    extracted = extract_fields(
        "Здравствуйте, не работает корзина. Шаги: открыть корзину, нажать оформить. Сайт shop.ru",
        COUPON,
    )
    assert extracted.values == {
        Field.STEPS: "открыть корзину, нажать оформить.",
        Field.SITE_URL: "shop.ru",
    }
    assert extracted.remainder == "Здравствуйте, не работает корзина."


@pytest.mark.parametrize(
    "label",
    [
        "Шаги",
        "Шаги воспроизведения",
        "Как воспроизвести",
        "Как повторить",
        "Повторить",
        "Чтобы повторить",
        "Steps",
        "Steps to reproduce",
        "How to reproduce",
        "To reproduce",
    ],
)
def test_every_steps_label_is_read_after_a_sentence(label: str) -> None:
    message = f"Кнопка «Купить» ничего не делает. {label}: зайти в каталог, нажать «Купить»"
    extracted = extract_fields(message, COUPON)
    assert extracted.values[Field.STEPS] == "зайти в каталог, нажать «Купить»"
    assert extracted.remainder == "Кнопка «Купить» ничего не делает."


def test_a_word_steps_inside_a_sentence_is_not_a_label() -> None:
    message = "Я сделал все шаги: очистил кэш, перезапустил сервер, не помогло"
    assert extract_fields(message, COUPON).values == {}


def test_one_value_labels_inside_a_line_take_their_value_only() -> None:
    message = (
        "Не отправляются письма, Сайт: mail-shop.ru, Редакция: Старт, Версия: 23.500.0, "
        "Купон: AB12-CD34-EF56, E-mail: olga@example.org, спасибо"
    )
    extracted = extract_fields(message, COUPON)
    assert extracted.values == {
        Field.SITE_URL: "mail-shop.ru",
        Field.EDITION: "Старт",
        Field.VERSION: "23.500.0",
        Field.COUPON: "AB12-CD34-EF56",
        Field.CONTACT_EMAIL: "olga@example.org",
    }
    assert extracted.remainder == "Не отправляются письма, спасибо"


@pytest.mark.parametrize(
    "message",
    [
        "Ошибка mail: не отправляется письмо покупателю",
        "В поле url: /bitrix/admin/ пишет 404",
        "В настройках версия: PHP 8.1, ошибка при обмене",
    ],
)
def test_a_field_word_with_a_colon_but_no_value_inside_a_line_is_prose(message: str) -> None:
    extracted = extract_fields(message, COUPON)
    assert extracted.values == {}
    assert extracted.remainder == message


def test_a_line_start_label_keeps_a_wrong_value_for_the_validator() -> None:
    assert extract_fields("Сайт: shop.example\nВерсия: PHP 8.1", COUPON).values == {
        Field.SITE_URL: "shop.example",
        Field.VERSION: "PHP 8.1",
    }


def test_a_labelled_e_mail_line_with_a_second_address_stays_whole() -> None:
    values = extract_fields("E-mail: ivan@mail.ru Bcc: c@z.ru", COUPON).values
    assert values == {Field.CONTACT_EMAIL: "ivan@mail.ru Bcc: c@z.ru"}


def test_a_labelled_value_followed_by_other_fields_on_its_line() -> None:
    extracted = extract_fields("Редакция: Малый бизнес, 22.0.0, купон SM6 NS ABCD12345", COUPON)
    assert extracted.values == {
        Field.EDITION: "Малый бизнес",
        Field.VERSION: "22.0.0",
        Field.COUPON: "SM6 NS ABCD12345",
    }


def test_an_unknown_edition_under_its_label_is_kept_for_the_validator() -> None:
    extracted = extract_fields("Редакция: Премиум\nКупон: нет, это демо", COUPON)
    assert extracted.values == {Field.EDITION: "Премиум", Field.COUPON: "нет, это демо"}


def test_an_emptied_form_line_clears_the_field() -> None:
    extracted = extract_fields("Сайт: old.example.ru\nСайт:\nОписание: не грузится каталог", "")
    assert Field.SITE_URL not in extracted.values


def test_a_labelled_description_loses_the_values_that_went_into_fields() -> None:
    extracted = extract_fields(
        "Описание: не работает корзина на shop.ru, версия 24.0.0, срочно", COUPON
    )
    assert extracted.values == {
        Field.DESCRIPTION: "не работает корзина, срочно",
        Field.SITE_URL: "shop.ru",
        Field.VERSION: "24.0.0",
    }


def test_labelled_steps_stay_as_written_and_name_the_site() -> None:
    extracted = extract_fields("Шаги:\n1. открыть https://shop.ru/cart/\n2. нажать «Оплатить»", "")
    assert (
        extracted.values[Field.STEPS] == "1. открыть https://shop.ru/cart/\n2. нажать «Оплатить»"
    )
    assert extracted.values[Field.SITE_URL] == "https://shop.ru/cart/"


def test_steps_end_at_a_blank_line() -> None:
    extracted = extract_fields(
        "Шаги:\n1. Открыть каталог\n2. Нажать купить\n\nС уважением, Иван", ""
    )
    assert extracted.values[Field.STEPS] == "1. Открыть каталог\n2. Нажать купить"
    assert extracted.remainder == "С уважением, Иван"


# --- numbered lists -----------------------------------------------------------------------------


def test_a_numbered_list_in_a_message_is_the_steps() -> None:
    extracted = extract_fields(
        "После обновления не оформляется заказ: 1. открыть корзину 2. нажать «Оформить» "
        "3. получаем ошибку 500. Очень срочно, теряем заказы!",
        COUPON,
    )
    assert extracted.values == {
        Field.STEPS: "1. открыть корзину 2. нажать «Оформить» 3. получаем ошибку 500."
    }
    assert (
        extracted.remainder
        == "После обновления не оформляется заказ. Очень срочно, теряем заказы!"
    )


def test_a_numbered_list_on_lines_ends_with_its_last_line() -> None:
    extracted = extract_fields(
        "Не приходят письма о заказе.\n1) Оформить заказ\n2) Проверить почту\nВерсия 24.0.100",
        COUPON,
    )
    assert extracted.values == {
        Field.STEPS: "1) Оформить заказ\n2) Проверить почту",
        Field.VERSION: "24.0.100",
    }
    assert extracted.remainder == "Не приходят письма о заказе."


def test_a_list_ends_where_another_field_starts() -> None:
    extracted = extract_fields("1. открыть корзину 2. нажать оформить, сайт shop.ru", COUPON)
    assert extracted.values == {
        Field.STEPS: "1. открыть корзину 2. нажать оформить,",
        Field.SITE_URL: "shop.ru",
    }


def test_what_introduces_the_list_goes_with_it() -> None:
    extracted = extract_fields("Шаги такие: 1. открыть профиль 2. сменить аватар", COUPON)
    assert extracted.values == {Field.STEPS: "1. открыть профиль 2. сменить аватар"}
    assert extracted.remainder == ""


@pytest.mark.parametrize(
    "message",
    [
        "Обновили до 23.300.0 и 24.0.100, оба раза ошибка",
        "Один пункт: 1. открыть корзину",
        "Ошибка на строке 2. Что делать?",
        "Ошибки 2. и 3. повторяются",
    ],
)
def test_what_is_not_a_numbered_list(message: str) -> None:
    assert Field.STEPS not in extract_fields(message, COUPON).values


# --- editions and versions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "edition", "version"),
    [
        ("У нас Бизнес 24.0.100, не работает поиск", "Бизнес", "24.0.100"),
        ("версия 23.300.0 Стандарт, после обновления белый экран", "Стандарт", "23.300.0"),
        ("Малый бизнес, 22.0.0. Не выгружаются заказы в 1С", "Малый бизнес", "22.0.0"),
        ("Small Business 24.100.0 — the catalog is empty", "Small Business", "24.100.0"),
        ("Версия: 24.0.100 Бизнес", "Бизнес", "24.0.100"),
        ("Редакция: Бизнес 24.0.100", "Бизнес", "24.0.100"),
        (
            "Корпоративный портал 250, версия 24.100.0, не работает чат",
            "Корпоративный портал 250",
            "24.100.0",
        ),
    ],
)
def test_an_edition_next_to_the_version(message: str, edition: str, version: str) -> None:
    values = extract_fields(message, COUPON).values
    assert (values.get(Field.EDITION), values.get(Field.VERSION)) == (edition, version)


@pytest.mark.parametrize(
    ("message", "edition"),
    [
        ("Лицензия Эксперт, не работает форум", "Эксперт"),
        (
            "Битрикс24 Энтерпрайз 1000 пользователей, портал не открывается",
            "Энтерпрайз 1000 пользователей",
        ),
        ("У нас коробка, редакция CRM, не создаются сделки", "CRM"),
        ("Интернет-магазин + CRM не выгружает заказы", "Интернет-магазин + CRM"),
        ("Стоит Бизнес веб-кластер, один узел не отвечает", "Бизнес веб-кластер"),
        ("1С-Битрикс: Управление сайтом — Первый сайт, не работает форма", "Первый сайт"),
        ("We run the Business edition", "Business"),
    ],
)
def test_editions_of_both_product_lines_in_free_text(message: str, edition: str) -> None:
    assert extract_fields(message, COUPON).values.get(Field.EDITION) == edition


def test_an_edition_that_is_a_clause_of_its_own() -> None:
    extracted = extract_fields(
        "Белый экран и на сайте, и в админке. Малый бизнес, обновились до 25.0.0", COUPON
    )
    assert extracted.values == {Field.EDITION: "Малый бизнес", Field.VERSION: "25.0.0"}
    assert extracted.remainder == "Белый экран и на сайте, и в админке. обновились"


@pytest.mark.parametrize(
    "message",
    [
        "В модуле CRM 23.100.0 не создаются сделки",
        "Битрикс CRM не присылает уведомления",
        "Это наш первый сайт на Битриксе",
        "Для малого бизнеса 24.0.0 слишком дорого",
        "Бизнес-процессы не запускаются",
    ],
)
def test_edition_words_in_prose_are_not_editions(message: str) -> None:
    assert Field.EDITION not in extract_fields(message, COUPON).values


def test_a_php_version_next_to_an_edition_is_not_the_product_version() -> None:
    values = extract_fields("Редакция Бизнес, php 8.1.2 Стандарт", COUPON).values
    assert values == {Field.EDITION: "Бизнес"}


def test_a_labelled_number_short_of_a_version_is_taken_for_the_validator_to_refuse() -> None:
    # "Версия: 24.0" inside a line is the customer's version: the desk says why it is not one,
    # instead of leaving the sentence in the description and asking as if nothing was said
    message = "Корзина не работает. Сайт shop.ru, редакция Стандарт, Версия: 24.0, a@shop.ru"
    extracted = extract_fields(message, COUPON)
    assert extracted.values[Field.VERSION] == "24.0"
    assert extracted.readable == "Корзина не работает."


def test_a_labelled_version_of_the_server_software_is_not_the_product_version() -> None:
    extracted = extract_fields("MySQL версия: 8.0.36, PHP версия: 8.1, Версия: 24.0.100", COUPON)
    assert extracted.values == {Field.VERSION: "24.0.100"}
    assert extract_fields("Сайт падает, на сервере MySQL версия: 8.0.36", COUPON).values == {}


# --- coupons ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "coupon"),
    [
        ("купон SM6 NS ABCD12345, сайт не открывается", "SM6 NS ABCD12345"),
        ("купон SM6_NS_ABCD12345", "SM6_NS_ABCD12345"),
        ("номер купона: SM6–NS–ABCD12345", "SM6–NS–ABCD12345"),
        ("Корзина пустая. SM6–NS–ABCD12345", "SM6–NS–ABCD12345"),
        ("coupon AB12 CD34 EF56 and version 24.0.100", "AB12 CD34 EF56"),
        ("Купон: SM6-NS-ABCD12345 (продлили в марте)", "SM6-NS-ABCD12345"),
        ("купон № sm6-ns-abcd12345", "sm6-ns-abcd12345"),
    ],
)
def test_coupons_with_any_separator(message: str, coupon: str) -> None:
    values = extract_fields(message, COUPON).values
    assert values[Field.COUPON] == coupon
    assert normalise_coupon(coupon, COUPON) in ("SM6-NS-ABCD12345", "AB12-CD34-EF56")


@pytest.mark.parametrize(
    "message",
    [
        "поле UF_CRM_1234567 пустое после обмена",
        "ticket WAS-000123 still open",
        "ошибка в UTF-8 кодировке",
        "купон на скидку не применяется в корзине",
    ],
)
def test_code_and_words_are_not_coupons(message: str) -> None:
    assert Field.COUPON not in extract_fields(message, COUPON).values


# --- several fields in one answer ---------------------------------------------------------------


def test_several_fields_in_an_answer_and_the_rest_is_the_asked_fields_answer() -> None:
    extracted = extract_fields(
        "не знаю, сайт shop.example.ru, редакция Бизнес, купон SM6-NS-ABCD12345", COUPON
    )
    assert extracted.values == {
        Field.SITE_URL: "shop.example.ru",
        Field.EDITION: "Бизнес",
        Field.COUPON: "SM6-NS-ABCD12345",
    }
    assert extracted.remainder == "не знаю"
    assert not extracted.has_prose and extracted.description == ""


def test_the_remainder_is_the_customers_words_without_values_and_lead_ins() -> None:
    message = (
        "Здравствуйте! После обновления на 23.300.0 сайт готовый-сайт-для-бизнеса.рф показывает "
        "белый экран на всех страницах. Редакция Бизнес, купон SM6-NS-ABCD12345, ответ на "
        "ivan+support@mail.ru"
    )
    extracted = extract_fields(message, COUPON)
    assert extracted.remainder == (
        "Здравствуйте! После обновления сайт показывает белый экран на всех страницах."
    )
    # The description keeps the customer's sentences as written, drops the one that only
    # lists values
    assert extracted.description == (
        "Здравствуйте! После обновления на 23.300.0 сайт готовый-сайт-для-бизнеса.рф "
        "показывает белый экран на всех страницах."
    )
    assert extracted.rest == extracted.remainder  # the older name
    assert extracted.prose == message  # prose keeps inline values


@pytest.mark.parametrize(
    ("message", "remainder"),
    [
        ("Не открывается сайт shop.ru.", "Не открывается сайт."),
        ("Ошибка на shop.ru при оформлении заказа", "Ошибка при оформлении заказа"),
        ("мой email ivan@example.ru", ""),
        ("Адрес нашего сайта: shop.ru, каталог пустой", "каталог пустой"),
        ("Catalog is empty, mail me at john@example.com", "Catalog is empty"),
        (
            "Ошибка Call to undefined method CSaleBasket::GetList() на shop.ru",
            "Ошибка Call to undefined method CSaleBasket::GetList()",
        ),
    ],
)
def test_remainders_read_as_sentences(message: str, remainder: str) -> None:
    assert extract_fields(message, COUPON).remainder == remainder


# --- «не знаю» about a field --------------------------------------------------------------------


def test_no_punctuation_is_left_dangling_where_values_were() -> None:
    extracted = extract_fields(
        "Hello, checkout fails with a bank card. Steps: add tea to the cart, pay. "
        "Edition: Small Business, coupon SM6-TT-9MXQ2K7LW. Please reply to owner@tea.example.com.",
        COUPON,
    )
    assert extracted.remainder == "Hello, checkout fails with a bank card."
    assert extract_fields("Wait... the site https://a-shop.ru is down", COUPON).remainder == (
        "Wait... the site is down"
    )


def test_a_demo_version_instead_of_a_coupon_in_a_message() -> None:
    extracted = extract_fields(
        "Купона нет, это демоверсия. Сайт не открывается после переноса на новый хостинг.", COUPON
    )
    assert extracted.values == {Field.COUPON: "Купона нет, это демоверсия"}
    assert extracted.remainder == "Сайт не открывается после переноса на новый хостинг."


def test_a_demo_version_is_taken_for_the_coupon() -> None:
    extracted = extract_fields("у нас демо", COUPON)
    assert extracted.values == {Field.COUPON: "у нас демо"}


def test_not_known_fields_said_in_one_sentence() -> None:
    values = extract_fields("Купон не помню, версию тоже.", COUPON).values
    assert values == {Field.COUPON: "Купон не помню", Field.VERSION: "версию тоже"}


def test_no_steps_said_before_the_description() -> None:
    extracted = extract_fields("Шагов нет, ошибка появляется сама раз в день", COUPON)
    assert extracted.values == {Field.STEPS: "Шагов нет"}
    assert extracted.remainder == "ошибка появляется сама раз в день"


@pytest.mark.parametrize(
    "message",
    [
        "нет доступа к админке, сайт не работает",
        "Версия не обновляется: нет связи с сервером обновлений",
        "Site address: не знаю",
        "не знаю",
    ],
)
def test_problems_and_bare_dont_knows_are_not_taken_for_a_field(message: str) -> None:
    assert extract_fields(message, COUPON).values == {}


def test_a_value_already_given_is_not_replaced_by_a_dont_know() -> None:
    values = extract_fields("Купон SM6-NS-ABCD12345, версию не помню", COUPON).values
    assert values == {Field.COUPON: "SM6-NS-ABCD12345", Field.VERSION: "версию не помню"}


# --- sites --------------------------------------------------------------------------------------


def test_two_sites_are_both_offered_and_the_first_is_the_value() -> None:
    extracted = extract_fields(
        "Сайты shop.ru и https://old-shop.ru/ перестали открываться после обновления", COUPON
    )
    assert extracted.sites == ["https://old-shop.ru/", "shop.ru"]
    assert extracted.values[Field.SITE_URL] == extracted.sites[0]


def test_a_labelled_site_comes_first_and_duplicates_are_dropped() -> None:
    extracted = extract_fields(
        "Сайт: shop.ru\nРаньше работало на http://shop.ru/ и на test.shop.ru", COUPON
    )
    assert extracted.sites == ["shop.ru", "test.shop.ru"]
    assert extracted.values[Field.SITE_URL] == "shop.ru"


def test_links_to_the_vendors_documentation_are_not_the_site() -> None:
    extracted = extract_fields(
        "Делал по инструкции https://dev.1c-bitrix.ru/learning/course/ и bitrix24.ru, "
        "но сайт shop.ru не заработал",
        COUPON,
    )
    assert extracted.sites == ["shop.ru"]
    assert "dev.1c-bitrix.ru" in extracted.remainder


def test_a_not_known_site_is_not_a_site_candidate() -> None:
    extracted = extract_fields("Сайт: не знаю", COUPON)
    assert extracted.values == {Field.SITE_URL: "не знаю"} and extracted.sites == []


@pytest.mark.parametrize(
    ("message", "description"),
    [
        # Values inside a sentence about the problem stay: the sentence reads as written
        ("Не работает корзина на shop.example.ru и на opt.example.ru, ошибка 500. Редакция "
         "Бизнес, купон SM6-NS-ABCD12345",
         "Не работает корзина на shop.example.ru и на opt.example.ru, ошибка 500."),
        # Clauses at the end of the sentence that only list values go
        ("Корзина не работает, ошибка 500 при оплате, версия 24.0.1, ivan@example.ru",
         "Корзина не работает, ошибка 500 при оплате"),
    ],
)  # fmt: skip
def test_the_description_is_the_problem_sentences_as_written(
    message: str, description: str
) -> None:
    assert extract_fields(message, COUPON).description == description


@pytest.mark.parametrize(
    ("message", "steps"),
    [
        ("Корзина не работает: кладу товар в корзину, жму «Оформить» — белый экран.",
         "Корзина не работает: кладу товар в корзину, жму «Оформить» — белый экран."),
        ("Сайт грузится 10 секунд. Достаточно открыть главную страницу в режиме инкогнито.",
         "Достаточно открыть главную страницу в режиме инкогнито."),
        ("Обмен с 1С падает. Воспроизводится при каждом запуске обмена.",
         "Воспроизводится при каждом запуске обмена."),
        ("Хочу узнать, когда выйдет обновление, жду ответа", None),
        ("Не работает корзина, ошибка 500 при оформлении заказа", None),
    ],
)  # fmt: skip
def test_steps_told_in_prose_are_the_steps_and_stay_in_the_description(
    message: str, steps: str | None
) -> None:
    extracted = extract_fields(message, COUPON)
    assert extracted.values.get(Field.STEPS) == steps
    if steps:
        assert steps in extracted.description
