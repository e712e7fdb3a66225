"""Consent to personal-data processing (152-FZ): records, versions, texts, the policy file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.config import Settings
from bot.identity.consent import (
    POLICY_VERSION,
    Consents,
    consent_given_text,
    consent_refused_text,
    consent_request_text,
    parse_consent_answer,
    policy_version,
    privacy_policy_text,
)
from bot.tickets.store import Store

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


@pytest.fixture
async def consents(tmp_path: Path):
    store = await Store.open(tmp_path / "db.sqlite3")
    yield await Consents.open(store)
    await store.close()


async def test_record_has_withdraw(consents: Consents):
    assert not await consents.has_consent("telegram:42")
    await consents.record("telegram:42", NOW, POLICY_VERSION)
    assert await consents.has_consent("telegram:42")
    assert await consents.has_consent("telegram:42", POLICY_VERSION)
    assert not await consents.has_consent("telegram:43")
    record = await consents.get("telegram:42")
    assert record is not None and record.given_at == NOW and record.version == POLICY_VERSION
    assert await consents.withdraw("telegram:42")
    assert not await consents.has_consent("telegram:42")
    assert not await consents.withdraw("telegram:42")


async def test_a_new_policy_version_asks_again(consents: Consents):
    await consents.record("email:ivan@mail.ru", NOW, "2025-03")
    assert await consents.has_consent("email:ivan@mail.ru")
    assert not await consents.has_consent("email:ivan@mail.ru", POLICY_VERSION)
    await consents.record("email:ivan@mail.ru", NOW, POLICY_VERSION)
    assert await consents.has_consent("email:ivan@mail.ru", POLICY_VERSION)


async def test_consent_survives_a_restart(tmp_path: Path):
    consents = await Consents.open(tmp_path / "own.sqlite3")
    await consents.record("telegram:1", NOW)
    await consents.close()
    consents = await Consents.open(tmp_path / "own.sqlite3")
    assert await consents.has_consent("telegram:1", POLICY_VERSION)
    await consents.close()


def test_policy_file_matches_the_version_and_covers_what_the_law_asks():
    assert policy_version() == POLICY_VERSION
    ru, en = privacy_policy_text("ru"), privacy_policy_text("en")
    for word in ("Оператор", "support@whatasoft.net", "Цель", "30 дней", "/forget",
                 "«Удалить мои данные»", "152-ФЗ"):  # fmt: skip
        assert word in ru, word
    for word in ("operator", "purpose", "30 days", "/forget", '"Forget me"'):
        assert word in en, word
    assert "Политика" not in en


NO_URL = SimpleNamespace(support_address="support@whatasoft.net", privacy_policy_url="")


def test_request_names_data_purpose_policy_and_withdrawal():
    text = consent_request_text("ru", NO_URL)
    for part in ("имя", "адрес электронной почты", "адрес сайта", "Зачем", "/privacy",
                 "/forget", "152-ФЗ", "Вы согласны?"):  # fmt: skip
        assert part in text, part
    english = consent_request_text("en", NO_URL)
    assert "name, e-mail address, website address" in english and "/forget" in english


def test_request_links_the_policy_url_from_settings(settings: Settings):
    text = consent_request_text("ru", settings)
    assert f"Политика обработки данных: {settings.privacy_policy_url}" in text
    assert "/privacy." not in text
    email = consent_request_text("en", settings, channel="email")
    assert f"Privacy policy: {settings.privacy_policy_url}" in email
    assert "Version:" not in email  # the link is enough, no policy text appended


def test_email_request_without_a_url_carries_the_policy_text():
    text = consent_request_text("ru", NO_URL, channel="email")
    assert "«Удалить мои данные»" in text and "«Согласен»" in text
    assert text.endswith(privacy_policy_text("ru"))
    assert '"Forget me"' in consent_request_text("en", NO_URL, channel="email")


def test_refusal_points_to_support_directly(settings: Settings):
    assert "support@whatasoft.net" in consent_refused_text("ru", settings)
    assert "without the bot" in consent_refused_text("en", settings)
    assert consent_given_text("en") == "Thank you! Your consent is recorded."


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Согласен", True), ("да", True), ("Yes, go on", True), ("I agree", True),
        ("Не согласен", False), ("нет", False), ("No", False), ("I don't agree", False),
        ("данные мои не храните", None), ("что это?", None), ("", None),
    ],
)  # fmt: skip
def test_typed_answers(text: str, answer: bool | None):
    assert parse_consent_answer(text) is answer


async def test_forgetting_by_email_withdraws_the_remembered_consent(
    tmp_path: Path, settings: Settings
) -> None:
    from bot.identity.guard import Guard
    from bot.intake.events import TextEvent
    from bot.intake.machine import new_conversation
    from bot.tickets.conversations import SqliteConversations

    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        guard = await Guard.open(settings.model_copy(update={"consent_channels": "email"}), store)
        conversations = SqliteConversations(store)
        state = new_conversation("ru")
        await guard.consents.record("email:ivan@mail.ru", NOW, POLICY_VERSION)
        passed = await guard.intercept(
            "email", "ivan@mail.ru", TextEvent("Сайт не работает"), state, conversations, NOW
        )
        assert passed.event == TextEvent("Сайт не работает")  # consented (and remembered)
        # When the customer is forgotten the way the e-mail channel asks for it
        await guard.forget("email", "ivan@mail.ru", conversations)
        # Then consent is asked again at once, not only after a restart
        asked = await guard.intercept(
            "email", "ivan@mail.ru", TextEvent("Сайт не работает"), state, conversations, NOW
        )
        assert asked.event is None and asked.replies
    finally:
        await store.close()
