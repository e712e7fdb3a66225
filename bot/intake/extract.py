"""Extraction of 4.2 fields from free text: nobody is asked twice for what they already wrote.

Two kinds of evidence: labelled lines ("Сайт: example.ru", the e-mail form's labels) and values
that are unambiguous on their own (a URL, an e-mail address, a `23.300.0` version, a labelled
edition or coupon). Whatever is recognised is removed from the text; what remains, if it reads
like prose, is the description.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.intake.fields import (
    EDITION_NAMES_EN,
    EDITIONS,
    Field,
    Valid,
    clean_text,
    validate,
    validate_edition,
)

# Labels the e-mail form writes and the parser recognises (Russian first, English second).
LABELS: dict[Field, tuple[str, ...]] = {
    Field.DESCRIPTION: (
        "описание проблемы",
        "описание",
        "проблема",
        "вопрос",
        "description",
        "problem",
    ),
    Field.STEPS: (
        "шаги воспроизведения",
        "шаги для воспроизведения",
        "как воспроизвести",
        "шаги",
        "steps to reproduce",
        "steps",
    ),
    Field.SITE_URL: ("адрес сайта", "сайт", "url", "site url", "site", "website", "домен"),
    Field.EDITION: ("редакция продукта", "редакция", "edition"),
    Field.VERSION: ("версия продукта", "версия", "version"),
    Field.COUPON: ("номер купона", "купон", "coupon number", "coupon"),
    Field.CONTACT_EMAIL: (
        "e-mail для ответа",
        "email для ответа",
        "e-mail",
        "email",
        "почта",
        "эл. почта",
        "электронная почта",
        "contact e-mail",
        "contact email",
        "mail",
    ),
}

_LABEL_TO_FIELD = sorted(
    ((label, fld) for fld, labels in LABELS.items() for label in labels),
    key=lambda pair: -len(pair[0]),
)
_LABEL_LINE_RE = re.compile(
    r"^\s*[-*•]?\s*(?P<label>"
    + "|".join(re.escape(label) for label, _ in _LABEL_TO_FIELD)
    + r")\s*(?:[:：=—–-]|\s-\s)\s*(?P<value>.*)$",
    re.IGNORECASE,
)

_URL_RE = re.compile(r"\bhttps?://[^\s<>\"'«»]+", re.IGNORECASE)
_TLDS = (
    "ru|рф|su|com|net|org|info|biz|pro|by|kz|ua|uz|am|ge|kg|io|me|tech|dev|app|online|site|store|"
    "shop|moscow|москва|рус|de|eu|uk|us|co|club|space|xyz|top|agency|group|travel|msk|spb|art|"
    "xn--p1ai|xn--80adxhks|xn--p1acf"
)
_BARE_DOMAIN_RE = re.compile(
    r"(?<![@\w./:-])((?:www\.)?(?:[a-zа-яё0-9](?:[a-zа-яё0-9-]{0,61}[a-zа-яё0-9])?\.)+(?:"
    + _TLDS
    + r"))"
    r"(?::\d{2,5})?(?:/[^\s<>\"'«»]*)?(?![\w@-])",
    re.IGNORECASE,
)
_EMAIL_IN_TEXT_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9\u0400-\u04ff.-]+\.[A-Za-z\u0400-\u04ff]{2,24}(?![\w-])"
)
# A product version; not a part of an IP address, and not the version of PHP, MySQL and the like.
_VERSION_IN_TEXT_RE = re.compile(r"(?<![\d.])(\d{1,2}\.\d{1,3}\.\d{1,4})(?![\d.]*\d)")
_FOREIGN_VERSION_RE = re.compile(
    r"(php|mysql|mariadb|nginx|apache|centos|debian|ubuntu|bitrixvm|vm|node|python|percona|"
    r"postgres\w*|redis|memcached?|windows|chrome|firefox|safari|opera|яндекс|edge|ie)\s*v?\s*$",
    re.IGNORECASE,
)


def _names_pattern(names: Iterable[str]) -> str:
    """Edition names as regular-expression alternatives, longest first ("малый бизнес" before
    "бизнес"); the dash in "Корпоративный портал — Энтерпрайз" matches a dash or a hyphen, spaced
    or not."""
    return "|".join(
        r"\s*[—-]\s*".join(re.escape(part) for part in re.split(r"\s*—\s*", name.lower()))
        for name in sorted(names, key=len, reverse=True)
    )


# An edition named in free text (the names are bot.tickets.values's): after "редакция", "лицензия"
# or "edition" in either language, or in Russian before "редакция" ("Бизнес редакция").
_EDITION_IN_TEXT_RE = re.compile(
    r"(?:редакци[яиюей]|лицензи[яиюей]|edition|управление сайтом)\s*[:—–-]?\s*«?\"?"
    rf"({_names_pattern([*EDITIONS, *EDITION_NAMES_EN.values()])})\b"
    rf"|\b({_names_pattern(EDITIONS)})»?"
    r"\"?\s+редакци",
    re.IGNORECASE,
)
_COUPON_LABEL_RE = re.compile(
    r"(?:купон\w*|coupon)\s*(?:[№#]|(?:no\.?|номер)\b)?\s*[:—–-]?\s*([A-Za-z0-9-]{5,80})",
    re.IGNORECASE,
)
_VERSION_LABEL_RE = re.compile(
    r"(?:верси[яиюей]|version)\s*(?:продукта|битрикс\w*)?\s*[:—–-]?\s*v?"
    r"(\d{1,2}\.\d{1,3}\.\d{1,4})",
    re.IGNORECASE,
)
_FILE_SUFFIXES = (
    ".php",
    ".js",
    ".css",
    ".html",
    ".htm",
    ".jpg",
    ".png",
    ".gif",
    ".log",
    ".txt",
    ".xml",
    ".json",
    ".tar",
    ".gz",
    ".zip",
    ".sql",
    ".bmp",
)


@dataclass
class Extracted:
    values: dict[Field, str] = field(default_factory=dict)  # raw text per recognised field
    rest: str = ""  # the text left once recognised values are taken out
    prose: str = (
        ""  # the message without its labelled lines: the description in the customer's words
    )

    @property
    def has_prose(self) -> bool:
        """Whether anything beyond field values was said (a description candidate)."""
        words = re.findall(r"[^\W\d_]{2,}", self.rest)
        return len(words) >= 3 and sum(len(w) for w in words) >= 12


def _labelled(text: str, extracted: Extracted) -> str:
    """Take out labelled lines; a description/steps value runs on until the next label."""
    kept: list[str] = []
    current: Field | None = None
    for line in text.splitlines():
        match = _LABEL_LINE_RE.match(line)
        if match:
            label = match.group("label").lower()
            current = next(fld for lbl, fld in _LABEL_TO_FIELD if lbl == label)
            value = match.group("value").strip()
            if value:
                extracted.values[current] = value
            elif current not in (Field.DESCRIPTION, Field.STEPS):
                extracted.values.pop(current, None)
            if current not in (Field.DESCRIPTION, Field.STEPS):
                current = None
            continue
        if current is not None and (line.strip() or current in extracted.values):
            previous = extracted.values.get(current, "")
            extracted.values[current] = f"{previous}\n{line}".strip("\n")
            continue
        kept.append(line)
    return "\n".join(kept)


def _take(pattern: re.Pattern[str], text: str, group: int = 0) -> tuple[str | None, str]:
    match = pattern.search(text)
    if not match:
        return None, text
    value = match.group(group) or next((g for g in match.groups() if g), "")
    return value, text[: match.start()] + " " + text[match.end() :]


def _take_version(text: str) -> tuple[str | None, str]:
    value, rest = _take(_VERSION_LABEL_RE, text, 1)
    if value:
        return value, rest
    for match in _VERSION_IN_TEXT_RE.finditer(text):
        if _FOREIGN_VERSION_RE.search(text[max(0, match.start() - 25) : match.start()]):
            continue
        return match.group(1), text[: match.start()] + " " + text[match.end() :]
    return None, text


def _take_site(text: str) -> tuple[str | None, str]:
    value, rest = _take(_URL_RE, text)
    if value:
        return value.rstrip(".,;:!?)"), rest
    for match in _BARE_DOMAIN_RE.finditer(text):
        candidate = match.group(0).rstrip(".,;:!?)")
        if candidate.lower().endswith(_FILE_SUFFIXES):
            continue
        return candidate, text[: match.start()] + " " + text[match.end() :]
    return None, text


def extract_fields(text: str, coupon_pattern: str) -> Extracted:
    """Recognise whatever 4.2 fields a message contains; validation happens in the caller."""
    text = clean_text(text)
    extracted = Extracted()
    rest = _labelled(text, extracted)
    extracted.prose = rest.strip()
    values = extracted.values

    if Field.CONTACT_EMAIL not in values:
        email, rest = _take(_EMAIL_IN_TEXT_RE, rest)
        if email:
            values[Field.CONTACT_EMAIL] = email
    if Field.SITE_URL not in values:
        site, rest = _take_site(rest)
        if site:
            values[Field.SITE_URL] = site
    if Field.VERSION not in values:
        version, rest = _take_version(rest)
        if version:
            values[Field.VERSION] = version
    if Field.EDITION not in values:
        match = _EDITION_IN_TEXT_RE.search(rest)
        if match:
            edition = next(g for g in match.groups() if g)
            if isinstance(validate_edition(edition), Valid):
                values[Field.EDITION] = edition
                rest = rest[: match.start()] + " " + rest[match.end() :]
    if Field.COUPON not in values:
        match = _COUPON_LABEL_RE.search(rest)
        if match and isinstance(validate(Field.COUPON, match.group(1), coupon_pattern), Valid):
            values[Field.COUPON] = match.group(1)
            rest = rest[: match.start()] + " " + rest[match.end() :]
        else:
            # An unlabelled coupon: a whole token in the configured format with letters and digits.
            for token in re.findall(
                r"(?<![\w-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+){2,5}(?![\w-])", rest
            ):
                upper = token.upper()
                if (
                    not upper.startswith("WAS-")
                    and re.search(r"\d", upper)
                    and re.search(r"[A-Z]", upper)
                    and re.fullmatch(coupon_pattern, upper)
                ):
                    values[Field.COUPON] = token
                    rest = rest.replace(token, " ", 1)
                    break
    extracted.rest = _tidy(rest)
    return extracted


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(line for line in lines if line.strip(" ,.;:-—"))
    return text.strip(" ,;:-—\n")
