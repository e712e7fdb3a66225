"""Verified contact e-mail: a one-time code before a ticket goes out with an address.

A Telegram customer types an address; before the desk files a ticket with it (Cc/Reply-To) or
sends anything else there, it mails a 6-digit code to that address with a FIXED text (nothing the
customer typed goes into it) and asks the customer to type the code back.

- A code lives 15 minutes and allows 5 attempts; a new code may be requested after 60 s.
- At most 5 codes per hour per customer and 5 per hour per address (:mod:`bot.policy.limits`,
  kind ``codes_hour``, keys ``user:<customer_key>`` and ``address:<address>``).
- Only an HMAC-SHA256 of the code is stored, keyed with a per-install secret kept in
  ``data_dir/verification.key`` (created on first use, mode 0600). The HMAC also binds the code to
  the (customer, address) pair.
- A verified (customer, address) pair is remembered: a returning customer is not asked again.

    verifier = await Verifier.open(store, settings.data_dir)
    started = await verifier.start("telegram:42", "ivan@mail.ru", now)
    if started.status == "sent":  # the guard hands this to the desk, which queues it
        mail = verification_email(addr, started.code, lang, settings, now)
    reply(verification_text(started.status, lang, address=addr, retry_at=started.retry_at, ...))
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from bot.policy.limits import CODES_HOUR, Limits, format_local_time
from bot.tickets.render import OutboundMessage, render_customer_reply
from bot.tickets.shared_db import DbOrPath, SqlDb, connect, ensure_schema, epoch, from_epoch

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5
RESEND_COOLDOWN = timedelta(seconds=60)
CODE_DIGITS = 6
SECRET_FILE = "verification.key"
# The outbox kind for code e-mails: `purge_expired` (bot/identity/forget.py) deletes these rows
# once the code has expired, since the raw message holds the code in clear.
VERIFICATION_KIND = "verification_code"

StartStatus = Literal["sent", "cooldown", "limited", "already_verified"]
CheckStatus = Literal["ok", "wrong", "expired", "too_many", "no_code"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verification_codes (
    customer_key TEXT NOT NULL,
    address TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    sent_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_key, address)
);
CREATE TABLE IF NOT EXISTS verified_addresses (
    customer_key TEXT NOT NULL,
    address TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    PRIMARY KEY (customer_key, address)
)
"""


@dataclass(frozen=True)
class StartResult:
    status: StartStatus
    code: str | None = None  # only when "sent": put it into the e-mail, never log or store it
    retry_at: datetime | None = None  # "cooldown" and "limited"
    expires_at: datetime | None = None  # "sent"

    def __repr__(self) -> str:  # the code never reaches a log line through a repr
        return (
            f"StartResult(status={self.status!r}, code={'***' if self.code else None}, "
            f"retry_at={self.retry_at!r}, expires_at={self.expires_at!r})"
        )


@dataclass(frozen=True)
class CheckResult:
    status: CheckStatus
    attempts_left: int = 0


def normalize_address(address: str) -> str:
    return address.strip().lower()


