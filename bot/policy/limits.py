"""Rate limits: a persistent sliding-window limiter in the desk's SQLite file.

Every allowed action is one row in ``limit_events`` (kind, key, time). An action is allowed while
fewer than ``rule.limit`` rows of the same (kind, key) fall within the last ``rule.window``; the
check and the insert are ONE SQL statement, so two coroutines on the same connection cannot both
take the last slot. Denied attempts are not recorded (a customer who keeps trying is not pushed
further back). Old rows are pruned every few hundred hits and by :meth:`Limits.prune`.

    limits = await Limits.open(store)  # or Limits.open(Path("var/x.sqlite3"))
    result = await limits.hit_all((TICKETS_HOUR, TICKETS_DAY), "telegram:42", now)
    if not result.allowed:
        reply(limit_text(result, lang, settings, now))  # «… продолжить после 14:35 МСК.»
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings
from bot.tickets.shared_db import DbOrPath, SqlDb, connect, ensure_schema, epoch, from_epoch

log = logging.getLogger(__name__)

TICKETS_HOUR = "tickets_hour"
TICKETS_DAY = "tickets_day"
CODES_HOUR = "codes_hour"
GUIDED_REPLIES_HOUR = "guided_replies_hour"
ORIGIN_POSTS_HOUR = "origin_posts_hour"  # a web form's posts from one IP address

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS limit_events (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS limit_events_key ON limit_events (kind, key, at);
CREATE INDEX IF NOT EXISTS limit_events_at ON limit_events (at)
"""

_PRUNE_EVERY = 200
# The actions of one (kind, key) within a window: kind, key, window start.
_COUNT = "SELECT COUNT(*) FROM limit_events WHERE kind = ? AND key = ? AND at > ?"


@dataclass(frozen=True)
class Rule:
    limit: int
    window: timedelta


@dataclass(frozen=True)
class LimitResult:
    allowed: bool
    retry_at: datetime | None = None  # when denied: the moment one more action will be allowed
    kind: str = ""
    limit: int = 0
    used: int = 0  # actions within the window, after this one when allowed


def _default(setting: str) -> int:
    """The defaults are written once, in :class:`bot.config.Settings` (FRONTDESK_LIMIT_*)."""
    return int(Settings.model_fields[setting].default)


# Setting name (read with getattr, so a settings stand-in need not carry it) -> kind and default.
_SETTINGS: tuple[tuple[str, str, int, timedelta], ...] = tuple(
    (name, kind, _default(name), window)
    for name, kind, window in (
        ("limit_tickets_per_hour", TICKETS_HOUR, HOUR),
        ("limit_tickets_per_day", TICKETS_DAY, DAY),
        ("limit_codes_per_hour", CODES_HOUR, HOUR),
        ("limit_guided_replies_per_hour", GUIDED_REPLIES_HOUR, HOUR),
        ("limit_web_posts_per_hour", ORIGIN_POSTS_HOUR, HOUR),
    )
)

DEFAULT_RULES: Mapping[str, Rule] = {kind: Rule(n, w) for _, kind, n, w in _SETTINGS}


def rules_from_settings(settings: Any) -> dict[str, Rule]:
    """The default rules with any ``limit_*`` setting the Settings object happens to carry."""
    rules = dict(DEFAULT_RULES)
    for name, kind, default, window in _SETTINGS:
        value = getattr(settings, name, None)
        rules[kind] = Rule(int(value) if value is not None else default, window)
    return rules


