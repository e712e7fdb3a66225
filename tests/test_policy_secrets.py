"""Regulation 4.2.7 / 4.3: credentials are removed from requests; the customer is told why."""

from __future__ import annotations

import pytest

from bot.policy.secrets import REDACTED, contains_secrets, find_secrets, redact, secrets_notice


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Пароль: qwerty", "Пароль: [скрыто]"),
        ("пароль от админки: Secr3t.", "пароль от админки: [скрыто]."),
        ("логин admin пароль 123qwe", "логин admin пароль [скрыто]"),
        ("ssh root@1.2.3.4 pass Qwerty!", "ssh root@1.2.3.4 pass [скрыто]!"),
        ("password is Xk9#mmz2", "password is [скрыто]"),
        ("my password: hunter2", "my password: [скрыто]"),
        ("?login=admin&pass=123", "?login=admin&pass=[скрыто]"),
        ("pwd=hunter2", "pwd=[скрыто]"),
        ("логин/пароль: admin/qwe123", "логин/пароль: [скрыто]"),
        ("доступ в админку admin / Qwe123", "доступ в админку [скрыто]"),
        ("ftp://user:S3cret@ftp.example.ru/www", "ftp://user:[скрыто]@ftp.example.ru/www"),
        ("ssh root:Toor2024@10.0.0.5", "ssh root:[скрыто]@10.0.0.5"),
        ("mysql://bitrix:Pa55word@localhost:3306/db", "mysql://bitrix:[скрыто]@localhost:3306/db"),
        ("Authorization: Bearer abcdEFGH1234ijklMNOP", "Authorization: Bearer [скрыто]"),
        ("API key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "API key: [скрыто]"),
        ("токен: ghp_abcdefghijklmnopqrstuvwxyz0123456789", "токен: [скрыто]"),
        ("secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret=[скрыто]"),
        ("ключ AKIAIOSFODNN7EXAMPLE в конфиге", "ключ [скрыто] в конфиге"),
        ("бот 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0 молчит", "бот [скрыто] молчит"),
    ],
)
def test_4_2_7_secret_value_is_redacted_and_label_kept(text: str, expected: str) -> None:
    redacted, count = redact(text)
    assert redacted == expected
    assert count == 1
    assert contains_secrets(text)


def test_4_2_7_private_key_block_is_redacted_whole() -> None:
    text = (
        "Ключ для ssh:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        "AAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\nспасибо"
    )
    redacted, count = redact(text)
    assert redacted == f"Ключ для ssh:\n{REDACTED}\nспасибо"
    assert count == 1
    assert find_secrets(text)[0].kind == "private_key"


def test_4_2_7_several_credentials_in_one_message() -> None:
    # Given a customer who pastes everything at once
    text = (
        "Сайт https://shop.example.ru, админка: логин admin пароль Adm1n!, "
        "FTP ftp://web:Ftp2024@shop.example.ru, SSH root пароль: toor"
    )
    # When it is redacted
    redacted, count = redact(text)
    # Then every password is gone and everything else (site, logins) stays
    assert count == 3
    for secret in ("Adm1n", "Ftp2024", "toor"):
        assert secret not in redacted
    assert "https://shop.example.ru" in redacted and "логин admin" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "пароль не приходит на почту",
        "не могу восстановить пароль",
        "забыл пароль от админки",
        "Пароль администратора сбросился после обновления",
        "пароль от ftp такой же как от хостинга",
        "пароль должен быть не короче 6 символов",
        "пароль 2 раза вводил",
        "ключ лицензии",
        "лицензионный ключ не активируется",
        "Ключ лицензии: введён в настройках главного модуля",
        "Купон SM6-NS-ABCD12345",
        "версия 23.300.0, редакция Бизнес",
        "e-mail:ivan@site.ru",
        "mailto:info@site.ru",
        "Password is too short",
        "My password reset link expired",
        "The password field does not accept special characters",
        "Токен истёк, как обновить?",
        "Ошибка в 12:30 на странице /personal/order/",
    ],
)
def test_4_2_7_talk_about_passwords_is_not_a_secret(text: str) -> None:
    assert find_secrets(text) == []
    assert redact(text) == (text, 0)


def test_4_2_7_redaction_is_idempotent() -> None:
    once, _ = redact("логин admin пароль 123qwe, pwd=hunter2")
    assert redact(once) == (once, 0)


@pytest.mark.parametrize("lang", ["ru", "en", "en-GB"])
def test_4_2_7_4_3_notice_explains_temporary_access_and_changing_passwords(lang: str) -> None:
    text = secrets_notice(lang)
    if lang.startswith("en"):
        assert "temporary administrator account" in text
        assert "change the passwords" in text
        assert "4.2.7" in text and "4.3" in text
    else:
        assert "временную учётную запись администратора" in text
        assert "смените пароли" in text
        assert "4.2.7" in text and "4.3" in text
