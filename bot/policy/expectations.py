"""What the customer is told about working hours and reaction time (regulation 2.1–2.5).

Used at /start, when a request is filed and in the e-mail confirmation. Every function returns one
language: ``lang`` is ``"ru"`` or ``"en"`` (``"ru-RU"``, ``"en-GB"`` are accepted too); callers
showing both put Russian first, English second. Texts quote the clause numbers of the regulation.
"""

from __future__ import annotations

from datetime import datetime, time

from bot.policy.schedule import Schedule

_RU_WEEKDAYS = (
    "в понедельник",
    "во вторник",
    "в среду",
    "в четверг",
    "в пятницу",
    "в субботу",
    "в воскресенье",
)
_RU_WEEKDAYS_NOMINATIVE = (
    "понедельник",
    "вторник",
    "среда",
    "четверг",
    "пятница",
    "суббота",
    "воскресенье",
)
_RU_MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _lang(lang: str) -> str:
    code = lang.strip().lower()
    for known in ("ru", "en"):
        if code == known or code.startswith(known + "-") or code.startswith(known + "_"):
            return known
    raise ValueError(f"unsupported language {lang!r}; expected 'ru' or 'en'")


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


def _zone_label(dt: datetime, lang: str) -> str:
    """«МСК» / «Moscow time» for Europe/Moscow; the zone's name otherwise."""
    key = getattr(dt.tzinfo, "key", None)
    if key == "Europe/Moscow":
        return "МСК" if lang == "ru" else "Moscow time"
    return str(key or dt.tzname() or "")


def _clock(moment: time) -> str:
    return "24:00" if moment == time.max else moment.strftime("%H:%M")


def format_opening(dt: datetime, now: datetime, lang: str) -> str:
    """A moment as the customer reads it, relative to ``now`` in ``dt``'s time zone.

    ru: ``"сегодня в 13:00 МСК"``, ``"завтра, во вторник 13 мая, в 07:00 МСК"``,
    ``"в понедельник 12 мая в 07:00 МСК"``, ``"в понедельник 12 января 2026 г. в 07:00 МСК"``.
    en: ``"today at 13:00 Moscow time"``, ``"tomorrow, Tuesday 13 May, at 07:00 Moscow time"``,
    ``"on Monday, 12 May at 07:00 Moscow time"``, ``"on Monday, 12 January 2026 at ..."``.
    The year is named only when it differs from the year of ``now``.
    """
    _require_aware(dt, "dt")
    _require_aware(now, "now")
    code = _lang(lang)
    local_now = now.astimezone(dt.tzinfo)
    delta_days = (dt.date() - local_now.date()).days
    clock = dt.strftime("%H:%M")
    zone = _zone_label(dt, code)
    weekday = dt.weekday()
    if code == "ru":
        day_month = f"{dt.day} {_RU_MONTHS_GENITIVE[dt.month - 1]}"
        if dt.year != local_now.year:
            day_month += f" {dt.year} г."
        if delta_days == 0:
            return f"сегодня в {clock} {zone}"
        if delta_days == 1:
            return f"завтра, {_RU_WEEKDAYS[weekday]} {day_month}, в {clock} {zone}"
        return f"{_RU_WEEKDAYS[weekday]} {day_month} в {clock} {zone}"
    day_month = f"{dt.day} {_EN_MONTHS[dt.month - 1]}"
    if dt.year != local_now.year:
        day_month += f" {dt.year}"
    if delta_days == 0:
        return f"today at {clock} {zone}"
    if delta_days == 1:
        return f"tomorrow, {_EN_WEEKDAYS[weekday]} {day_month}, at {clock} {zone}"
    return f"on {_EN_WEEKDAYS[weekday]}, {day_month} at {clock} {zone}"


def _hours_sentence(schedule: Schedule, now: datetime, code: str) -> str:
    zone = _zone_label(now.astimezone(schedule.tz), code)
    start, end = _clock(schedule.start), _clock(schedule.end)
    if code == "ru":
        return (
            f"Режим работы: по будним дням с {start} до {end} {zone}, кроме выходных "
            "и праздничных дней по календарю РФ (п. 2.1 регламента)."
        )
    return (
        f"Working hours: weekdays from {start} to {end} {zone}, except weekends and public "
        "holidays of the Russian Federation (clause 2.1 of the regulation)."
    )


