"""Working hours of the support service (regulation 2.1) and the company's own closures (6.1).

Support works on working days from ``start`` to ``end`` in ``tz`` (default 07:00–16:00
Europe/Moscow). A working day is decided in this order:

1. a whole-day override (``working`` / ``day_off``) from ``data/calendar_overrides.csv``: decrees
   the installed ``holidays`` package does not know yet, and company closures;
2. the production calendar of the Russian Federation from ``holidays.RU()`` (default
   ``observed=True``): public holidays, days off transferred onto weekdays and working Saturdays.

On a working day, partial closures (``closed`` rows with ``HH:MM-HH:MM``: technical breaks) are cut
out of the working hours, so one day may hold several working periods.

A *working period* is a half-open interval ``[opening, closing)``: at 07:00 support is open, at
16:00 it is closed. All times are aware datetimes; naive ones raise ``ValueError``. Arithmetic is
done in UTC, so any input time zone works and DST zones are handled correctly.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from bot.config import Settings

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
OVERRIDES_FILE = DATA_DIR / "calendar_overrides.csv"

# How far ahead next_opening() looks before giving up (a file closing everything, for example).
_SEARCH_DAYS = 3 * 366
_PERIODS_KEPT = 4 * 366  # days of working periods a Schedule keeps worked out

Interval = tuple[time, time]


@functools.cache
def _ru_calendar(year: int) -> holidays.HolidayBase:
    """The RF production calendar of one year, built once per process."""
    return holidays.country_holidays("RU", years=year)  # == holidays.RU(years=year)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


def parse_hhmm(text: str) -> time:
    """``"07:00"`` -> ``time(7, 0)``; ``ValueError`` on anything else."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"expected HH:MM, got {text!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        return time.max
    return time(hour, minute)


# --------------------------------------------------------------------------- overrides file


class OverridesError(ValueError):
    """A malformed row in the calendar overrides file; the message names the file and line."""


@dataclass
class CalendarFile:
    """Parsed ``calendar_overrides.csv``: whole-day overrides and partial-day closures."""

    overrides: dict[date, bool] = field(default_factory=dict)
    closures: dict[date, list[Interval]] = field(default_factory=dict)


_HEADER = ["date", "status", "hours", "source"]
_STATUSES = {"working", "day_off", "closed"}


def read_calendar_file(path: Path) -> CalendarFile:
    """Parse the overrides file (format documented in its comment header).

    Columns: ``date,status,hours,source``. ``status`` is ``working`` or ``day_off`` (whole day,
    ``hours`` empty) or ``closed`` (partial closure, ``hours`` = ``HH:MM-HH:MM``). ``source`` (the
    decree, the announcement) is required and may contain commas. Lines starting with ``#`` and
    blank lines are ignored; a ``date,status,...`` header line is allowed. A missing file means no
    overrides.
    """
    result = CalendarFile()
    if not path.exists():
        return result
    with path.open(encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines()
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        row = [cell.strip() for cell in next(csv.reader([line]))]
        if [cell.lower() for cell in row] == _HEADER:
            continue

        def fail(reason: str, lineno: int = lineno, line: str = line) -> OverridesError:
            return OverridesError(f"{path}:{lineno}: {reason}: {line!r}")

        if len(row) < len(_HEADER):
            raise fail(f"expected {len(_HEADER)} columns ({','.join(_HEADER)}), got {len(row)}")
        # The source is the last column: commas in it need no quoting.
        raw_day, status, hours = row[:3]
        source = ", ".join(cell for cell in row[3:] if cell)
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise fail(f"bad date {raw_day!r}, expected YYYY-MM-DD") from None
        if status not in _STATUSES:
            raise fail(f"bad status {status!r}, expected one of {', '.join(sorted(_STATUSES))}")
        if not source:
            raise fail("the source column is empty; say which decree or announcement this is")
        if status == "closed":
            if not hours:
                raise fail("a 'closed' row needs hours HH:MM-HH:MM")
            try:
                begin_text, end_text = hours.split("-")
                begin, end = parse_hhmm(begin_text), parse_hhmm(end_text)
            except ValueError:
                raise fail(f"bad hours {hours!r}, expected HH:MM-HH:MM") from None
            if begin >= end:
                raise fail(f"closure {hours!r} ends before it starts")
            result.closures.setdefault(day, []).append((begin, end))
            continue
        if hours:
            raise fail(f"hours are only allowed with status 'closed', not {status!r}")
        if day in result.overrides:
            raise fail(f"{day.isoformat()} is already listed above")
        result.overrides[day] = status == "working"
    return result


def load_overrides(path: Path) -> dict[date, bool]:
    """Whole-day overrides from the file: ``{day: True (working) / False (day off)}``.

    Raises ``OverridesError`` (a ``ValueError``) naming the line of a malformed row.
    """
    return read_calendar_file(path).overrides


# --------------------------------------------------------------------------- schedule


class Schedule:
    """The support calendar: working days, hours and closures in one time zone."""

    def __init__(
        self,
        tz: str = "Europe/Moscow",
        start: time = time(7),
        end: time = time(16),
        overrides: Mapping[date, bool] | None = None,
        closures: Mapping[date, Sequence[Interval]] | None = None,
    ) -> None:
        if start >= end:
            raise ValueError(f"working hours must start before they end: {start}-{end}")
        self.tz_name = tz
        self.tz = ZoneInfo(tz)
        self.start = start
        self.end = end
        self.overrides: dict[date, bool] = dict(overrides or {})
        self.closures: dict[date, list[Interval]] = {
            day: sorted(intervals) for day, intervals in (closures or {}).items()
        }
        # Working periods by local day, worked out once: the desk asks for the same few days
        # several times per message, and the production calendar's lookup is slow.
        self._periods: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, overrides_path: Path | None = None) -> Schedule:
        """Hours and zone from settings; overrides from ``data/calendar_overrides.csv``."""
        parsed = read_calendar_file(overrides_path or OVERRIDES_FILE)
        return cls(
            tz=settings.timezone,
            start=parse_hhmm(settings.work_start),
            end=parse_hhmm(settings.work_end),
            overrides=parsed.overrides,
            closures=parsed.closures,
        )

    # ---- days

    def is_working_day(self, day: date) -> bool:
        """Overrides first, then the RF production calendar (transfers included)."""
        if isinstance(day, datetime):
            raise TypeError("is_working_day() takes a date, not a datetime")
        if day in self.overrides:
            return self.overrides[day]
        return bool(_ru_calendar(day.year).is_working_day(day))

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """Working periods of a local day as UTC ``[opening, closing)`` pairs, in order."""
        known = self._periods.get(day)
        if known is None:
            if len(self._periods) > _PERIODS_KEPT:
                self._periods.clear()
            known = self._periods[day] = tuple(self._work_out_periods(day))
        return list(known)

    def _work_out_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        pieces: list[Interval] = [(self.start, self.end)]
        for cut_start, cut_end in self.closures.get(day, []):
            next_pieces: list[Interval] = []
            for begin, end in pieces:
                if cut_end <= begin or cut_start >= end:
                    next_pieces.append((begin, end))
                    continue
                if begin < cut_start:
                    next_pieces.append((begin, cut_start))
                if cut_end < end:
                    next_pieces.append((cut_end, end))
            pieces = next_pieces
        return [(self._at(day, begin), self._at(day, end)) for begin, end in pieces]

    def _at(self, day: date, moment: time) -> datetime:
        if moment == time.max:  # "24:00"
            return datetime.combine(day + timedelta(days=1), time(), self.tz).astimezone(UTC)
        return datetime.combine(day, moment, self.tz).astimezone(UTC)

    def _periods_from(self, now: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Periods that end after ``now`` (UTC), in order, for up to ``_SEARCH_DAYS`` days."""
        day = now.astimezone(self.tz).date() - timedelta(days=1)
        for offset in range(_SEARCH_DAYS):
            for opening, closing in self.periods(day + timedelta(days=offset)):
                if closing > now:
                    yield opening, closing

    def _current_period(self, now: datetime) -> tuple[datetime, datetime] | None:
        for opening, closing in self._periods_from(now):
            return (opening, closing) if opening <= now else None
        return None

    # ---- moments

    def is_open(self, now: datetime) -> bool:
        """True from the opening (inclusive) to the closing (exclusive) of a working period."""
        _require_aware(now, "now")
        return self._current_period(now.astimezone(UTC)) is not None

    def closes_at(self, now: datetime) -> datetime | None:
        """End of the current working period in the schedule zone, or ``None`` if closed."""
        _require_aware(now, "now")
        period = self._current_period(now.astimezone(UTC))
        return period[1].astimezone(self.tz) if period else None

    def next_opening(self, now: datetime) -> datetime:
        """Start of the next working period, aware in the schedule zone.

        If support is open at ``now``, this is the start of the period *after* the current one
        (it never returns ``now`` or a moment before it). At exactly an opening moment support is
        open, so the answer is the following opening.
        """
        _require_aware(now, "now")
        utc_now = now.astimezone(UTC)
        for opening, _closing in self._periods_from(utc_now):
            if opening > utc_now:
                return opening.astimezone(self.tz)
        raise ValueError(f"no working period within {_SEARCH_DAYS} days after {now.isoformat()}")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time within ``[a, b)``; ``timedelta(0)`` when ``b <= a``."""
        _require_aware(a, "a")
        _require_aware(b, "b")
        a_utc, b_utc = a.astimezone(UTC), b.astimezone(UTC)
        total = timedelta()
        if b_utc <= a_utc:
            return total
        day = a_utc.astimezone(self.tz).date() - timedelta(days=1)
        last_day = b_utc.astimezone(self.tz).date() + timedelta(days=1)
        while day <= last_day:
            for opening, closing in self.periods(day):
                overlap = min(closing, b_utc) - max(opening, a_utc)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total

    def working_hours_block(self, now: datetime) -> dict[str, object]:
        """The ticket's ``working_hours`` block: ``{"open": bool, "next_opening": ISO 8601}``.

        ``next_opening`` follows ``next_opening()``: when support is open it is the start of the
        next period after the current one, never ``now``; it carries the schedule zone's offset
        (``2025-05-12T07:00:00+03:00``).
        """
        return {
            "open": self.is_open(now),
            "next_opening": self.next_opening(now).isoformat(),
        }
