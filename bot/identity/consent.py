"""Consent to personal-data processing (152-FZ), per (channel, user).

The desk asks once, before it keeps a name, an e-mail or a site: the request says what is
processed, why, and where the policy is (``privacy_policy_url`` setting, or the text from
``data/privacy_policy.md``). A refusal stops the intake and points to writing to support directly.
The record keeps when consent was given and to which policy version; a new version asks again
when the caller passes ``version`` to :meth:`Consents.has_consent`.

    consents = await Consents.open(store)
    if not await consents.has_consent("telegram:42", POLICY_VERSION):
        reply(consent_request_text(lang, settings))       # buttons: CONSENT_BUTTONS[lang]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.channel_names import EMAIL, TELEGRAM, WEB
from bot.tickets.shared_db import DbOrPath, SqlDb, connect, ensure_schema

POLICY_PATH = Path(__file__).resolve().parents[2] / "data" / "privacy_policy.md"
POLICY_VERSION = "2026-01"  # the "Версия:" line of data/privacy_policy.md

_SCHEMA = """
CREATE TABLE IF NOT EXISTS consents (
    customer_key TEXT PRIMARY KEY,
    given_at TEXT NOT NULL,
    version TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class ConsentRecord:
    customer_key: str
    given_at: datetime
    version: str


class Consents:
    def __init__(self, db: SqlDb) -> None:
        self._db = db

    @classmethod
    async def open(cls, db: DbOrPath) -> Consents:
        shared = await connect(db)
        await ensure_schema(shared, _SCHEMA)
        return cls(shared)

    async def close(self) -> None:
        await self._db.close()

    async def record(
        self, customer_key: str, now: datetime, version: str = POLICY_VERSION
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("an aware datetime is required")
        await self._db.write(
            "INSERT INTO consents (customer_key, given_at, version) VALUES (?, ?, ?) "
            "ON CONFLICT (customer_key) DO UPDATE SET given_at = excluded.given_at, "
            "version = excluded.version",
            (customer_key, now.isoformat(), version),
        )

    async def get(self, customer_key: str) -> ConsentRecord | None:
        row = await self._db.fetch_one(
            "SELECT given_at, version FROM consents WHERE customer_key = ?", (customer_key,)
        )
        if row is None:
            return None
        return ConsentRecord(customer_key, datetime.fromisoformat(row[0]), str(row[1]))

    async def has_consent(self, customer_key: str, version: str | None = None) -> bool:
        """Consent on record (to `version`, when given: a new policy asks again)."""
        record = await self.get(customer_key)
        return record is not None and (version is None or record.version == version)

    async def withdraw(self, customer_key: str) -> bool:
        """Forget the consent; True if there was one."""
        return await withdraw_consent(self._db, customer_key)


async def withdraw_consent(db: SqlDb, customer_key: str) -> bool:
    await ensure_schema(db, _SCHEMA)
    cur = await db.write("DELETE FROM consents WHERE customer_key = ?", (customer_key,))
    return cur.rowcount > 0


# --- texts -------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _policy_file(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def privacy_policy_text(lang: str, path: Path = POLICY_PATH) -> str:
    """The policy in one language (the file holds Russian, then English after a ``---`` line)."""
    text = _policy_file(path)
    ru, _, en = text.partition("\n---\n")
    return (en if lang == "en" and en.strip() else ru).strip()


def policy_version(path: Path = POLICY_PATH) -> str | None:
    match = re.search(r"^(?:Версия|Version):\s*(\S+)", _policy_file(path), re.MULTILINE)
    return match.group(1) if match else None


def policy_url(settings: Any) -> str | None:
    url = getattr(settings, "privacy_policy_url", None)
    return str(url) if url else None


def _support(settings: Any) -> str:
    return str(getattr(settings, "support_address", None) or "support@whatasoft.net")


_REQUEST = {
    "ru": (
        "Прежде чем оформить обращение, мне нужно ваше согласие на обработку персональных данных "
        "(закон № 152-ФЗ).\n\n"
        "Что я сохраню: имя, адрес электронной почты, адрес сайта, текст обращения и скриншоты.\n"
        "Зачем: чтобы передать обращение в поддержку «Что за софт» и чтобы вам ответили.\n"
        "{policy}\n\n"
        "Отозвать согласие и удалить данные можно в любой момент: {withdraw}\n\n"
        "Вы согласны?"
    ),
    "en": (
        "Before I file your request I need your consent to processing your personal data "
        "(Russian Federal Law 152-FZ).\n\n"
        "What I keep: your name, e-mail address, website address, the text of the request and "
        "screenshots.\n"
        "Why: to pass the request to «Что за софт» support so that they can answer you.\n"
        "{policy}\n\n"
        "You can withdraw consent and delete the data at any time: {withdraw}\n\n"
        "Do you agree?"
    ),
}
_POLICY_LINK = {"ru": "Политика обработки данных: {url}", "en": "Privacy policy: {url}"}
_POLICY_COMMAND = {
    "ru": "Политика обработки данных — по команде /privacy.",
    "en": "The privacy policy: send /privacy.",
}
_POLICY_PAGE = {
    "ru": "Политика обработки данных — по ссылке внизу страницы.",
    "en": "The privacy policy: the link at the foot of the page.",
}
_POLICY_BELOW = {
    "ru": "Политика обработки данных — в конце этого письма.",
    "en": "The privacy policy is at the end of this message.",
}
_WITHDRAW = {
    TELEGRAM: {"ru": "команда /forget.", "en": "send /forget."},
    EMAIL: {
        "ru": "письмо с темой «Удалить мои данные».",
        "en": 'an e-mail with the subject "Forget me".',
    },
    WEB: {
        "ru": "кнопка «Удалить мои данные» внизу страницы формы.",
        "en": "the “Delete my data” button at the foot of the form's page.",
    },
}
_REPLY_HINT = {
    "ru": "Если согласны, ответьте на это письмо словом «Согласен».",
    "en": 'If you agree, reply to this message with "I agree".',
}

CONSENT_BUTTONS = {
    "ru": ("Согласен", "Не согласен"),
    "en": ("I agree", "I do not agree"),
}

_REFUSED = {
    "ru": (
        "Понимаю. Без согласия на обработку данных я не могу оформить обращение и ничего о вас "
        "не сохраню. Вы всегда можете написать в поддержку напрямую на {support} — без бота. "
        "Если передумаете, просто напишите мне снова."
    ),
    "en": (
        "Understood. Without consent to data processing I cannot file a request, and I keep "
        "nothing about you. You can always write to support directly at {support}, without the "
        "bot. If you change your mind, just write to me again."
    ),
}
_GIVEN = {
    "ru": "Спасибо! Согласие записано.",
    "en": "Thank you! Your consent is recorded.",
}

# Replies that count as consent / refusal in the e-mail channel (and as typed answers in Telegram).
_YES = re.compile(r"^\s*(?:да|согласен|согласна|согласны|yes|i agree|agree)\b", re.IGNORECASE)
_NO = re.compile(
    r"^\s*(?:нет|не согласен|не согласна|не согласны|no|i do not agree|i don't agree)\b",
    re.IGNORECASE,
)


def parse_consent_answer(text: str) -> bool | None:
    """True for «Согласен» / "I agree", False for «Не согласен» / "No", None otherwise."""
    if _NO.match(text):
        return False
    if _YES.match(text):
        return True
    return None


def consent_request_text(lang: str, settings: Any, channel: str = TELEGRAM) -> str:
    """The consent request: what, why, where the policy is, how to withdraw.

    Without a ``privacy_policy_url`` setting, Telegram points to /privacy and an e-mail carries
    the policy text at its end.
    """
    lang = lang if lang in _REQUEST else "ru"
    url = policy_url(settings)
    kind = channel if channel in (EMAIL, WEB) else TELEGRAM
    if url:
        policy = _POLICY_LINK[lang].format(url=url)
    else:
        policy = {EMAIL: _POLICY_BELOW, WEB: _POLICY_PAGE}.get(kind, _POLICY_COMMAND)[lang]
    text = _REQUEST[lang].format(policy=policy, withdraw=_WITHDRAW[kind][lang])
    if kind == EMAIL:
        text += "\n" + _REPLY_HINT[lang]
        if not url:
            text += "\n\n---\n\n" + privacy_policy_text(lang)
    return text


def consent_refused_text(lang: str, settings: Any) -> str:
    lang = lang if lang in _REFUSED else "ru"
    return _REFUSED[lang].format(support=_support(settings))


def consent_given_text(lang: str) -> str:
    return _GIVEN[lang if lang in _GIVEN else "ru"]
