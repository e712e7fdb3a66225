"""Blocked senders: an operator-editable list in ``data/blocklist.txt``.

One entry a line, ``#`` comments::

    telegram:123456
    email:spam@example.com
    domain:example.org        # also mail.example.org, a.b.example.org

The file is re-read when its modification time (or size) changes, so operators edit it without a
restart. A malformed line is logged with its number and skipped; a missing file blocks nobody.

    blocklist = Blocklist(Path("data/blocklist.txt"))
    if blocklist.is_blocked("telegram", str(user.id)): ...
    if blocklist.is_blocked("email", "Spam <spam@example.com>"): ...
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from bot.channel_names import EMAIL, TELEGRAM

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "blocklist.txt"

_TELEGRAM_ID = re.compile(r"-?\d{1,20}")
_DOMAIN = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class Entries:
    telegram: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    errors: tuple[str, ...] = field(default=())


def _idna(domain: str) -> str:
    domain = domain.strip().strip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def parse_blocklist(text: str, source: str = "blocklist") -> Entries:
    telegram: set[str] = set()
    emails: set[str] = set()
    domains: set[str] = set()
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, sep, value = line.partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if kind == TELEGRAM and sep and _TELEGRAM_ID.fullmatch(value):
            telegram.add(value)
        elif kind == EMAIL and sep and _ADDRESS.fullmatch(value):
            local, _, domain = value.rpartition("@")
            emails.add(f"{local.lower()}@{_idna(domain)}")
        elif kind == "domain" and sep and _DOMAIN.fullmatch(_idna(value)):
            domains.add(_idna(value))
        else:
            errors.append(f"{source}:{number}: not understood: {raw.strip()[:80]!r}")
    for error in errors:
        log.warning("%s (expected telegram:<id>, email:<address> or domain:<name>)", error)
    return Entries(frozenset(telegram), frozenset(emails), frozenset(domains), tuple(errors))


class Blocklist:
    def __init__(self, path: Path = DEFAULT_PATH) -> None:
        self.path = path
        self._signature: tuple[int, int] | None = None
        self._entries = Entries()

    @property
    def errors(self) -> tuple[str, ...]:
        """Malformed lines of the last load (also logged as warnings)."""
        self._refresh()
        return self._entries.errors

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self._signature != (-1, -1):
                log.info("no blocklist at %s: nobody is blocked", self.path)
            self._signature, self._entries = (-1, -1), Entries()
            return
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature == self._signature:
            return
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.error("cannot read blocklist %s: %s; keeping the previous list", self.path, exc)
            return
        self._entries = parse_blocklist(text, str(self.path))
        self._signature = signature
        log.info(
            "blocklist loaded: %d telegram ids, %d addresses, %d domains",
            len(self._entries.telegram), len(self._entries.emails), len(self._entries.domains),
        )  # fmt: skip

    def is_blocked(self, channel: str, user_id_or_address: str) -> bool:
        """Is this Telegram user id or e-mail sender on the list?"""
        self._refresh()
        entries = self._entries
        value = user_id_or_address.strip()
        if channel == TELEGRAM:
            return value in entries.telegram
        if channel == EMAIL:
            address = parseaddr(value)[1] or value
            local, at, domain = address.rpartition("@")
            if not at:
                return False
            domain = _idna(domain)
            if f"{local.lower()}@{domain}" in entries.emails:
                return True
            labels = domain.split(".")
            return any(".".join(labels[i:]) in entries.domains for i in range(len(labels)))
        return False
