"""The fields clause 4.2 requires, and their validators.

A validator takes the customer's raw answer and returns either the normalised value or the key of a
reason (rendered in the customer's language by `texts.py`). Validators never raise on bad input.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from bot.address import host_to_ascii, host_to_unicode, parse_address
from bot.text import clean


class Field(StrEnum):
    DESCRIPTION = "description"  # 4.2.1
    STEPS = "steps"  # 4.2.1 ("по возможности")
    SITE_URL = "site_url"  # 4.2.3
    EDITION = "edition"  # 4.2.4
    VERSION = "version"  # 4.2.4
    COUPON = "coupon"  # 4.2.5
    CONTACT_EMAIL = "contact_email"  # 4.1: the official answer goes there


# The order in which missing fields are asked.
FIELD_ORDER: tuple[Field, ...] = (
    Field.DESCRIPTION,
    Field.STEPS,
    Field.SITE_URL,
    Field.EDITION,
    Field.VERSION,
    Field.COUPON,
    Field.CONTACT_EMAIL,
)

UNKNOWN = "не знаю"  # accepted for steps, edition and version: the agent may ask later (4.2.6)

EDITIONS: tuple[str, ...] = (
    "Старт",
    "Стандарт",
    "Малый бизнес",
    "Бизнес",
    "Энтерпрайз",
    "Корпоративный портал",
    "Корпоративный портал — Энтерпрайз",
)
EDITION_ALIASES: dict[str, str] = {
    "старт": "Старт",
    "start": "Старт",
    "стандарт": "Стандарт",
    "standard": "Стандарт",
    "малый бизнес": "Малый бизнес",
    "small business": "Малый бизнес",
    "бизнес": "Бизнес",
    "business": "Бизнес",
    "энтерпрайз": "Энтерпрайз",
    "enterprise": "Энтерпрайз",
    "корпоративный портал": "Корпоративный портал",
    "корп портал": "Корпоративный портал",
    "corporate portal": "Корпоративный портал",
    "корпоративный портал энтерпрайз": "Корпоративный портал — Энтерпрайз",
    "корпоративный портал — энтерпрайз": "Корпоративный портал — Энтерпрайз",
    "корпоративный портал - энтерпрайз": "Корпоративный портал — Энтерпрайз",
    "corporate portal enterprise": "Корпоративный портал — Энтерпрайз",
}

# The editions' English names, for English-speaking customers (the ticket keeps the Russian ones).
EDITION_NAMES_EN: dict[str, str] = {
    "Старт": "Start",
    "Стандарт": "Standard",
    "Малый бизнес": "Small Business",
    "Бизнес": "Business",
    "Энтерпрайз": "Enterprise",
    "Корпоративный портал": "Corporate Portal",
    "Корпоративный портал — Энтерпрайз": "Corporate Portal Enterprise",
}


def edition_name(edition: str, lang: str) -> str:
    return EDITION_NAMES_EN.get(edition, edition) if lang == "en" else edition


DEFAULT_PRODUCT = "1С-Битрикс: Управление сайтом"

MAX_DESCRIPTION = 10_000
MIN_DESCRIPTION_LETTERS = 10

_UNKNOWN_ANSWERS = {
    "не знаю",
    "незнаю",
    "хз",
    "нет",
    "не",
    "не помню",
    "неизвестно",
    "без шагов",
    "-",
    "—",
    "don't know",
    "dont know",
    "i don't know",
    "unknown",
    "no",
    "none",
    "n/a",
    "na",
    "skip",
    "пропустить",
    "не могу сказать",
}

_VERSION_RE = re.compile(r"[vV]?\s*(\d{1,2}\.\d{1,3}\.\d{1,4})")


@dataclass(frozen=True)
class Valid:
    value: str
    display: str = ""  # how the value is shown to a person, when it differs (IDN)


@dataclass(frozen=True)
class Invalid:
    reason: str  # key into texts.REASONS


Verdict = Valid | Invalid


def clean_text(text: str) -> str:
    """Cleaned as at the desk's door (`bot.text.clean`: control characters become spaces, never
    glue words), normalised to NFC, stripped. Validators see only such text."""
    return unicodedata.normalize("NFC", clean(text)).strip()


def is_unknown_answer(text: str) -> bool:
    return clean_text(text).lower().strip(" .!") in _UNKNOWN_ANSWERS


def validate_description(text: str) -> Verdict:
    text = clean_text(text)
    letters = sum(ch.isalpha() for ch in text)
    if not text:
        return Invalid("empty")
    if letters < MIN_DESCRIPTION_LETTERS:
        return Invalid("description_short")
    return Valid(text[:MAX_DESCRIPTION])


def validate_steps(text: str) -> Verdict:
    text = clean_text(text)
    if not text:
        return Invalid("empty")
    if is_unknown_answer(text):
        return Valid(UNKNOWN)
    return Valid(text[:MAX_DESCRIPTION])


def _ipv4(host: str) -> str | None:
    """An intranet portal may live at a bare IPv4 address."""
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        return None


def validate_site_url(text: str) -> Verdict:
    """4.2.3. Bare domains get http://; IDN hosts are kept in punycode and shown in Unicode."""
    text = clean_text(text).strip("<>\"'«»()[],;")
    if not text:
        return Invalid("empty")
    if any(ch.isspace() for ch in text):
        return Invalid("url_spaces")
    if "@" in text.split("/")[0] and "://" not in text:
        return Invalid("url_is_email")
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):(?!\d)", text, re.IGNORECASE)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return Invalid("url_scheme")
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return Invalid("url_invalid")
    if parts.scheme.lower() not in ("http", "https"):
        return Invalid("url_scheme")
    host = host_to_ascii(parts.hostname or "") or _ipv4(parts.hostname or "")
    if host is None:
        return Invalid("url_invalid")
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path or "/"
    url = urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))
    display_netloc = host_to_unicode(host) if port is None else f"{host_to_unicode(host)}:{port}"
    display = urlunsplit((parts.scheme.lower(), display_netloc, path, parts.query, ""))
    return Valid(url, display if display != url else "")


