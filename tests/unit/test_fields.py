"""Validators of the 4.2 fields: tables of valid and invalid values."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.intake.fields import (
    COUPON_DEMO,
    EDITION_UNKNOWN,
    UNKNOWN,
    Invalid,
    Valid,
    clean_text,
    validate_coupon,
    validate_description,
    validate_edition,
    validate_email,
    validate_site_url,
    validate_steps,
    validate_version,
)

COUPON = Settings().coupon_pattern


@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("example.ru", "http://example.ru/", ""),
        ("https://Example.COM/catalog/?id=5", "https://example.com/catalog/?id=5", ""),
        ("www.shop.example.com", "http://www.shop.example.com/", ""),
        ("http://example.ru:8080/bitrix/admin/", "http://example.ru:8080/bitrix/admin/", ""),
        (
            "готовый-сайт-для-бизнеса.рф",
            "http://xn------6cdcfchnmvlgc6azbea4dleh5r1d.xn--p1ai/",
            "http://готовый-сайт-для-бизнеса.рф/",
        ),
        (
            "https://сайт.рф/каталог",
            "https://xn--80aswg.xn--p1ai/каталог",
            "https://сайт.рф/каталог",
        ),
        ("xn--80aswg.xn--p1ai", "http://xn--80aswg.xn--p1ai/", "http://сайт.рф/"),
        ("«example.ru»", "http://example.ru/", ""),
        ("http://192.168.1.10/portal/", "http://192.168.1.10/portal/", ""),
    ],
)
def test_valid_site_urls_are_normalised(raw: str, value: str, display: str) -> None:
    verdict = validate_site_url(raw)
    assert isinstance(verdict, Valid)
    assert verdict.value == value
    assert verdict.display == display


def test_a_site_not_known_is_accepted_as_unknown() -> None:
    assert validate_site_url("не знаю") == Valid(UNKNOWN)
    assert validate_site_url("Don't know") == Valid(UNKNOWN)
    assert validate_version("не помню") == Valid(UNKNOWN)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("ftp://example.ru", "url_scheme"),
        ("javascript:alert(1)", "url_scheme"),
        ("example", "url_invalid"),
        ("http://localhost/", "url_invalid"),
        ("my site.ru", "url_spaces"),
        ("ivan@example.ru", "url_is_email"),
        ("http://-bad-.ru", "url_invalid"),
        ("http://example.ru:99999/", "url_invalid"),
    ],
)
def test_invalid_site_urls_have_a_reason(raw: str, reason: str) -> None:
    assert validate_site_url(raw) == Invalid(reason)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("23.300.0", "23.300.0"),
        ("v24.0.100", "24.0.100"),
        ("версия 22.0.5", "22.0.5"),
        ("не знаю", UNKNOWN),
        ("Don't know", UNKNOWN),
    ],
)
def test_valid_versions(raw: str, value: str) -> None:
    assert validate_version(raw) == Valid(value)


@pytest.mark.parametrize("raw", ["23", "последняя", "23.300", "1.2.3.4.5.6" * 20, ""])
def test_invalid_versions(raw: str) -> None:
    assert isinstance(validate_version(raw), Invalid)


@pytest.mark.parametrize(
    ("raw", "value", "display"),
    [
        ("ivan+support@mail.ru", "ivan+support@mail.ru", ""),
        ("<Ivan.Petrov@Example.COM>", "Ivan.Petrov@example.com", ""),
        ("mailto:a_b-c@sub.domain.org", "a_b-c@sub.domain.org", ""),
        ("ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai", "ivan@почта.рф"),
    ],
)
def test_valid_emails(raw: str, value: str, display: str) -> None:
    verdict = validate_email(raw)
    assert isinstance(verdict, Valid)
    assert (verdict.value, verdict.display or "") == (value, display or verdict.display)
    if display:
        assert verdict.display == display


@pytest.mark.parametrize(
    "raw",
    [
        "ivan",
        "ivan@",
        "@mail.ru",
        "ivan@mail",
        "iv..an@mail.ru",
        "ivan@mail.ru\r\nBcc: x@y.ru",
        "a" * 65 + "@mail.ru",
        "иван@mail.ru",
        "",
    ],
)
def test_invalid_emails(raw: str) -> None:
    assert isinstance(validate_email(raw), Invalid)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("SM6-NS-ABCD12345", "SM6-NS-ABCD12345"),
        ("sm6-ns-abcd12345", "SM6-NS-ABCD12345"),
        (" AB12 - CD34 - EF56 ", "AB12-CD34-EF56"),
        ("AB12–CD34–EF56", "AB12-CD34-EF56"),
        # groups separated otherwise are joined the configured pattern's way
        ("SM6 NS ABCD12345", "SM6-NS-ABCD12345"),
        ("SM6_NS_ABCD12345", "SM6-NS-ABCD12345"),
        ("SM6–NS–ABCD12345", "SM6-NS-ABCD12345"),
        ("sm6 ns-abcd12345", "SM6-NS-ABCD12345"),
        ("AB_12-CD", "AB-12-CD"),
    ],
)
def test_valid_coupons(raw: str, value: str) -> None:
    assert validate_coupon(raw, COUPON) == Valid(value)


@pytest.mark.parametrize("raw", ["", "12345", "купон", "A-B", "ЖЖ12-ЩЩ34", "SM6 NS ABCD12345 ок"])
def test_invalid_coupons(raw: str) -> None:
    assert isinstance(validate_coupon(raw, COUPON), Invalid)


def test_coupon_format_comes_from_configuration() -> None:
    assert validate_coupon("1234567890", r"\d{10}") == Valid("1234567890")
    assert validate_coupon("12345 67890", r"\d{10}") == Valid("1234567890")
    assert isinstance(validate_coupon("SM6-NS-ABCD12345", r"\d{10}"), Invalid)


@pytest.mark.parametrize("raw", ["не знаю", "нет", "не помню", "без купона", "I don't have it"])
def test_a_coupon_not_known_is_accepted_as_unknown(raw: str) -> None:
    assert validate_coupon(raw, COUPON) == Valid(UNKNOWN)


@pytest.mark.parametrize("raw", ["нет купона, это демоверсия", "у нас демо", "it's a trial"])
def test_no_coupon_on_a_demo_version_is_accepted_with_a_note(raw: str) -> None:
    assert validate_coupon(raw, COUPON) == Valid(UNKNOWN, note=COUPON_DEMO)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("бизнес", "Бизнес"),
        ("Малый бизнес", "Малый бизнес"),
        ("редакция «Старт»", "Старт"),
        ("Enterprise", "Энтерпрайз"),
        ("small business", "Малый бизнес"),
        ("Корпоративный портал", "Корпоративный портал"),
        ("не знаю", UNKNOWN),
        ("Эксперт", "Эксперт"),
        ("first site", "Первый сайт"),
        ("Веб-кластер", "Бизнес веб-кластер"),
        ("интернет-магазин+CRM", "Интернет-магазин + CRM"),
        ("1С-Битрикс24: Корпоративный портал 250", "Корпоративный портал"),
        ("Энтерпрайз 1000 пользователей", "Энтерпрайз"),
        ("Бизнес 24.0.100", "Бизнес"),
        ("Business edition", "Бизнес"),
        ("энтерпрайс", "Энтерпрайз"),
    ],
)
def test_valid_editions(raw: str, value: str) -> None:
    assert validate_edition(raw) == Valid(value)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [("премиум", "премиум"), ("Битрикс24 облако", "Битрикс24 облако"), ("«Максимум»", "Максимум")],
)
def test_an_unknown_edition_is_kept_as_written_with_a_note(raw: str, kept: str) -> None:
    assert validate_edition(raw) == Valid(kept, note=EDITION_UNKNOWN)


@pytest.mark.parametrize("raw", ["", "12345", "!!!", "у нас " + "очень " * 20 + "старая редакция"])
def test_what_cannot_be_an_edition_name_is_refused(raw: str) -> None:
    assert isinstance(validate_edition(raw), Invalid)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("Не работает оформление заказа в корзине", True),
        ("привет", False),
        ("??? !!!", False),
        ("", False),
        ("😡😡😡 сайт не открывается уже час 😡", True),
    ],
)
def test_description(raw: str, ok: bool) -> None:
    assert isinstance(validate_description(raw), Valid) is ok


def test_steps_accept_dont_know_explicitly() -> None:
    assert validate_steps("не знаю") == Valid(UNKNOWN)
    assert validate_steps("нет") == Valid(UNKNOWN)
    assert validate_steps("не знаю, как воспроизвести") == Valid(UNKNOWN)
    assert validate_steps("1. Открыть корзину 2. Нажать Оформить") == Valid(
        "1. Открыть корзину 2. Нажать Оформить"
    )


def test_clean_text_replaces_control_and_drops_bidi_characters() -> None:
    # Control characters become spaces (deleting them glued words together); invisible bidi
    # overrides are dropped; CR LF is a newline.
    assert clean_text("a\x00b\x1b[31mc\u202ed\r\ne\tf") == "a b [31mcd\ne\tf"