class Limits:
    def __init__(self, db: SqlDb, rules: Mapping[str, Rule] | None = None) -> None:
        self._db = db
        self.rules: dict[str, Rule] = dict(DEFAULT_RULES if rules is None else rules)
        self._hits = 0

    @classmethod
    async def open(cls, db: DbOrPath, rules: Mapping[str, Rule] | None = None) -> Limits:
        """Limits on the Store (shared connection and write lock) or on a file of their own."""
        shared = await connect(db)
        await ensure_schema(shared, _SCHEMA)
        return cls(shared, rules)

    async def close(self) -> None:
        await self._db.close()

    def _rule(self, kind: str) -> Rule:
        try:
            return self.rules[kind]
        except KeyError:
            raise KeyError(f"no limit rule for kind {kind!r}") from None

    async def peek(self, kind: str, key: str, now: datetime) -> LimitResult:
        """Would :meth:`hit` allow it? Records nothing."""
        rule = self._rule(kind)
        [used] = await self._counts(((kind, key),), (rule,), now)
        if used < rule.limit:
            return LimitResult(True, None, kind, rule.limit, used)
        retry_at = await self._retry_at(kind, key, now, rule)
        return LimitResult(False, retry_at, kind, rule.limit, used)

    async def hit(self, kind: str, key: str, now: datetime) -> LimitResult:
        """Record one action if the limit allows it; otherwise say when it will."""
        return await self.hit_together(((kind, key),), now)

    async def hit_all(self, kinds: Iterable[str], key: str, now: datetime) -> LimitResult:
        """Several windows for one action (tickets: per hour AND per day): all or nothing."""
        return await self.hit_together(tuple((kind, key) for kind in kinds), now)

    async def hit_together(self, actions: Sequence[tuple[str, str]], now: datetime) -> LimitResult:
        """One action that counts under several (kind, key) pairs (a code counts for the customer
        and for the address it goes to): recorded under all of them or under none.

        Allowed: the first pair's result. Denied: nothing is recorded, and the result is the one
        that frees last. Two statements when allowed (count, then the checked insert), whatever
        the number of pairs: every statement is a round trip to a shared database."""
        rules = [self._rule(kind) for kind, _ in actions]
        used = await self._counts(actions, rules, now)
        if all(n < rule.limit for n, rule in zip(used, rules, strict=True)):
            cur = await self._db.write(
                *self._checked_insert(actions, rules, now),
                # Replicas must not both take the last slot of a key.
                serialise=tuple(sorted({f"limit:{kind}:{key}" for kind, key in actions})),
            )
            await self._tick(now)
            if cur.rowcount == len(actions):
                kind, _ = actions[0]
                return LimitResult(True, None, kind, rules[0].limit, used[0] + 1)
            used = await self._counts(actions, rules, now)  # lost a race for the last slot
        denied = [
            LimitResult(False, await self._retry_at(kind, key, now, rule), kind, rule.limit, n)
            for (kind, key), rule, n in zip(actions, rules, used, strict=True)
            if n >= rule.limit
        ] or [LimitResult(False, now, actions[0][0], rules[0].limit, used[0])]  # freed since
        for result in denied:
            log.info("limit %s reached for %s", result.kind, _mask_key(actions[0][1]))
        return max(denied, key=lambda r: r.retry_at or now)

    @staticmethod
    def _checked_insert(
        actions: Sequence[tuple[str, str]], rules: Sequence[Rule], now: datetime
    ) -> tuple[str, tuple[object, ...]]:
        """One INSERT of a row per pair, made only while every pair is under its limit: the
        check and the insert are one statement."""
        at = epoch(now)
        rows = " UNION ALL ".join(["SELECT ? AS kind, ? AS key, ? AS at"] * len(actions))
        checks = " AND ".join([f"({_COUNT}) < ?"] * len(actions))
        params: list[object] = [v for kind, key in actions for v in (kind, key, at)]
        for (kind, key), rule in zip(actions, rules, strict=True):
            params += [kind, key, at - rule.window.total_seconds(), rule.limit]
        sql = (
            "INSERT INTO limit_events (kind, key, at) "
            f"SELECT kind, key, at FROM ({rows}) AS new WHERE {checks}"
        )
        return sql, tuple(params)

    async def record(self, kind: str, key: str, now: datetime) -> None:
        """Record an action that was not subject to the limit; it still fills the window."""
        self._rule(kind)
        await self._db.write(
            "INSERT INTO limit_events (kind, key, at) VALUES (?, ?, ?)", (kind, key, epoch(now))
        )
        await self._tick(now)

    async def undo(self, kind: str, key: str, now: datetime) -> None:
        """Take back the newest event recorded at `now` (the action did not happen after all)."""
        await self._db.write(
            "DELETE FROM limit_events WHERE rowid = (SELECT rowid FROM limit_events "
            "WHERE kind = ? AND key = ? AND at = ? ORDER BY rowid DESC LIMIT 1)",
            (kind, key, epoch(now)),
        )

    async def reset(self, kind: str, key: str) -> None:
        await self._db.write("DELETE FROM limit_events WHERE kind = ? AND key = ?", (kind, key))

    async def prune(self, now: datetime) -> int:
        """Delete events older than the longest window; returns how many."""
        longest = max((r.window for r in self.rules.values()), default=DAY)
        cur = await self._db.write(
            "DELETE FROM limit_events WHERE at <= ?", (epoch(now - longest),)
        )
        return max(cur.rowcount, 0)

    async def _tick(self, now: datetime) -> None:
        self._hits += 1
        if self._hits % _PRUNE_EVERY == 0:
            await self.prune(now)

    async def _counts(
        self, actions: Sequence[tuple[str, str]], rules: Sequence[Rule], now: datetime
    ) -> list[int]:
        """The actions in the window of each pair, in one statement."""
        at = epoch(now)
        columns = ", ".join([f"({_COUNT})"] * len(actions))
        params = [
            v
            for (kind, key), rule in zip(actions, rules, strict=True)
            for v in (kind, key, at - rule.window.total_seconds())
        ]
        row = await self._db.fetch_one(f"SELECT {columns}", tuple(params))
        return [int(n) for n in row]

    async def _retry_at(self, kind: str, key: str, now: datetime, rule: Rule) -> datetime | None:
        """The `limit`-th newest event in the window leaves it at event + window."""
        if rule.limit <= 0:
            return None
        since = epoch(now) - rule.window.total_seconds()
        row = await self._db.fetch_one(
            "SELECT at FROM limit_events WHERE kind = ? AND key = ? AND at > ? "
            "ORDER BY at DESC LIMIT 1 OFFSET ?",
            (kind, key, since, rule.limit - 1),
        )
        if row is None:
            return now
        return from_epoch(float(row[0])) + rule.window


