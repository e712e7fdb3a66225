"""Support schedule (regulation 2.1, 6.1) over real dates of the RF calendar 2024–2026."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.config import Settings
from bot.policy import schedule as schedule_module
from bot.policy.schedule import (
    OVERRIDES_FILE,
    OverridesError,
    Schedule,
    load_overrides,
    read_calendar_file,
)

MSK = ZoneInfo("Europe/Moscow")
NEW_YORK = ZoneInfo("America/New_York")
VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")


def msk(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=MSK)


@pytest.fixture
def sched() -> Schedule:
    return Schedule()


# --------------------------------------------------------------------------- working days

WORKING_DAYS = [
    # New Year holidays
    (date(2024, 1, 1), False, "2024 New Year"),
    (date(2024, 1, 8), False, "2024 New Year, last day"),
    (date(2024, 1, 9), True, "2024 first working day"),
    (date(2025, 1, 3), False, "2025 New Year"),
    (date(2025, 1, 8), False, "2025 New Year, last day"),
    (date(2025, 1, 9), True, "2025 first working day"),
    (date(2026, 1, 5), False, "2026 New Year"),
    (date(2026, 1, 9), False, "2026 day off moved from 3 January"),
    (date(2026, 1, 12), True, "2026 first working day"),
    # 23 February
    (date(2024, 2, 23), False, "23 Feb 2024, Friday"),
    (date(2025, 2, 24), True, "23 Feb 2025 fell on Sunday, moved to 8 May, not 24 Feb"),
    (date(2026, 2, 23), False, "23 Feb 2026, Monday"),
    # 8 March
    (date(2024, 3, 8), False, "8 Mar 2024, Friday"),
    (date(2025, 3, 10), True, "8 Mar 2025 fell on Saturday, moved to 13 June"),
    (date(2026, 3, 9), False, "8 Mar 2026 fell on Sunday, observed Monday 9 Mar"),
    # May holidays
    (date(2024, 4, 29), False, "2024 day off moved from 27 April"),
    (date(2024, 4, 30), False, "2024 day off moved from 2 November"),
    (date(2024, 5, 1), False, "1 May 2024"),
    (date(2024, 5, 9), False, "9 May 2024"),
    (date(2024, 5, 10), False, "2024 day off moved from 6 January"),
    (date(2025, 5, 1), False, "1 May 2025"),
    (date(2025, 5, 2), False, "2025 day off moved from 4 January"),
    (date(2025, 5, 5), True, "2025 working Monday between the May holidays"),
    (date(2025, 5, 8), False, "2025 day off moved from 23 February"),
    (date(2025, 5, 9), False, "9 May 2025"),
    (date(2025, 5, 12), True, "2025 first working day after Victory Day"),
    (date(2026, 5, 1), False, "1 May 2026"),
    (date(2026, 5, 11), False, "9 May 2026 fell on Saturday, observed Monday 11 May"),
    (date(2026, 5, 12), True, "2026 first working day after Victory Day"),
    # 12 June
    (date(2024, 6, 12), False, "12 Jun 2024"),
    (date(2025, 6, 12), False, "12 Jun 2025"),
    (date(2025, 6, 13), False, "2025 day off moved from 8 March"),
    (date(2026, 6, 12), False, "12 Jun 2026"),
    # 4 November
    (date(2024, 11, 4), False, "4 Nov 2024"),
    (date(2025, 11, 3), False, "2025 day off moved from 1 November"),
    (date(2025, 11, 4), False, "4 Nov 2025"),
    (date(2026, 11, 4), False, "4 Nov 2026"),
    # End of year
    (date(2024, 12, 30), False, "2024 day off moved from 28 December"),
    (date(2024, 12, 31), False, "2024 day off moved from 7 January"),
    (date(2025, 12, 30), True, "30 Dec 2025, Tuesday"),
    (date(2025, 12, 31), False, "2025 day off moved from 5 January"),
    (date(2026, 12, 31), False, "2026 day off moved from 4 January"),
    # Working Saturdays
    (date(2024, 4, 27), True, "working Saturday 2024-04-27"),
    (date(2024, 11, 2), True, "working Saturday 2024-11-02"),
    (date(2024, 12, 28), True, "working Saturday 2024-12-28"),
    (date(2025, 11, 1), True, "working Saturday 2025-11-01"),
    # Ordinary days
    (date(2025, 5, 14), True, "ordinary Wednesday"),
    (date(2025, 5, 17), False, "ordinary Saturday"),
    (date(2025, 5, 18), False, "ordinary Sunday"),
]


@pytest.mark.parametrize(
    ("day", "working"), [row[:2] for row in WORKING_DAYS], ids=[r[2] for r in WORKING_DAYS]
)
def test_is_working_day_follows_the_rf_production_calendar(
    sched: Schedule, day: date, working: bool
) -> None:
    assert sched.is_working_day(day) is working


@pytest.mark.parametrize(("day", "working"), [row[:2] for row in WORKING_DAYS])
def test_working_days_are_open_at_noon_and_days_off_closed(
    sched: Schedule, day: date, working: bool
) -> None:
    assert sched.is_open(datetime.combine(day, time(12), MSK)) is working


def test_is_working_day_rejects_a_datetime(sched: Schedule) -> None:
    with pytest.raises(TypeError):
        sched.is_working_day(msk(2025, 5, 14, 10))


def test_rf_calendar_is_built_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a counting wrapper around the holidays factory and an empty cache
    built: list[int] = []
    real_factory = holidays.country_holidays

    def counting_factory(country: str, years: int) -> holidays.HolidayBase:
        assert country == "RU"
        built.append(years)
        return real_factory(country, years=years)

    schedule_module._ru_calendar.cache_clear()
    monkeypatch.setattr(holidays, "country_holidays", counting_factory)
    try:
        # When many questions about 2025 and a few about 2026 are asked
        sched = Schedule()
        for offset in range(365):
            sched.is_working_day(date(2025, 1, 1) + timedelta(days=offset))
        sched.working_time_between(msk(2025, 12, 1), msk(2026, 2, 1))
        sched.next_opening(msk(2025, 12, 30, 17))
        # Then each year's calendar was built once
        assert sorted(built) == [2025, 2026]
    finally:
        schedule_module._ru_calendar.cache_clear()


# --------------------------------------------------------------------------- is_open

IS_OPEN = [
    (msk(2025, 5, 14, 6, 59, 59), False, "one second before opening"),
    (msk(2025, 5, 14, 7, 0), True, "07:00 sharp is open"),
    (msk(2025, 5, 14, 12, 0), True, "midday"),
    (msk(2025, 5, 14, 15, 59, 59), True, "one second before closing"),
    (msk(2025, 5, 14, 16, 0), False, "16:00 sharp is closed"),
    (msk(2025, 5, 14, 23, 0), False, "late evening"),
    (msk(2025, 5, 14, 0, 0), False, "midnight"),
    (msk(2024, 11, 2, 10, 0), True, "working Saturday"),
    (msk(2025, 6, 13, 10, 0), False, "transferred day off"),
    (msk(2025, 5, 17, 10, 0), False, "ordinary Saturday"),
    # Other time zones: the Moscow wall clock decides.
    (datetime(2025, 5, 14, 4, 30, tzinfo=UTC), True, "04:30 UTC = 07:30 MSK"),
    (datetime(2025, 5, 14, 3, 59, tzinfo=UTC), False, "03:59 UTC = 06:59 MSK"),
    (datetime(2025, 5, 14, 12, 59, tzinfo=UTC), True, "12:59 UTC = 15:59 MSK"),
    (datetime(2025, 5, 14, 13, 0, tzinfo=UTC), False, "13:00 UTC = 16:00 MSK"),
    (datetime(2025, 5, 14, 13, 0, tzinfo=VLADIVOSTOK), False, "13:00 VLAT = 06:00 MSK"),
    (datetime(2025, 5, 14, 14, 0, tzinfo=VLADIVOSTOK), True, "14:00 VLAT = 07:00 MSK"),
    (datetime(2025, 5, 14, 7, 0, tzinfo=timezone(timedelta(hours=3))), True, "fixed +03:00"),
    (datetime(2025, 1, 12, 23, 30, tzinfo=NEW_YORK), True, "Sunday night NY = Monday MSK"),
    (datetime(2025, 1, 17, 9, 0, tzinfo=NEW_YORK), False, "Friday 09:00 EST = 17:00 MSK"),
    (datetime(2025, 5, 16, 8, 59, tzinfo=NEW_YORK), True, "Friday 08:59 EDT = 15:59 MSK"),
]


@pytest.mark.parametrize(("now", "is_open"), [r[:2] for r in IS_OPEN], ids=[r[2] for r in IS_OPEN])
def test_is_open(sched: Schedule, now: datetime, is_open: bool) -> None:
    assert sched.is_open(now) is is_open


@pytest.mark.parametrize("month", range(1, 13))
def test_utc_clock_is_always_three_hours_behind_moscow(sched: Schedule, month: int) -> None:
    # Moscow has no DST: 04:00 UTC is 07:00 MSK in winter and summer alike.
    day = next(
        date(2025, month, d) for d in range(1, 29) if sched.is_working_day(date(2025, month, d))
    )
    assert not sched.is_open(datetime.combine(day, time(3, 59), UTC))
    assert sched.is_open(datetime.combine(day, time(4, 0), UTC))
    assert sched.is_open(datetime.combine(day, time(12, 59), UTC))
    assert not sched.is_open(datetime.combine(day, time(13, 0), UTC))
    assert sched.next_opening(datetime.combine(day, time(1), UTC)).utcoffset() == timedelta(
        hours=3
    )


# --------------------------------------------------------------------------- next_opening

NEXT_OPENING = [
    (msk(2025, 5, 16, 17, 0), msk(2025, 5, 19, 7), "Friday evening -> Monday"),
    (msk(2025, 5, 16, 10, 0), msk(2025, 5, 19, 7), "open Friday -> the period after this one"),
    (msk(2025, 5, 14, 7, 0), msk(2025, 5, 15, 7), "at opening: already open -> next day"),
    (msk(2025, 5, 14, 6, 59), msk(2025, 5, 14, 7), "early morning -> today"),
    (msk(2025, 5, 14, 16, 0), msk(2025, 5, 15, 7), "at closing -> tomorrow"),
    (msk(2024, 2, 22, 16, 0), msk(2024, 2, 26, 7), "before 23 February 2024"),
    (msk(2026, 3, 6, 16, 0), msk(2026, 3, 10, 7), "before 8 March 2026 (9 March observed)"),
    (msk(2025, 4, 30, 16, 0), msk(2025, 5, 5, 7), "before the first May holidays 2025"),
    (msk(2025, 5, 7, 17, 0), msk(2025, 5, 12, 7), "before the second May holidays 2025"),
    (msk(2024, 4, 26, 17, 0), msk(2024, 4, 27, 7), "Friday before working Saturday 2024-04-27"),
    (msk(2024, 4, 27, 16, 0), msk(2024, 5, 2, 7), "working Saturday -> after 29 Apr-1 May"),
    (msk(2025, 6, 11, 16, 0), msk(2025, 6, 16, 7), "before 12-13 June 2025"),
    (msk(2025, 10, 31, 17, 0), msk(2025, 11, 1, 7), "Friday before working Saturday 2025-11-01"),
    (msk(2025, 11, 1, 16, 0), msk(2025, 11, 5, 7), "working Saturday -> after 3-4 November"),
    (msk(2024, 12, 27, 17, 0), msk(2024, 12, 28, 7), "Friday before working Saturday 2024-12-28"),
    (msk(2024, 12, 28, 16, 0), msk(2025, 1, 9, 7), "New Year 2025"),
    (msk(2025, 12, 30, 16, 30), msk(2026, 1, 12, 7), "New Year 2026 (9 January off)"),
    (msk(2026, 12, 30, 16, 0), msk(2027, 1, 11, 7), "New Year 2027"),
    (datetime(2025, 5, 16, 14, 0, tzinfo=UTC), msk(2025, 5, 19, 7), "UTC input: Fri 17:00 MSK"),
    (datetime(2025, 1, 12, 22, 0, tzinfo=NEW_YORK), msk(2025, 1, 13, 7), "NY Sunday 22:00"),
]


@pytest.mark.parametrize(
    ("now", "expected"), [r[:2] for r in NEXT_OPENING], ids=[r[2] for r in NEXT_OPENING]
)
def test_next_opening(sched: Schedule, now: datetime, expected: datetime) -> None:
    opening = sched.next_opening(now)
    assert opening == expected
    assert opening > now
    assert opening.tzinfo == MSK  # in the schedule zone, whatever the input zone
    assert (opening.hour, opening.minute) == (7, 0)


def test_next_opening_is_followed_by_an_open_desk(sched: Schedule) -> None:
    now = msk(2025, 12, 30, 16, 30)
    opening = sched.next_opening(now)
    assert sched.is_open(opening)
    assert not sched.is_open(opening - timedelta(seconds=1))
    assert sched.working_time_between(now, opening) == timedelta(0)


def test_next_opening_gives_up_when_everything_is_closed() -> None:
    start = date(2025, 5, 12)
    closed = {start + timedelta(days=i): False for i in range(4 * 366)}
    with pytest.raises(ValueError, match="no working period"):
        Schedule(overrides=closed).next_opening(msk(2025, 5, 12, 8))


# --------------------------------------------------------------------------- working time

H = timedelta(hours=1)

WORKING_TIME = [
    (msk(2025, 5, 14, 8), msk(2025, 5, 14, 10), 2 * H, "same day"),
    (msk(2025, 5, 14, 5), msk(2025, 5, 14, 20), 9 * H, "whole day, clipped to 07-16"),
    (msk(2025, 5, 16, 15), msk(2025, 5, 19, 8), 2 * H, "over a weekend"),
    (msk(2025, 5, 19), msk(2025, 5, 26), 45 * H, "an ordinary week"),
    (msk(2025, 6, 9), msk(2025, 6, 16), 27 * H, "week with 12-13 June"),
    (msk(2025, 12, 30, 15), msk(2026, 1, 12, 8), 2 * H, "over the New Year holidays"),
    (msk(2024, 12, 28), msk(2024, 12, 29), 9 * H, "working Saturday"),
    (msk(2025, 5, 17, 9), msk(2025, 5, 18, 15), timedelta(0), "weekend only"),
    (msk(2025, 5, 14, 10), msk(2025, 5, 14, 10), timedelta(0), "empty interval"),
    (msk(2025, 5, 14, 12), msk(2025, 5, 14, 10), timedelta(0), "b before a"),
    (
        datetime(2025, 5, 14, 5, 0, tzinfo=UTC),  # 08:00 MSK
        datetime(2025, 5, 14, 3, 0, tzinfo=NEW_YORK),  # 10:00 MSK
        2 * H,
        "mixed zones",
    ),
]


@pytest.mark.parametrize(
    ("a", "b", "expected"), [r[:3] for r in WORKING_TIME], ids=[r[3] for r in WORKING_TIME]
)
def test_working_time_between(
    sched: Schedule, a: datetime, b: datetime, expected: timedelta
) -> None:
    assert sched.working_time_between(a, b) == expected


def test_working_time_in_2025_is_the_production_calendar_total(sched: Schedule) -> None:
    # 2025 has 247 working days (production calendar) x 9 hours of support.
    assert sched.working_time_between(msk(2025, 1, 1), msk(2026, 1, 1)) == 247 * 9 * H


# --------------------------------------------------------------------------- ticket block


def test_working_hours_block_when_closed(sched: Schedule) -> None:
    block = sched.working_hours_block(msk(2025, 5, 16, 17))
    assert block == {"open": False, "next_opening": "2025-05-19T07:00:00+03:00"}
    assert json.loads(json.dumps(block)) == block


def test_working_hours_block_when_open_gives_the_next_period(sched: Schedule) -> None:
    block = sched.working_hours_block(datetime(2025, 5, 14, 7, 0, tzinfo=UTC))  # 10:00 MSK
    assert block == {"open": True, "next_opening": "2025-05-15T07:00:00+03:00"}


# --------------------------------------------------------------------------- naive datetimes

NAIVE = datetime(2025, 5, 14, 10)  # noqa: DTZ001 - deliberately naive


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.is_open(NAIVE),
        lambda s: s.next_opening(NAIVE),
        lambda s: s.closes_at(NAIVE),
        lambda s: s.working_hours_block(NAIVE),
        lambda s: s.working_time_between(NAIVE, msk(2025, 5, 15)),
        lambda s: s.working_time_between(msk(2025, 5, 13), NAIVE),
    ],
    ids=["is_open", "next_opening", "closes_at", "block", "between-a", "between-b"],
)
def test_naive_datetimes_are_rejected(sched: Schedule, call) -> None:
    with pytest.raises(ValueError, match="aware"):
        call(sched)


# --------------------------------------------------------------------------- configuration


def test_custom_hours_and_zone() -> None:
    sched = Schedule(tz="Asia/Yekaterinburg", start=time(9), end=time(18))
    ekb = ZoneInfo("Asia/Yekaterinburg")
    assert not sched.is_open(datetime(2025, 5, 14, 8, 59, tzinfo=ekb))
    assert sched.is_open(datetime(2025, 5, 14, 9, 0, tzinfo=ekb))
    assert sched.is_open(msk(2025, 5, 14, 15, 59))  # 17:59 in Yekaterinburg
    assert not sched.is_open(msk(2025, 5, 14, 16, 0))  # 18:00 in Yekaterinburg
    assert sched.next_opening(msk(2025, 5, 16, 17)).isoformat() == "2025-05-19T09:00:00+05:00"


def test_hours_must_start_before_they_end() -> None:
    with pytest.raises(ValueError, match="start before"):
        Schedule(start=time(16), end=time(7))


def test_from_settings_reads_hours_zone_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text("2025-05-14,day_off,,Company closure\n", encoding="utf-8")
    settings = Settings(
        _env_file=None, timezone="Europe/Moscow", work_start="08:00", work_end="17:00"
    )
    sched = Schedule.from_settings(settings, overrides_path=path)
    assert (sched.start, sched.end) == (time(8), time(17))
    assert not sched.is_working_day(date(2025, 5, 14))
    assert sched.is_open(msk(2025, 5, 15, 16, 30))
    assert not sched.is_open(msk(2025, 5, 15, 7, 30))


def test_from_settings_defaults_use_the_repo_data_file() -> None:
    sched = Schedule.from_settings(Settings(_env_file=None))
    assert (sched.tz_name, sched.start, sched.end) == ("Europe/Moscow", time(7), time(16))
    assert sched.overrides == load_overrides(OVERRIDES_FILE)


def test_the_shipped_overrides_file_is_valid_and_documented(tmp_path: Path) -> None:
    assert (
        Path(__file__).resolve().parents[2] / "data" / "calendar_overrides.csv" == OVERRIDES_FILE
    )
    text = OVERRIDES_FILE.read_text(encoding="utf-8")
    assert text.startswith("#")
    read_calendar_file(OVERRIDES_FILE)  # does not raise
    # The commented examples are valid rows too.
    examples = [line.removeprefix("# ") for line in text.splitlines() if line.startswith("# 20")]
    assert len(examples) == 3
    parsed = read_calendar_file(write(tmp_path, "\n".join(examples) + "\n"))
    assert len(parsed.overrides) == 2
    assert len(parsed.closures) == 1


# --------------------------------------------------------------------------- overrides file


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "calendar_overrides.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_overrides_file_company_closure_and_decree(tmp_path: Path) -> None:
    # Given a company closure on an ordinary Wednesday and a decree the package does not know
    path = write(
        tmp_path,
        "# comment header\n"
        "\n"
        "date,status,hours,source\n"
        "2025-05-14,day_off,,Company closure (6.1), announcement of 2025-05-01\n"
        '2025-05-17,working,,"Decree No. 1, hypothetical working Saturday"\n'
        "2025-06-13,working,,Override wins over the package\n",
    )
    # When the schedule is built from it
    overrides = load_overrides(path)
    sched = Schedule(overrides=overrides)
    # Then
    assert overrides == {
        date(2025, 5, 14): False,
        date(2025, 5, 17): True,
        date(2025, 6, 13): True,
    }
    assert not sched.is_open(msk(2025, 5, 14, 10))
    assert sched.next_opening(msk(2025, 5, 13, 16)) == msk(2025, 5, 15, 7)
    assert sched.is_open(msk(2025, 5, 17, 10))
    assert sched.is_open(msk(2025, 6, 13, 10))
    assert sched.working_time_between(msk(2025, 5, 12), msk(2025, 5, 19)) == 45 * H


def test_partial_day_closure(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2025-05-14,closed,10:00-12:00,Technical break (6.1)\n"
        "2025-05-14,closed,15:00-24:00,Company event\n",
    )
    parsed = read_calendar_file(path)
    assert parsed.overrides == {}
    sched = Schedule(closures=parsed.closures)
    assert sched.is_working_day(date(2025, 5, 14))
    assert sched.is_open(msk(2025, 5, 14, 9, 59))
    assert not sched.is_open(msk(2025, 5, 14, 10, 0))
    assert not sched.is_open(msk(2025, 5, 14, 11, 59))
    assert sched.is_open(msk(2025, 5, 14, 12, 0))
    assert not sched.is_open(msk(2025, 5, 14, 15, 0))
    assert sched.closes_at(msk(2025, 5, 14, 8)) == msk(2025, 5, 14, 10)
    assert sched.next_opening(msk(2025, 5, 14, 8)) == msk(2025, 5, 14, 12)
    assert sched.next_opening(msk(2025, 5, 14, 10, 30)) == msk(2025, 5, 14, 12)
    assert sched.next_opening(msk(2025, 5, 14, 13)) == msk(2025, 5, 15, 7)
    assert sched.working_time_between(msk(2025, 5, 14), msk(2025, 5, 15)) == 6 * H


def test_missing_overrides_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "absent.csv") == {}


MALFORMED = [
    ("2025-05-14,day_off,,ok\n2025-13-01,day_off,,bad month\n", 2, "bad date"),
    ("# header\n\n14.05.2025,day_off,,Russian date order\n", 3, "bad date"),
    ("2025-05-14,holiday,,unknown status\n", 1, "bad status"),
    ("2025-05-14,day_off,,\n", 1, "source"),
    ("2025-05-14,day_off\n", 1, "expected 4 columns"),
    ("2025-05-14,closed,,no hours\n", 1, "needs hours"),
    ("2025-05-14,closed,12:00-10:00,reversed\n", 1, "ends before"),
    ("2025-05-14,closed,10-12,no minutes\n", 1, "bad hours"),
    ("2025-05-14,day_off,10:00-12:00,hours on a whole day\n", 1, "only allowed"),
    ("2025-05-14,day_off,,a\n2025-05-14,working,,b\n", 2, "already listed"),
]


@pytest.mark.parametrize(("body", "line", "reason"), MALFORMED, ids=[m[2] for m in MALFORMED])
def test_malformed_overrides_file_names_the_line(
    tmp_path: Path, body: str, line: int, reason: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(OverridesError, match=reason) as caught:
        load_overrides(path)
    assert f"{path}:{line}:" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_periods_worked_out_once_are_the_same_each_time_and_not_shared() -> None:
    schedule = Schedule()
    day = date(2026, 12, 1)  # a Tuesday
    first = schedule.periods(day)
    first.clear()  # a caller's list is its own
    again = schedule.periods(day)
    assert again == Schedule().periods(day) and len(again) == 1
    opening, closing = again[0]
    assert (opening.hour, closing.hour) == (4, 13)  # 07:00-16:00 Moscow time, in UTC