def mask_address(address: str) -> str:
    """``ivan@mail.ru`` -> ``i***@mail.ru`` (for texts and logs)."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def load_secret(data_dir: Path) -> bytes:
    """The per-install HMAC key, created on first use (0600, never overwritten)."""
    path = data_dir / SECRET_FILE
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            secret = path.read_bytes()
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secret)
    if len(secret) < 16:
        raise ValueError(f"{path} is too short to be a secret key")
    return secret


async def _secret_of(db: DbOrPath, data_dir: Path) -> bytes:
    """The file in the data dir; for a store several replicas share, its own secrets table, so
    that a code mailed by one replica is checked by any."""
    shared_secret = getattr(db, "secret", None) if getattr(db, "shared", False) else None
    if shared_secret is None:
        return await asyncio.to_thread(load_secret, data_dir)
    value = await shared_secret("verification", lambda: secrets.token_hex(32))
    return bytes.fromhex(str(value))


def _key(customer_key: str) -> str:
    return f"user:{customer_key}"


class Verifier:
    def __init__(self, db: SqlDb, secret: bytes, limits: Limits) -> None:
        self._db = db
        self._secret = secret
        self._limits = limits
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, db: DbOrPath, data_dir: Path, limits: Limits | None = None) -> Verifier:
        """On the Store (shared connection and write lock) or a path; the secret in `data_dir`."""
        shared = await connect(db)
        await ensure_schema(shared, _SCHEMA)
        secret = await _secret_of(db, data_dir)
        return cls(shared, secret, limits or await Limits.open(shared))

    async def close(self) -> None:
        await self._db.close()

    def _hash(self, customer_key: str, address: str, code: str) -> str:
        message = f"{customer_key}\n{address}\n{code}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    async def is_verified(self, customer_key: str, address: str) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM verified_addresses WHERE customer_key = ? AND address = ?",
            (customer_key, normalize_address(address)),
        )
        return row is not None

    async def verified_addresses(self, customer_key: str) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT address FROM verified_addresses WHERE customer_key = ? ORDER BY verified_at",
            (customer_key,),
        )
        return [str(r[0]) for r in rows]

    async def start(self, customer_key: str, address: str, now: datetime) -> StartResult:
        """A new code for (customer, address), unless verified, too soon, or over the limit."""
        address = normalize_address(address)
        async with self._lock:
            if await self.is_verified(customer_key, address):
                return StartResult("already_verified")
            row = await self._db.fetch_one(
                "SELECT sent_at FROM verification_codes WHERE customer_key = ? AND address = ?",
                (customer_key, address),
            )
            if row is not None:
                ready = from_epoch(float(row[0])) + RESEND_COOLDOWN
                if now < ready:
                    return StartResult("cooldown", retry_at=ready)
            # Counted for the customer and for the address: nobody floods one mailbox.
            keys = (_key(customer_key), f"address:{address}")
            limited = await self._limits.hit_together([(CODES_HOUR, key) for key in keys], now)
            if not limited.allowed:
                log.info("verification codes limited for %s", mask_address(address))
                return StartResult("limited", retry_at=limited.retry_at)
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            expires = now + CODE_TTL
            await self._db.write(
                "INSERT INTO verification_codes "
                "(customer_key, address, code_hash, sent_at, expires_at, attempts) "
                "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (customer_key, address) DO UPDATE SET "
                "code_hash = excluded.code_hash, sent_at = excluded.sent_at, "
                "expires_at = excluded.expires_at, attempts = 0",
                (customer_key, address, self._hash(customer_key, address, code), epoch(now),
                 epoch(expires)),
            )  # fmt: skip
            log.info("verification code issued for %s", mask_address(address))
            return StartResult("sent", code=code, expires_at=expires)

    async def check(
        self, customer_key: str, address: str, code: str, now: datetime
    ) -> CheckResult:
        """The customer typed `code`: "ok" remembers the pair and consumes the code."""
        address = normalize_address(address)
        typed = "".join(ch for ch in code if not ch.isspace() and ch != "-")
        async with self._lock:
            row = await self._db.fetch_one(
                "SELECT code_hash, expires_at, attempts FROM verification_codes "
                "WHERE customer_key = ? AND address = ?",
                (customer_key, address),
            )
            if row is None:
                return CheckResult("no_code")
            code_hash, expires_at, attempts = str(row[0]), float(row[1]), int(row[2])
            if attempts >= MAX_ATTEMPTS:
                return CheckResult("too_many")
            if epoch(now) >= expires_at:
                return CheckResult("expired")
            given = self._hash(customer_key, address, typed)
            if hmac.compare_digest(given, code_hash):
                await self._db.write(
                    "INSERT INTO verified_addresses (customer_key, address, verified_at) "
                    "VALUES (?, ?, ?) ON CONFLICT (customer_key, address) "
                    "DO UPDATE SET verified_at = excluded.verified_at",
                    (customer_key, address, now.isoformat()),
                )
                await self._db.write(
                    "DELETE FROM verification_codes WHERE customer_key = ? AND address = ?",
                    (customer_key, address),
                )
                log.info("address %s verified", mask_address(address))
                return CheckResult("ok")
            attempts += 1
            await self._db.write(
                "UPDATE verification_codes SET attempts = ? "
                "WHERE customer_key = ? AND address = ?",
                (attempts, customer_key, address),
            )
            left = MAX_ATTEMPTS - attempts
            return CheckResult("wrong", left) if left > 0 else CheckResult("too_many")

    async def forget(self, customer_key: str) -> int:
        """Drop the customer's codes and verified addresses; returns how many addresses."""
        return await forget_verification(self._db, customer_key)


