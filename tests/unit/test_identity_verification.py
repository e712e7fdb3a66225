"""Verified contact e-mail: one-time codes, their limits, their e-mail and texts."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.identity.verification import (
    SECRET_FILE,
    VERIFICATION_SUBJECT,
    Verifier,
    mask_address,
    verification_email,
    verification_text,
)
from bot.tickets.store import Store

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
USER = "telegram:42"
ADDR = "Ivan@Mail.ru"


@pytest.fixture
async def store(tmp_path: Path):
    store = await Store.open(tmp_path / "var" / "db.sqlite3")
    yield store
    await store.close()


@pytest.fixture
async def verifier(store: Store, tmp_path: Path) -> Verifier:
    return await Verifier.open(store, tmp_path / "var")


async def test_code_round_trip_remembers_the_pair(verifier: Verifier):
    # Given a code sent to the address
    started = await verifier.start(USER, ADDR, NOW)
    assert started.status == "sent"
    assert started.code is not None and re.fullmatch(r"\d{6}", started.code)
    assert started.expires_at == NOW + timedelta(minutes=15)
    # When the customer types it back (with a space, in another case of the address)
    code = f"{started.code[:3]} {started.code[3:]}"
    result = await verifier.check(USER, "ivan@mail.ru", code, NOW + timedelta(minutes=3))
    # Then the pair is verified for good and a new start says so
    assert result.status == "ok"
    assert await verifier.is_verified(USER, "IVAN@mail.ru")
    assert not await verifier.is_verified("telegram:43", ADDR)
    assert (await verifier.start(USER, ADDR, NOW + timedelta(days=90))).status == (
        "already_verified"
    )
    # and the code is consumed
    assert (await verifier.check(USER, ADDR, started.code, NOW)).status == "no_code"


async def test_only_a_hash_of_the_code_is_stored(verifier: Verifier, store: Store):
    started = await verifier.start(USER, ADDR, NOW)
    async with store._db.execute("SELECT * FROM verification_codes") as cur:
        rows = list(await cur.fetchall())
    code = started.code
    assert code is not None and len(rows) == 1
    assert all(code not in str(value) for value in rows[0])
    assert code not in repr(started)


async def test_wrong_codes_count_down_then_the_code_is_dead(verifier: Verifier):
    started = await verifier.start(USER, ADDR, NOW)
    wrong = "000000" if started.code != "000000" else "111111"
    lefts = [(await verifier.check(USER, ADDR, wrong, NOW)) for _ in range(5)]
    assert [(r.status, r.attempts_left) for r in lefts] == [
        ("wrong", 4), ("wrong", 3), ("wrong", 2), ("wrong", 1), ("too_many", 0),
    ]  # fmt: skip
    # Even the right code no longer works
    assert (await verifier.check(USER, ADDR, started.code or "", NOW)).status == "too_many"
    # A new code (after the cooldown) starts over
    again = await verifier.start(USER, ADDR, NOW + timedelta(minutes=2))
    assert again.status == "sent"
    assert (await verifier.check(USER, ADDR, again.code or "", NOW)).status == "ok"


async def test_code_expires_after_15_minutes(verifier: Verifier):
    started = await verifier.start(USER, ADDR, NOW)
    late = NOW + timedelta(minutes=15)
    assert (await verifier.check(USER, ADDR, started.code or "", late)).status == "expired"
    assert (await verifier.check(USER, "other@mail.ru", "123456", NOW)).status == "no_code"


async def test_resend_cooldown_then_new_code_replaces_old(verifier: Verifier):
    first = await verifier.start(USER, ADDR, NOW)
    too_soon = await verifier.start(USER, ADDR, NOW + timedelta(seconds=30))
    assert too_soon.status == "cooldown" and too_soon.code is None
    assert too_soon.retry_at == NOW + timedelta(seconds=60)
    second = await verifier.start(USER, ADDR, NOW + timedelta(seconds=60))
    assert second.status == "sent"
    if first.code != second.code:
        assert (await verifier.check(USER, ADDR, first.code or "", NOW)).status == "wrong"
    assert (await verifier.check(USER, ADDR, second.code or "", NOW)).status == "ok"


async def test_five_codes_an_hour_per_user_and_per_address(verifier: Verifier):
    # Given one customer asking codes for five different addresses
    for i in range(5):
        assert (await verifier.start(USER, f"a{i}@mail.ru", NOW)).status == "sent"
    # Then a sixth address is refused until the hour is over
    limited = await verifier.start(USER, "a5@mail.ru", NOW + timedelta(minutes=10))
    assert limited.status == "limited" and limited.retry_at == NOW + timedelta(hours=1)
    # And one address cannot be bombed from many accounts either
    for i in range(5):
        at = NOW + timedelta(minutes=i * 2)
        assert (await verifier.start(f"telegram:{100 + i}", "victim@mail.ru", at)).status == "sent"
    refused = await verifier.start("telegram:200", "victim@mail.ru", NOW + timedelta(minutes=20))
    assert refused.status == "limited"
    assert refused.retry_at == NOW + timedelta(hours=1)


async def test_verified_pairs_and_codes_survive_a_restart_and_forget_drops_them(tmp_path: Path):
    path, data = tmp_path / "db.sqlite3", tmp_path / "var"
    store = await Store.open(path)
    verifier = await Verifier.open(store, data)
    started = await verifier.start(USER, ADDR, NOW)
    await store.close()
    # The secret persisted: a code sent before a restart still checks after it
    store = await Store.open(path)
    verifier = await Verifier.open(store, data)
    assert (await verifier.check(USER, ADDR, started.code or "", NOW)).status == "ok"
    assert await verifier.verified_addresses(USER) == ["ivan@mail.ru"]
    assert await verifier.forget(USER) == 1
    assert not await verifier.is_verified(USER, ADDR)
    await store.close()


async def test_secret_file_is_private(verifier: Verifier, tmp_path: Path):
    secret = tmp_path / "var" / SECRET_FILE
    assert len(secret.read_bytes()) == 32
    if os.name == "posix":
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600


async def test_verifier_on_a_path_of_its_own(tmp_path: Path):
    verifier = await Verifier.open(tmp_path / "own.sqlite3", tmp_path)
    try:
        assert (await verifier.start(USER, ADDR, NOW)).status == "sent"
    finally:
        await verifier.close()


def test_verification_email_has_fixed_text_and_the_code(settings: Settings):
    message = verification_email("ivan@mail.ru", "123456", "ru", settings, NOW)
    assert message["Subject"] == VERIFICATION_SUBJECT
    assert message["To"] == "ivan@mail.ru"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert (
        "Код: 123456. Он действует 15 минут. Если вы не обращались в поддержку «Что за софт», "
        "просто проигнорируйте это письмо." in body
    )
    assert "Code: 123456. It is valid for 15 minutes." in body
    assert body.index("Код:") < body.index("Code:")
    english = verification_email("ivan@mail.ru", "123456", "en", settings, NOW).get_content()
    assert english.index("Code:") < english.index("Код:")


@pytest.mark.parametrize("bad", ["12345", "1234567", "12345a", "123456\nBcc: x@y.z"])
def test_verification_email_refuses_anything_but_six_digits(settings: Settings, bad: str):
    with pytest.raises(ValueError):
        verification_email("ivan@mail.ru", bad, "ru", settings, NOW)


def test_verification_email_refuses_header_injection_in_the_address(settings: Settings):
    with pytest.raises(ValueError):
        verification_email("ivan@mail.ru\r\nBcc: all@x.ru", "123456", "ru", settings, NOW)


@pytest.mark.parametrize(
    ("address", "masked"),
    [("ivan@mail.ru", "i***@mail.ru"), ("a@b.c", "a***@b.c"), ("nonsense", "***")],
)
def test_mask_address(address: str, masked: str):
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    ("status", "lang", "kwargs", "expected"),
    [
        ("sent", "ru", {"address": "ivan@mail.ru"}, "Отправил код на i***@mail.ru."),
        ("sent", "en", {"address": "ivan@mail.ru"}, "I sent a code to i***@mail.ru."),
        (
            "cooldown", "ru",
            {"address": "ivan@mail.ru", "retry_at": NOW + timedelta(seconds=42), "now": NOW},
            "Новый можно будет запросить через 42 с.",
        ),
        (
            "limited", "ru", {"retry_at": NOW + timedelta(minutes=35), "now": NOW},
            "после 14:35 МСК",
        ),
        ("limited", "en", {}, "You can ask for a new one in an hour."),
        ("wrong", "en", {"attempts_left": 3}, "Attempts left: 3."),
        ("expired", "ru", {}, "Запросите новый код."),
        ("too_many", "en", {}, "Too many wrong attempts"),
        ("no_code", "ru", {}, "нет действующего кода"),
        ("ok", "ru", {"address": "ivan@mail.ru"}, "адрес i***@mail.ru подтверждён"),
        ("already_verified", "en", {"address": "ivan@mail.ru"}, "already verified"),
    ],
)  # fmt: skip
def test_texts_for_every_status(status, lang, kwargs, expected):
    text = verification_text(status, lang, **kwargs)
    assert expected in text
    assert "ivan@mail.ru" not in text