def _mask_key(key: str) -> str:
    """Logs carry no full addresses or ids."""
    channel, _, ident = key.rpartition(":")
    return f"{channel + ':' if channel else ''}{ident[:2]}***"


# --- customer texts ----------------------------------------------------------------------------

_WHAT = {
    TICKETS_HOUR: {
        "ru": "За последний час вы уже подали {limit} обращений — это предел.",
        "en": "You have already filed {limit} requests in the last hour, which is the limit.",
    },
    TICKETS_DAY: {
        "ru": "За последние сутки вы уже подали {limit} обращений — это предел.",
        "en": "You have already filed {limit} requests in the last 24 hours, which is the limit.",
    },
    CODES_HOUR: {
        "ru": "За последний час уже отправлено {limit} кодов подтверждения — это предел.",
        "en": "{limit} verification codes have already been sent in the last hour, "
        "which is the limit.",
    },
    ORIGIN_POSTS_HOUR: {
        "ru": "С вашего адреса за последний час отправлено {limit} форм — это предел.",
        "en": "{limit} forms have been sent from your address in the last hour, "
        "which is the limit.",
    },
    GUIDED_REPLIES_HOUR: {
        "ru": "За последний час я уже ответил на {limit} писем с этого адреса — это предел.",
        "en": "I have already answered {limit} messages from this address in the last hour, "
        "which is the limit.",
    },
}
_GENERIC = {
    "ru": "Слишком много запросов подряд.",
    "en": "Too many requests in a row.",
}
_WHEN = {
    "ru": "Можно будет продолжить после {when}.",
    "en": "You can continue after {when}.",
}
_LATER = {"ru": "Попробуйте немного позже.", "en": "Please try again a little later."}
_DIRECT = {
    "ru": "Если дело срочное, напишите напрямую на {support}.",
    "en": "If it is urgent, write directly to {support}.",
}


def _zone(settings: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(getattr(settings, "timezone", "Europe/Moscow")))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Moscow")


def format_local_time(moment: datetime, lang: str, settings: Any, now: datetime) -> str:
    """«14:35 МСК», or «26.11 в 09:10 МСК» when it is not today (local)."""
    zone = _zone(settings)
    if moment.second or moment.microsecond:  # "after 14:35" must not be a few seconds early
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    local = moment.astimezone(zone)
    if zone.key == "Europe/Moscow":
        label = "МСК" if lang == "ru" else "Moscow time"
    else:
        label = local.strftime("%Z") or zone.key
    clock = local.strftime("%H:%M")
    if local.date() == now.astimezone(zone).date():
        return f"{clock} {label}"
    day = local.strftime("%d.%m") if lang == "ru" else local.strftime("%d %b")
    return f"{day} в {clock} {label}" if lang == "ru" else f"{day}, {clock} {label}"


def limit_text(result: LimitResult, lang: str, settings: Any, now: datetime) -> str:
    """Which limit was hit and when the customer can continue, plainly."""
    lang = lang if lang in _GENERIC else "ru"
    what = _WHAT.get(result.kind, _GENERIC)[lang].format(limit=result.limit)
    parts = [what]
    if result.retry_at is not None:
        when = format_local_time(result.retry_at, lang, settings, now)
        parts.append(_WHEN[lang].format(when=when))
    else:
        parts.append(_LATER[lang])
    if result.kind in (TICKETS_HOUR, TICKETS_DAY):
        support = getattr(settings, "support_address", "support@whatasoft.net")
        parts.append(_DIRECT[lang].format(support=support))
    return " ".join(parts)
