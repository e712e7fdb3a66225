"""The fields clause 4.2 requires, and their validators.

A validator takes the customer's raw answer and returns either the normalised value or the key of a
reason (rendered in the customer's language by `texts.py`). Validators never raise on bad input.
An accepted value may carry a note for the agent (`Valid.note`): an edition the desk does not know
is kept as written (EDITION_UNKNOWN, 4.2.4), "no coupon, it is a demo version" is accepted as
«не знаю» (COUPON_DEMO, 4.2.5). «Не знаю» is accepted for every field but the description and the
contact e-mail (the answer has to go somewhere, 4.1).
The vocabulary they check against (editions, «не знаю», the coupon's normal form) is
`bot.tickets.values`, shared with the coupon registry; its names are re-exported here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from bot.address import host_to_ascii, host_to_unicode, parse_address
from bot.tickets.values import DEFAULT_PRODUCT as DEFAULT_PRODUCT
from bot.tickets.values import EDITION_ALIASES as EDITION_ALIASES
from bot.tickets.values import EDITION_NAMES_EN as EDITION_NAMES_EN
from bot.tickets.values import EDITIONS as EDITIONS
from bot.tickets.values import KNOWN_EDITIONS as KNOWN_EDITIONS
from bot.tickets.values import UNKNOWN as UNKNOWN
from bot.tickets.values import canonical_edition
from bot.tickets.values import clean_text as clean_text
from bot.tickets.values import edition_products as edition_products
from bot.tickets.values import is_demo_answer as is_demo_answer
from bot.tickets.values import is_unknown_answer as is_unknown_answer
from bot.tickets.values import normalise_coupon as normalise_coupon


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


def edition_name(edition: str, lang: str) -> str:
    """The edition's name for the customer: the English one (EDITION_NAMES_EN) in English; the
    ticket keeps the Russian one."""
    return EDITION_NAMES_EN.get(edition, edition) if lang == "en" else edition


MAX_DESCRIPTION = 10_000
MIN_DESCRIPTION_LETTERS = 10

_VERSION_RE = re.compile(r"[vV]?\s*(\d{1,2}\.\d{1,3}\.\d{1,4})")


# Markers on an accepted value that the agent should hear about (`Valid.note`).
EDITION_UNKNOWN = "edition_unknown"  # 4.2.4: not an edition the desk knows, kept as written
COUPON_DEMO = "coupon_demo"  # 4.2.5: no coupon, the customer runs a demo version

MAX_EDITION = 60  # longer is a sentence, not an edition's name


@dataclass(frozen=True)
class Valid:
    value: str
    display: str = ""  # how the value is shown to a person, when it differs (IDN)
    note: str = ""  # a marker for the agent (EDITION_UNKNOWN, COUPON_DEMO), empty when none


@dataclass(frozen=True)
class Invalid:
    reason: str  # key into texts.REASONS


Verdict = Valid | Invalid


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
    """4.2.3. Bare domains get http://; IDN hosts are kept in punycode and shown in Unicode.
    «Не знаю» is accepted as `UNKNOWN` (the agent is told to ask)."""
    text = clean_text(text).strip("<>\"'«»()[],;")
    if not text:
        return Invalid("empty")
    if is_unknown_answer(text):
        return Valid(UNKNOWN)
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
    """4.2.4. A known edition in its Russian name; an edition the desk does not know is kept as
    the customer wrote it, with the EDITION_UNKNOWN note (a new or renamed edition is still an
    answer: the agent checks it). Only what cannot be a name (no letters, a long sentence) is
    refused."""
    text = clean_text(text)
    if not text:
        return Invalid("empty")
    edition = canonical_edition(text)
    if edition is not None:
        return Valid(edition)
    written = " ".join(text.strip("«»\"'“”„ .,;:!?").split())
    if len(written) > MAX_EDITION or not any(ch.isalpha() for ch in written):
        return Invalid("edition_unknown")
    return Valid(written, note=EDITION_UNKNOWN)


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


def validate_coupon(text: str, pattern: str) -> Verdict:
    """4.2.5: the coupon of the purchased product; the format is configurable. Spaces,
    underscores and dashes between its groups are read as the pattern's hyphens. «Не знаю» is
    accepted as `UNKNOWN`; a demo version (no coupon yet) too, with the COUPON_DEMO note."""
    if is_demo_answer(text):
        return Valid(UNKNOWN, note=COUPON_DEMO)
    if is_unknown_answer(text):
        return Valid(UNKNOWN)
    coupon = normalise_coupon(text, pattern)
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