async def forget_verification(db: SqlDb, customer_key: str) -> int:
    await ensure_schema(db, _SCHEMA)
    await db.write("DELETE FROM verification_codes WHERE customer_key = ?", (customer_key,))
    cur = await db.write("DELETE FROM verified_addresses WHERE customer_key = ?", (customer_key,))
    return max(cur.rowcount, 0)


# --- the e-mail and the customer texts ---------------------------------------------------------

VERIFICATION_SUBJECT = "Код подтверждения / Verification code"

_EMAIL_RU = (
    "Здравствуйте!\n\n"
    "Код: {code}. Он действует 15 минут. Если вы не обращались в поддержку «Что за софт», "
    "просто проигнорируйте это письмо."
)
_EMAIL_EN = (
    "Hello,\n\n"
    "Code: {code}. It is valid for 15 minutes. If you did not contact «Что за софт» (What a "
    "Soft) support, simply ignore this message."
)


def verification_email(
    address: str, code: str, lang: str, settings: Any, now: datetime | None = None
) -> OutboundMessage:
    """The code e-mail: fixed text in both languages (the customer's language first)."""
    if len(code) != CODE_DIGITS or not code.isdigit():
        raise ValueError("a verification code is six digits")
    ru, en = _EMAIL_RU.format(code=code), _EMAIL_EN.format(code=code)
    body = f"{en}\n\n---\n\n{ru}\n" if lang == "en" else f"{ru}\n\n---\n\n{en}\n"
    return render_customer_reply(
        address, VERIFICATION_SUBJECT, body, settings, now=now, kind=VERIFICATION_KIND
    )


_TEXTS: dict[str, dict[str, str]] = {
    "sent": {
        "ru": "Отправил код на {masked}. Введите его сюда — 6 цифр. Код действует 15 минут. "
        "Если письма нет, проверьте папку «Спам».",
        "en": "I sent a code to {masked}. Please type it here: 6 digits. The code is valid for "
        "15 minutes. If the e-mail is not there, check the spam folder.",
    },
    "cooldown": {
        "ru": "Код на {masked} уже отправлен. Новый можно будет запросить через {seconds} с.",
        "en": "A code has already been sent to {masked}. You can ask for a new one in "
        "{seconds} s.",
    },
    "limited": {
        "ru": "Слишком много кодов за последний час. Новый можно будет запросить {when}.",
        "en": "Too many codes in the last hour. You can ask for a new one {when}.",
    },
    "already_verified": {
        "ru": "Адрес {masked} уже подтверждён.",
        "en": "The address {masked} is already verified.",
    },
    "ok": {
        "ru": "Спасибо, адрес {masked} подтверждён.",
        "en": "Thank you, the address {masked} is verified.",
    },
    "wrong": {
        "ru": "Код не подходит. Осталось попыток: {attempts_left}.",
        "en": "That code does not match. Attempts left: {attempts_left}.",
    },
    "expired": {
        "ru": "Срок действия кода истёк. Запросите новый код.",
        "en": "The code has expired. Please ask for a new one.",
    },
    "too_many": {
        "ru": "Слишком много неверных попыток, этот код больше не действует. Запросите новый код.",
        "en": "Too many wrong attempts; this code no longer works. Please ask for a new one.",
    },
    "no_code": {
        "ru": "Для этого адреса нет действующего кода. Запросите код.",
        "en": "There is no active code for this address. Please ask for one.",
    },
}
_LATER = {"ru": "через час", "en": "in an hour"}


def verification_text(
    status: str,
    lang: str,
    *,
    address: str = "",
    retry_at: datetime | None = None,
    now: datetime | None = None,
    attempts_left: int = 0,
    settings: Any = None,
) -> str:
    """What the customer sees for a start or check status (ru/en)."""
    lang = lang if lang in ("ru", "en") else "ru"
    template = _TEXTS[status][lang]
    seconds = 0
    when = _LATER[lang]
    if retry_at is not None and now is not None:
        seconds = max(1, int((retry_at - now).total_seconds() + 0.999))
        local = format_local_time(retry_at, lang, settings, now)
        when = f"после {local}" if lang == "ru" else f"after {local}"
    return template.format(
        masked=mask_address(address) if address else ("адрес" if lang == "ru" else "the address"),
        seconds=seconds or int(RESEND_COOLDOWN.total_seconds()),
        when=when,
        attempts_left=attempts_left,
    )
