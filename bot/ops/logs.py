"""Log output: text as always, or one JSON object per line (FRONTDESK_LOG_FORMAT=json), and in
both cases without the desk's passwords and tokens.

JSON lines carry `time` (UTC, ISO 8601), `level`, `logger`, `message`, the fields a call passed
with `extra={...}`, and `exception` with the traceback when there is one: what a log shipper
(Loki, Elasticsearch, journald's JSON mode) indexes without a parsing rule.

Secrets are removed from every line before it is written, whatever library logged it (an aiohttp
error quoting the Bot API URL carries the bot token; a Redis URL may carry its password):

- the configured secrets themselves (FRONTDESK_TELEGRAM_TOKEN, the SMTP and IMAP passwords, the
  password inside FRONTDESK_REDIS_URL), wherever they appear;
- anything shaped like a Telegram bot token, and the password part of a URL (`//user:pw@`);
- when a line mentions a password, key, token or secret, the customer-text rules of
  bot/policy/secrets.py (4.2.7). They are not run on every line: they cost ~60 µs per line,
  which the desk's own lines (ids, counters, addresses) do not need. The entry point hands them
  in (`configure(..., redact=...)`), so that this package stays below the regulation's rules in
  the layers of imports and the desk, the outbox and the channels can all count through it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bot.config import Settings

__all__ = ["REDACTED", "JsonFormatter", "Redact", "SecretsFilter", "configure", "secrets_of"]

REDACTED = "[скрыто]"  # as bot/policy/secrets.py marks what it hides in customer text
Redact = Callable[[str], tuple[str, int]]  # text -> (text with secrets hidden, how many)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Not after a word boundary: in the Bot API URL the token follows "bot" (".../bot123:AA.../").
_BOT_TOKEN = re.compile(r"(?<!\d)\d{5,12}:[A-Za-z0-9_-]{30,}")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+(?=@)", re.I)
_MENTIONS_SECRET = re.compile(r"pass|парол|pwd|token|secret|bearer|key|BEGIN ", re.I)

# Attributes every LogRecord has: the rest of a record's attributes came from `extra=`.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in data:
                data[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class SecretsFilter(logging.Filter):
    """Rewrites each record without the secrets (see the module docstring); drops nothing."""

    def __init__(self, secrets: Iterable[str] = (), redact: Redact | None = None) -> None:
        super().__init__()
        self._redact = redact
        # Longest first: a password that contains another one is hidden whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self._traceback = logging.Formatter()

    def hide(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _BOT_TOKEN.sub(REDACTED, text)
        text = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
        if self._redact is not None and _MENTIONS_SECRET.search(text):
            text, _ = self._redact(text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = self.hide(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.hide(record.exc_text)
        for key, value in vars(record).items():
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.hide(value))
        return True


def secrets_of(settings: Settings) -> list[str]:
    """The secret values of the configuration, as they may appear in a log line."""
    found: list[str] = []
    if settings.telegram_token is not None:
        token = settings.telegram_token.get_secret_value()
        found += [token, token.partition(":")[2]]
    for secret in (settings.smtp_password, settings.imap_password):
        if secret is not None:
            found.append(secret.get_secret_value())
    for url in (settings.redis_url, settings.database_url):
        password = urlsplit(url).password if url else None
        if password:
            found.append(password)
    return found


def configure(settings: Settings, handler: logging.Handler, redact: Redact | None = None) -> None:
    """The root logger writes through `handler`, in the configured format, secrets removed
    (`redact`: the rules for secrets in customer text, bot/policy/secrets.py)."""
    handler.setFormatter(
        JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler.addFilter(SecretsFilter(secrets_of(settings), redact))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