def validate_edition(text: str) -> Verdict:
    text = clean_text(text)
    if not text:
        return Invalid("empty")
    if is_unknown_answer(text):
        return Valid(UNKNOWN)
    key = " ".join(re.sub(r"[«»\"'.,!]", " ", text.lower()).replace("ё", "е").split())
    key = key.removeprefix("редакция ").removeprefix("edition ").strip()
    if key in EDITION_ALIASES:
        return Valid(EDITION_ALIASES[key])
    for edition in EDITIONS:
        if key == edition.lower():
            return Valid(edition)
    return Invalid("edition_unknown")


def validate_version(text: str) -> Verdict:
    text = clean_text(text)
    if not text:
        return Invalid("empty")
    if is_unknown_answer(text):
        return Valid(UNKNOWN)
    match = _VERSION_RE.fullmatch(text.strip(" .")) or _VERSION_RE.search(text)
    if not match or len(text) > 60:
        return Invalid("version_format")
    return Valid(match.group(1))


def normalise_coupon(text: str) -> str:
    return re.sub(r"\s+", "", clean_text(text)).upper().replace("—", "-").replace("–", "-")


def validate_coupon(text: str, pattern: str) -> Verdict:
    """4.2.5: the coupon of the purchased product; the format is configurable."""
    coupon = normalise_coupon(text)
    if not coupon:
        return Invalid("empty")
    if re.fullmatch(pattern, coupon) is None:
        return Invalid("coupon_format")
    return Valid(coupon)


def validate_email(text: str) -> Verdict:
    text = clean_text(text).strip("<>\"'«»()[],;.").removeprefix("mailto:")
    if not text:
        return Invalid("empty")
    # One validator for every address the desk mails (bot/address.py): what is accepted here
    # is never refused when the ticket is rendered.
    address = parse_address(text)
    if address is None:
        return Invalid("email_format")
    return Valid(address.ascii, address.display)


def validate(field: Field, text: str, coupon_pattern: str) -> Verdict:
    if field is Field.DESCRIPTION:
        return validate_description(text)
    if field is Field.STEPS:
        return validate_steps(text)
    if field is Field.SITE_URL:
        return validate_site_url(text)
    if field is Field.EDITION:
        return validate_edition(text)
    if field is Field.VERSION:
        return validate_version(text)
    if field is Field.COUPON:
        return validate_coupon(text, coupon_pattern)
    return validate_email(text)


def version_tuple(version: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return None
