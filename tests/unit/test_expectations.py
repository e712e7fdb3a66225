"""What the customer is told about working hours and reaction time (regulation 2.1–2.5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.policy.expectations import (
    critical_after_hours_text,
    expectations_text,
    format_opening,
    status_text,
)
from bot.policy.schedule import Schedule

MSK = ZoneInfo("Europe/Moscow")


def msk(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=MSK)


@pytest.fixture
def sched() -> Schedule:
    return Schedule()


# --------------------------------------------------------------------------- format_opening

FORMAT = [
    # (opening, now, ru, en)
    (
        msk(2025, 5, 12, 7),
        msk(2025, 5, 9, 17),
        "в понедельник 12 мая в 07:00 МСК",
        "on Monday, 12 May at 07:00 Moscow time",
    ),
    (
        msk(2025, 5, 14, 7),
        msk(2025, 5, 14, 6),
        "сегодня в 07:00 МСК",
        "today at 07:00 Moscow time",
    ),
    (
        msk(2025, 5, 13, 7),
        msk(2025, 5, 12, 16),
        "завтра, во вторник 13 мая, в 07:00 МСК",
        "tomorrow, Tuesday 13 May, at 07:00 Moscow time",
    ),
    (
        # 22:00 UTC on the 12th is already the 13th in Moscow: "today" by the Moscow calendar.
        msk(2025, 5, 13, 7),
        datetime(2025, 5, 12, 22, 0, tzinfo=UTC),
        "сегодня в 07:00 МСК",
        "today at 07:00 Moscow time",
    ),
    (
        msk(2026, 1, 12, 7),
        msk(2025, 12, 30, 16),
        "в понедельник 12 января 2026 г. в 07:00 МСК",
        "on Monday, 12 January 2026 at 07:00 Moscow time",
    ),
    (
        msk(2025, 12, 12, 12, 30),
        msk(2025, 12, 1, 9),
        "в пятницу 12 декабря в 12:30 МСК",
        "on Friday, 12 December at 12:30 Moscow time",
    ),
]


@pytest.mark.parametrize(("dt", "now", "ru", "en"), FORMAT)
def test_format_opening(dt: datetime, now: datetime, ru: str, en: str) -> None:
    assert format_opening(dt, now, "ru") == ru
    assert format_opening(dt, now, "en") == en


@pytest.mark.parametrize(
    ("day", "ru_weekday", "en_weekday"),
    [
        (12, "в понедельник", "Monday"),
        (13, "во вторник", "Tuesday"),
        (14, "в среду", "Wednesday"),
        (15, "в четверг", "Thursday"),
        (16, "в пятницу", "Friday"),
        (17, "в субботу", "Saturday"),
        (18, "в воскресенье", "Sunday"),
    ],
)
def test_weekdays_in_the_accusative_with_the_right_preposition(
    day: int, ru_weekday: str, en_weekday: str
) -> None:
    now = msk(2025, 5, 1, 10)
    assert format_opening(msk(2025, 5, day, 7), now, "ru") == f"{ru_weekday} {day} мая в 07:00 МСК"
    assert format_opening(msk(2025, 5, day, 7), now, "en").startswith(
        f"on {en_weekday}, {day} May"
    )


@pytest.mark.parametrize(
    ("month", "ru_month", "en_month"),
    [
        (1, "января", "January"),
        (2, "февраля", "February"),
        (3, "марта", "March"),
        (4, "апреля", "April"),
        (5, "мая", "May"),
        (6, "июня", "June"),
        (7, "июля", "July"),
        (8, "августа", "August"),
        (9, "сентября", "September"),
        (10, "октября", "October"),
        (11, "ноября", "November"),
        (12, "декабря", "December"),
    ],
)
def test_months_in_the_genitive(month: int, ru_month: str, en_month: str) -> None:
    now = msk(2025, 1, 1, 10)
    dt = msk(2025, month, 20, 7)
    assert f" 20 {ru_month} в 07:00 МСК" in format_opening(dt, now, "ru")
    assert f", 20 {en_month} at 07:00 Moscow time" in format_opening(dt, now, "en")


def test_language_tags_are_normalised_and_unknown_ones_refused() -> None:
    dt, now = msk(2025, 5, 12, 7), msk(2025, 5, 9, 17)
    assert format_opening(dt, now, "ru-RU") == format_opening(dt, now, "ru")
    assert format_opening(dt, now, "EN_gb") == format_opening(dt, now, "en")
    with pytest.raises(ValueError, match="language"):
        format_opening(dt, now, "de")


def test_other_schedule_zone_is_named() -> None:
    ekb = ZoneInfo("Asia/Yekaterinburg")
    dt = datetime(2025, 5, 19, 9, tzinfo=ekb)
    now = datetime(2025, 5, 16, 19, tzinfo=ekb)
    assert format_opening(dt, now, "ru") == "в понедельник 19 мая в 09:00 Asia/Yekaterinburg"


# --------------------------------------------------------------------------- status_text


def test_status_friday_evening_exact_texts(sched: Schedule) -> None:
    now = msk(2025, 5, 16, 17)
    assert status_text(sched, now, "ru") == (
        "Служба технической поддержки сейчас не работает. Ближайшее рабочее время начнётся "
        "в понедельник 19 мая в 07:00 МСК. Режим работы: по будним дням с 07:00 до 16:00 МСК, "
        "кроме выходных и праздничных дней по календарю РФ (п. 2.1 регламента)."
    )
    assert status_text(sched, now, "en") == (
        "Support is not working now. The next working period starts on Monday, 19 May at "
        "07:00 Moscow time. Working hours: weekdays from 07:00 to 16:00 Moscow time, except "
        "weekends and public holidays of the Russian Federation (clause 2.1 of the regulation)."
    )


CLOSED = [
    # (now, ru fragment, en fragment)
    (
        datetime(2025, 5, 16, 14, 0, tzinfo=UTC),  # Friday 17:00 MSK
        "начнётся в понедельник 19 мая в 07:00 МСК",
        "starts on Monday, 19 May at 07:00 Moscow time",
    ),
    (
        msk(2025, 12, 30, 16),  # before the New Year holidays 2026
        "начнётся в понедельник 12 января 2026 г. в 07:00 МСК",
        "starts on Monday, 12 January 2026 at 07:00 Moscow time",
    ),
    (
        msk(2024, 12, 28, 17),  # working Saturday, then the New Year holidays 2025
        "начнётся в четверг 9 января 2025 г. в 07:00 МСК",
        "starts on Thursday, 9 January 2025 at 07:00 Moscow time",
    ),
    (
        msk(2025, 4, 30, 17),  # before the May holidays
        "начнётся в понедельник 5 мая в 07:00 МСК",
        "starts on Monday, 5 May at 07:00 Moscow time",
    ),
    (
        msk(2025, 10, 31, 17),  # Friday before the working Saturday
        "начнётся завтра, в субботу 1 ноября, в 07:00 МСК",
        "starts tomorrow, Saturday 1 November, at 07:00 Moscow time",
    ),
    (
        msk(2025, 5, 13, 20),
        "начнётся завтра, в среду 14 мая, в 07:00 МСК",
        "starts tomorrow, Wednesday 14 May, at 07:00 Moscow time",
    ),
    (
        msk(2025, 5, 14, 6, 30),
        "начнётся сегодня в 07:00 МСК",
        "starts today at 07:00 Moscow time",
    ),
    (
        msk(2025, 6, 11, 16),  # 12–13 June
        "начнётся в понедельник 16 июня в 07:00 МСК",
        "starts on Monday, 16 June at 07:00 Moscow time",
    ),
]


@pytest.mark.parametrize(("now", "ru", "en"), CLOSED)
def test_status_when_closed_names_the_next_period(
    sched: Schedule, now: datetime, ru: str, en: str
) -> None:
    text_ru, text_en = status_text(sched, now, "ru"), status_text(sched, now, "en")
    assert "сейчас не работает" in text_ru
    assert ru in text_ru
    assert "(п. 2.1 регламента)" in text_ru
    assert "not working now" in text_en
    assert en in text_en
    assert "(clause 2.1 of the regulation)" in text_en


def test_status_when_open(sched: Schedule) -> None:
    now = msk(2025, 5, 14, 7)
    assert status_text(sched, now, "ru") == (
        "Служба технической поддержки сейчас работает, сегодня до 16:00 МСК (п. 2.1 регламента)."
    )
    assert status_text(sched, now, "en") == (
        "Support is working now, today until 16:00 Moscow time (clause 2.1 of the regulation)."
    )


def test_status_around_a_technical_break() -> None:
    sched = Schedule(closures={date(2025, 5, 14): [(time(10), time(12))]})
    assert "сегодня до 10:00 МСК" in status_text(sched, msk(2025, 5, 14, 9), "ru")
    during = status_text(sched, msk(2025, 5, 14, 10, 30), "ru")
    assert "не работает" in during
    assert "начнётся сегодня в 12:00 МСК" in during


def test_status_shows_configured_hours() -> None:
    sched = Schedule(start=time(9), end=time(18))
    text = status_text(sched, msk(2025, 5, 16, 19), "ru")
    assert "с 09:00 до 18:00 МСК" in text
    assert "в понедельник 19 мая в 09:00 МСК" in text


# --------------------------------------------------------------------------- expectations_text

EXPECTED_RU = [
    "в порядке поступления",
    "вне очереди",
    "(п. 2.2 регламента)",
    "от нескольких часов до нескольких дней",
    "(п. 2.5 регламента)",
    "гарантировать не может",
    "(п. 2.4 регламента)",
    "по телефону",
    "новое обращение",
    "не ускорит",
]
EXPECTED_EN = [
    "in order of arrival",
    "out of turn",
    "(clause 2.2 of the regulation)",
    "from a few hours to a few days",
    "(clause 2.5 of the regulation)",
    "cannot guarantee a resolution time",
    "(clause 2.4 of the regulation)",
    "call support",
    "new request",
    "will not speed things up",
]


@pytest.mark.parametrize("critical", [False, True])
@pytest.mark.parametrize(("lang", "fragments"), [("ru", EXPECTED_RU), ("en", EXPECTED_EN)])
def test_expectations_cover_2_2_2_4_2_5(lang: str, fragments: list[str], critical: bool) -> None:
    text = expectations_text(lang, critical)
    for fragment in fragments:
        assert fragment in text, fragment


def test_expectations_acknowledge_a_critical_request() -> None:
    assert "отмечено как критичное" in expectations_text("ru", critical=True)
    assert "отмечено как критичное" not in expectations_text("ru", critical=False)
    assert "marked as critical" in expectations_text("en", critical=True)
    assert "marked as critical" not in expectations_text("en", critical=False)


# --------------------------------------------------------------------------- critical after hours


def test_critical_after_hours_names_the_next_period(sched: Schedule) -> None:
    now = msk(2025, 5, 16, 17)
    ru = critical_after_hours_text(sched, now, "ru")
    en = critical_after_hours_text(sched, now, "en")
    assert "нерабочее время" in ru
    assert "в понедельник 19 мая в 07:00 МСК" in ru
    assert "(пп. 2.1, 2.2 регламента)" in ru
    assert "outside working hours" in en
    assert "on Monday, 19 May at 07:00 Moscow time" in en
    assert "(clauses 2.1 and 2.2 of the regulation)" in en


def test_critical_on_new_years_eve_waits_for_january(sched: Schedule) -> None:
    text = critical_after_hours_text(sched, msk(2025, 12, 31, 12), "ru")
    assert "в понедельник 12 января 2026 г. в 07:00 МСК" in text


def test_critical_during_working_hours_needs_no_extra_text(sched: Schedule) -> None:
    assert critical_after_hours_text(sched, msk(2025, 5, 14, 10), "ru") == ""
    assert critical_after_hours_text(sched, msk(2025, 5, 14, 10), "en") == ""


# --------------------------------------------------------------------------- naive datetimes

NAIVE = datetime(2025, 5, 14, 10)  # noqa: DTZ001 - deliberately naive


@pytest.mark.parametrize(
    "call",
    [
        lambda s: status_text(s, NAIVE, "ru"),
        lambda s: critical_after_hours_text(s, NAIVE, "ru"),
        lambda s: format_opening(NAIVE, msk(2025, 5, 14), "ru"),
        lambda s: format_opening(msk(2025, 5, 14), NAIVE, "en"),
    ],
    ids=["status", "critical", "format-dt", "format-now"],
)
def test_naive_datetimes_are_rejected(sched: Schedule, call) -> None:
    with pytest.raises(ValueError, match="aware"):
        call(sched)
