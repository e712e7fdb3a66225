"""The persistent sliding-window limiter and its customer texts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.config import Settings
from bot.policy.limits import (
    CODES_HOUR,
    DEFAULT_RULES,
    GUIDED_REPLIES_HOUR,
    TICKETS_DAY,
    TICKETS_HOUR,
    LimitResult,
    Limits,
    Rule,
    format_local_time,
    limit_text,
    rules_from_settings,
)
from bot.tickets.store import Store

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # 14:00 МСК
MSK = SimpleNamespace(timezone="Europe/Moscow", support_address="support@whatasoft.net")


@pytest.fixture
async def limits(tmp_path: Path):
    store = await Store.open(tmp_path / "db.sqlite3")
    yield await Limits.open(store)
    await store.close()


async def test_five_tickets_an_hour_then_denied_until_the_first_leaves_the_window(limits):
    # Given five tickets filed at 14:00, 14:05 ... 14:20 МСК
    for i in range(5):
        result = await limits.hit(TICKETS_HOUR, "telegram:42", NOW + timedelta(minutes=5 * i))
        assert result.allowed and result.used == i + 1
    # When a sixth comes at 14:30
    sixth = await limits.hit(TICKETS_HOUR, "telegram:42", NOW + timedelta(minutes=30))
    # Then it is denied until the first one is an hour old
    assert not sixth.allowed
    assert sixth.retry_at == NOW + timedelta(hours=1)
    assert sixth.kind == TICKETS_HOUR and sixth.limit == 5
    # and the denied attempt did not push the customer further back
    again = await limits.peek(TICKETS_HOUR, "telegram:42", NOW + timedelta(minutes=59))
    assert again.retry_at == NOW + timedelta(hours=1)
    assert (await limits.hit(TICKETS_HOUR, "telegram:42", NOW + timedelta(hours=1))).allowed


async def test_keys_and_kinds_are_independent(limits):
    for _ in range(5):
        await limits.hit(CODES_HOUR, "user:telegram:1", NOW)
    assert not (await limits.peek(CODES_HOUR, "user:telegram:1", NOW)).allowed
    assert (await limits.peek(CODES_HOUR, "user:telegram:2", NOW)).allowed
    assert (await limits.peek(GUIDED_REPLIES_HOUR, "user:telegram:1", NOW)).allowed


async def test_peek_records_nothing(limits):
    for _ in range(10):
        assert (await limits.peek(TICKETS_HOUR, "k", NOW)).allowed
    assert (await limits.hit(TICKETS_HOUR, "k", NOW)).used == 1


async def test_hit_all_is_all_or_nothing_and_reports_the_day_limit(tmp_path: Path):
    limits = await Limits.open(
        tmp_path / "own.sqlite3",
        {TICKETS_HOUR: Rule(5, timedelta(hours=1)), TICKETS_DAY: Rule(6, timedelta(days=1))},
    )
    try:
        # Given 5 tickets in one hour, then one more the next hour (the 6th of the day)
        for _ in range(5):
            assert (await limits.hit_all((TICKETS_HOUR, TICKETS_DAY), "e", NOW)).allowed
        blocked = await limits.hit_all((TICKETS_HOUR, TICKETS_DAY), "e", NOW)
        assert not blocked.allowed and blocked.kind == TICKETS_HOUR
        later = NOW + timedelta(hours=2)
        assert (await limits.hit_all((TICKETS_HOUR, TICKETS_DAY), "e", later)).allowed
        # When a 7th arrives: the hour window is free, the day window is not
        seventh = await limits.hit_all((TICKETS_HOUR, TICKETS_DAY), "e", later)
        # Then the day limit is the one reported, and nothing was recorded in the hour window
        assert not seventh.allowed and seventh.kind == TICKETS_DAY
        assert seventh.retry_at == NOW + timedelta(days=1)
        assert (await limits.peek(TICKETS_HOUR, "e", later)).used == 1
    finally:
        await limits.close()


async def test_events_survive_a_restart(tmp_path: Path):
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    limits = await Limits.open(store._db)
    for _ in range(5):
        await limits.hit(CODES_HOUR, "address:a@b.ru", NOW)
    await store.close()
    store = await Store.open(path)
    limits = await Limits.open(store)
    assert not (await limits.peek(CODES_HOUR, "address:a@b.ru", NOW)).allowed
    await store.close()


async def test_prune_drops_only_events_older_than_the_longest_window(limits):
    await limits.hit(TICKETS_DAY, "old", NOW - timedelta(days=2))
    await limits.hit(TICKETS_DAY, "recent", NOW - timedelta(hours=3))
    assert await limits.prune(NOW) == 1
    assert (await limits.peek(TICKETS_DAY, "recent", NOW)).used == 1


async def test_naive_datetimes_and_unknown_kinds_are_refused(limits):
    with pytest.raises(ValueError):
        await limits.hit(TICKETS_HOUR, "k", datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(KeyError):
        await limits.hit("coffee_per_hour", "k", NOW)


def test_rules_take_settings_when_present():
    rules = rules_from_settings(SimpleNamespace(limit_tickets_per_hour=2))
    assert rules[TICKETS_HOUR] == Rule(2, timedelta(hours=1))
    assert rules[TICKETS_DAY] == Rule(20, timedelta(days=1))
    assert rules[CODES_HOUR].limit == 5 and rules[GUIDED_REPLIES_HOUR].limit == 5


def test_default_rules_are_the_settings_defaults():
    # FRONTDESK_LIMIT_* defaults are written once, in Settings
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert rules_from_settings(SimpleNamespace()) == rules_from_settings(settings)
    assert DEFAULT_RULES[GUIDED_REPLIES_HOUR] == Rule(5, timedelta(hours=1))


async def test_record_counts_without_a_check_and_undo_takes_one_back(limits):
    for _ in range(6):
        await limits.record(GUIDED_REPLIES_HOUR, "email:a@b.ru", NOW)
    assert (await limits.peek(GUIDED_REPLIES_HOUR, "email:a@b.ru", NOW)).used == 6
    await limits.undo(GUIDED_REPLIES_HOUR, "email:a@b.ru", NOW)
    assert (await limits.peek(GUIDED_REPLIES_HOUR, "email:a@b.ru", NOW)).used == 5


@pytest.mark.parametrize(
    ("result", "lang", "expected"),
    [
        (
            LimitResult(False, datetime(2026, 11, 25, 11, 35, tzinfo=UTC), TICKETS_HOUR, 5),
            "ru",
            "За последний час вы уже подали 5 обращений — это предел. Можно будет продолжить "
            "после 14:35 МСК. Если дело срочное, напишите напрямую на support@whatasoft.net.",
        ),
        (
            LimitResult(False, datetime(2026, 11, 25, 11, 35, 20, tzinfo=UTC), CODES_HOUR, 5),
            "en",
            "5 verification codes have already been sent in the last hour, which is the limit. "
            "You can continue after 14:36 Moscow time.",
        ),
        (
            LimitResult(False, datetime(2026, 11, 26, 6, 10, tzinfo=UTC), TICKETS_DAY, 20),
            "ru",
            "За последние сутки вы уже подали 20 обращений — это предел. Можно будет продолжить "
            "после 26.11 в 09:10 МСК. Если дело срочное, напишите напрямую на "
            "support@whatasoft.net.",
        ),
        (
            LimitResult(False, None, GUIDED_REPLIES_HOUR, 10),
            "en",
            "I have already answered 10 messages from this address in the last hour, which is "
            "the limit. Please try again a little later.",
        ),
    ],
)
def test_limit_texts_say_which_limit_and_when(result, lang, expected):
    assert limit_text(result, lang, MSK, NOW) == expected


def test_local_time_in_another_zone():
    settings = SimpleNamespace(timezone="Asia/Yekaterinburg")
    when = datetime(2026, 11, 25, 11, 35, tzinfo=UTC)
    assert format_local_time(when, "ru", settings, NOW) == "16:35 +05"


async def test_writes_wait_for_a_store_transaction_instead_of_joining_it(tmp_path: Path):
    # Given limits sharing the Store (connection and write lock)
    store = await Store.open(tmp_path / "db.sqlite3")
    limits = await Limits.open(store)
    inside = asyncio.Event()

    async def hit_meanwhile() -> LimitResult:
        await inside.wait()
        return await limits.hit(TICKETS_HOUR, "k", NOW)

    task = asyncio.create_task(hit_meanwhile())
    # When a hit arrives while a Store transaction is open and that transaction rolls back
    with pytest.raises(RuntimeError):
        async with store._transaction():
            inside.set()
            await asyncio.sleep(0.05)  # without the shared lock the hit would run in here
            raise RuntimeError("rolled back")
    # Then the hit was not swallowed by the rollback
    assert (await task).allowed
    assert (await limits.peek(TICKETS_HOUR, "k", NOW)).used == 1
    await store.close()


async def test_an_action_counted_under_two_keys_is_recorded_under_both_or_neither(limits):
    # Given an address that has had its five codes this hour (from other customers)
    for _ in range(5):
        await limits.hit(CODES_HOUR, "address:a@b.ru", NOW)
    # When a new customer asks for one more code to that address
    pairs = [(CODES_HOUR, "user:telegram:7"), (CODES_HOUR, "address:a@b.ru")]
    denied = await limits.hit_together(pairs, NOW)
    # Then it is denied by the address's window, and the customer's own window stays empty
    assert not denied.allowed and denied.retry_at == NOW + timedelta(hours=1)
    assert (await limits.peek(CODES_HOUR, "user:telegram:7", NOW)).used == 0
    # and a customer under both limits counts under both
    later = NOW + timedelta(hours=2)
    allowed = await limits.hit_together([(CODES_HOUR, "user:telegram:7"), pairs[1]], later)
    assert allowed.allowed and allowed.used == 1
    assert (await limits.peek(CODES_HOUR, "address:a@b.ru", later)).used == 1