def status_text(schedule: Schedule, now: datetime, lang: str) -> str:
    """Whether support is working now; if not, when the next working period starts (2.1)."""
    _require_aware(now, "now")
    code = _lang(lang)
    closes = schedule.closes_at(now)
    if closes is not None:
        zone = _zone_label(closes, code)
        local_now = now.astimezone(schedule.tz)
        # A period ends on its own day, or at 24:00 (midnight of the next day).
        clock = "24:00" if closes.date() != local_now.date() else closes.strftime("%H:%M")
        if code == "ru":
            return (
                f"Служба технической поддержки сейчас работает, сегодня до {clock} {zone} "
                "(п. 2.1 регламента)."
            )
        return (
            f"Support is working now, today until {clock} {zone} (clause 2.1 of the regulation)."
        )
    opening = format_opening(schedule.next_opening(now), now, code)
    if code == "ru":
        return (
            "Служба технической поддержки сейчас не работает. Ближайшее рабочее время "
            f"начнётся {opening}. {_hours_sentence(schedule, now, code)}"
        )
    return (
        f"Support is not working now. The next working period starts {opening}. "
        f"{_hours_sentence(schedule, now, code)}"
    )


def expectations_text(lang: str, critical: bool) -> str:
    """Order of handling (2.2), no promised resolution time (2.4), reaction time and that calling
    or filing again does not help (2.5)."""
    code = _lang(lang)
    if code == "ru":
        if critical:
            order = (
                "Обращение отмечено как критичное: такие обращения, требующие экстренного "
                "вмешательства (например, восстановления работы сайта), могут обрабатываться "
                "вне очереди; остальные обрабатываются в порядке поступления (п. 2.2 регламента)."
            )
        else:
            order = (
                "Обращения обрабатываются в порядке поступления; критичные, требующие "
                "экстренного вмешательства, могут обрабатываться вне очереди "
                "(п. 2.2 регламента)."
            )
        return (
            f"{order} Время реакции зависит от общей загрузки поддержки и может составлять "
            "от нескольких часов до нескольких дней (п. 2.5 регламента). Срок решения вопроса "
            "поддержка гарантировать не может (п. 2.4 регламента). Звонить в поддержку по "
            "телефону или создавать новое обращение по тому же вопросу не нужно: как правило, "
            "это не ускорит решение (п. 2.5 регламента)."
        )
    if critical:
        order = (
            "Your request is marked as critical: requests that need urgent intervention (for "
            "example, bringing a site back up) may be handled out of turn; all others are "
            "handled in order of arrival (clause 2.2 of the regulation)."
        )
    else:
        order = (
            "Requests are handled in order of arrival; critical ones that need urgent "
            "intervention may be handled out of turn (clause 2.2 of the regulation)."
        )
    return (
        f"{order} The reaction time depends on the overall load of support and can range from "
        "a few hours to a few days (clause 2.5 of the regulation). Support cannot guarantee a "
        "resolution time (clause 2.4 of the regulation). There is no need to call support or "
        "file a new request about the same issue: as a rule, it will not speed things up "
        "(clause 2.5 of the regulation)."
    )


def critical_after_hours_text(schedule: Schedule, now: datetime, lang: str) -> str:
    """For a critical request outside working hours: plainly, nobody handles it before the next
    working period. Returns ``""`` while support is open (nothing to add then)."""
    _require_aware(now, "now")
    code = _lang(lang)
    if schedule.is_open(now):
        return ""
    opening = format_opening(schedule.next_opening(now), now, code)
    if code == "ru":
        return (
            "Сейчас нерабочее время, и критичные обращения тоже ждут начала рабочего времени: "
            f"служба поддержки приступит к работе {opening}. Тогда ваше обращение может быть "
            "взято вне очереди (пп. 2.1, 2.2 регламента)."
        )
    return (
        "It is outside working hours now, and critical requests also wait for the next working "
        f"period: support starts work {opening}. Your request may then be taken out of turn "
        "(clauses 2.1 and 2.2 of the regulation)."
    )
