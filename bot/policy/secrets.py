"""Credentials in customer text (regulation 4.2.7, 4.3): find them, redact them, explain why.

Customers often paste "логин admin пароль 123qwe" or an FTP URL into their first message. The desk
never stores or forwards such values: :func:`redact` replaces each secret *value* with
``[скрыто]`` and keeps its label ("пароль: [скрыто]") so the ticket still says what was given, and
:func:`secrets_notice` tells the customer that support asks for access only when it is needed
(4.2.7) and how to give it safely (a temporary account, passwords changed after closure, 4.3).

Talk *about* passwords is not a secret: "пароль не приходит на почту", "забыл пароль от админки",
"пароль должен быть не короче 6 символов", "лицензионный ключ не активируется" stay untouched, and
so do coupons (SM6-NS-ABCD12345) and versions (23.300.0), which the ticket needs (4.2.4, 4.2.5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REDACTED = "[скрыто]"


@dataclass(frozen=True)
class SecretSpan:
    """``text[start:end]`` is a secret value of the given ``kind``."""

    kind: str  # password | url_credentials | private_key | token | login_password
    start: int
    end: int


# A value: a run of non-space characters, optionally quoted.
_VALUE = r"""(?P<q>["'«“`]?)(?P<value>[^\s"'«»“”`]+)(?P=q)?"""
# Sentence punctuation that ends a value rather than belonging to it.
_TRAILING = ".,;:!?)]}»”"

_PASSWORD_LABEL = (
    r"(?:парол[ьяеи]|пасс(?:ворд)?|pass(?:word|wd|phrase)?|pwd|пароль\s+ftp|ftp\s+пароль)"
)
# "пароль от админки: x", "password for ftp = x": a short qualifier before an explicit separator.
_QUALIFIER = r"(?:\s+(?:от|для|к|на|for|to|of)\s+[\w.@/-]+(?:\s+[\w.@/-]+)?)?"

_LABELLED_PASSWORD_SEP = re.compile(
    rf"(?<![\w-]){_PASSWORD_LABEL}{_QUALIFIER}"
    rf"\s*(?P<sep>[:=]|\s[-—–]\s?|\s+is\s+|\s+это\s+)\s*{_VALUE}",
    re.IGNORECASE,
)
# "логин admin пароль 123qwe", "ssh root@host pass Xy7!": no separator, so the value must look
# like a password (see _looks_secret).
_LABELLED_PASSWORD_BARE = re.compile(
    rf"(?<![\w-]){_PASSWORD_LABEL}\s+{_VALUE}",
    re.IGNORECASE,
)
# "логин/пароль: admin/qwe123", "доступы: admin 123qwe", "credentials admin:Secret1".
_COMBINED = re.compile(
    r"(?<![\w-])(?:логин\s*(?:/|и)\s*парол[ьи]|login\s*(?:/|and)\s*password|username\s*/\s*password"
    r"|доступ(?:ы)?\s+(?:в|к|от)\s+[\w-]+|доступы|учётные\s+данные|учетные\s+данные|credentials)\s*[:=-]?\s*"
    r"(?P<value>[^\s/:|]+\s*[/:|]\s*[^\s,;]+|[^\s,;]+\s+[^\s,;]+)",
    re.IGNORECASE,
)
# scheme://user:password@host and bare user:password@host (ssh, ftp, mysql ...).
_URL_CREDENTIALS = re.compile(
    r"(?:(?<=://)|(?<![\w@:/.-]))(?P<user>[\w.%+-]{1,64}):(?P<value>[^\s@/:]{1,128})@"
    r"(?=\[?[\w-]+(?:[.:][\w-]+)*)",
)
_MAIL_LABEL = re.compile(
    r"(?:e-?mail|mailto|mail|почта|эл\.?почта|емейл|емайл|имейл|contact|контакт|адрес|to|from|кому)",
    re.IGNORECASE,
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END (?:[A-Z0-9]+ )*"
    r"PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_BEARER = re.compile(
    r"\b(?:Bearer|Basic|Token)\s+(?P<value>[A-Za-z0-9._~+/=-]{12,})", re.IGNORECASE
)
# Labelled tokens: "API key: ...", "token=...", "secret: ...", "токен: ...".
_TOKEN_LABEL = re.compile(
    r"(?<![\w-])(?:api[\s_-]?key|apikey|api[\s_-]?token|access[\s_-]?(?:key|token)"
    r"|secret(?:[\s_-]?(?:key|access[\s_-]?key))?|client[\s_-]?secret|auth[\s_-]?token|token"
    r"|private[\s_-]?key|webhook|вебхук|токен|секрет(?:ный\s+ключ)?|ключ\s+api|api[\s-]ключ)"
    r"\s*(?:[:=]|\s[-—–]\s?|\s+is\s+|\s+)\s*"
    r"(?P<q>[\"'`]?)(?P<value>[A-Za-z0-9._~+/=:-]{16,})(?P=q)?",
    re.IGNORECASE,
)
# Well-known self-identifying token formats, labelled or not.
_KNOWN_TOKENS = re.compile(
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}\b"  # GitHub
    r"|\bgithub_pat_[A-Za-z0-9_]{40,}\b"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}\b"  # Slack
    r"|\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b"  # Stripe
    r"|\bAIza[0-9A-Za-z_-]{35}\b"  # Google API key
    r"|\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b"  # Telegram bot token
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWT
    r"|(?<=/rest/)\d+/[a-z0-9]{12,}(?=/)",  # Bitrix24 inbound webhook secret
)

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_ACCESS_CONTEXT = re.compile(
    r"\b(?:s?ftp|ssh|login|user(?:name)?|root|admin)\b|\w@\d{1,3}\.\d", re.IGNORECASE
)

# Words that follow "пароль"/"password" when people talk *about* a password.
_STOP_TEXT = """
    не нет ни был была было были стал не- уже все всё тоже также снова опять
    от для к на в во с со по из при и или а но что чтобы как когда если
    должен должна должно должны может могу можно нужно надо нельзя будет
    приходит пришел пришёл придет сменил сменила поменял поменяла изменил восстановить
    сбросить забыл забыла потерял неверный неправильный верный правильный простой сложный
    администратора админа админки пользователя почты
    is not was isn't doesn't does did didn't has have had will should must can cannot can't
    for to of from the a an and or but with reset recovery forgotten forgot expired
    incorrect wrong invalid correct required too does't works working work change changed
    field policy length reset-link link page form too very still again now here there
    always never also just only
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


def _strip_value(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return start, end


def _looks_secret(value: str, *, explicit: bool, russian: bool = False) -> bool:
    """Could ``value`` be a password rather than the next word of a sentence?

    ``explicit``: the label was followed by ``:`` or ``=``; ``russian``: the text around is in
    Russian, so a Latin word after "пароль" is the password itself.
    """
    v = value.strip(_TRAILING)
    if not v or v.lower() in _STOP_WORDS or value.startswith(REDACTED):
        return False
    if re.fullmatch(r"[а-яё-]+", v, re.IGNORECASE):
        return False  # a Russian word: "пароль: простой", "пароль должен ..."
    if re.fullmatch(r"\[скрыто\]|\*+|x+|х+|\.\.\.|…", v, re.IGNORECASE):
        return False  # already masked
    if explicit:
        return True
    if re.fullmatch(r"\d{1,3}", v):
        return False  # "пароль 6 символов", "password 2 times"
    if len(v) < 4:
        return False
    has_digit = any(c.isdigit() for c in v)
    has_symbol = any(not c.isalnum() for c in v)
    mixed_case = any(c.isupper() for c in v[1:]) and any(c.islower() for c in v)
    latin_in_russian = russian and re.fullmatch(r"[a-z]+", v, re.IGNORECASE) is not None
    return has_digit or has_symbol or mixed_case or latin_in_russian


def find_secrets(text: str) -> list[SecretSpan]:
    """Non-overlapping secret values in ``text``, in order of position."""
    if not text:
        return []
    spans: list[SecretSpan] = []

    def add(kind: str, start: int, end: int) -> None:
        start, end = _strip_value(text, start, end)
        if end > start:
            spans.append(SecretSpan(kind, start, end))

    for m in _PRIVATE_KEY.finditer(text):
        add("private_key", m.start(), m.end())
    for m in _KNOWN_TOKENS.finditer(text):
        add("token", m.start(), m.end())
    for m in _URL_CREDENTIALS.finditer(text):
        user = m.group("user")
        if m.group(0).startswith(user) and _MAIL_LABEL.fullmatch(user):
            continue  # "e-mail:ivan@site.ru", "mailto:info@site.ru": an address, not a login
        add("url_credentials", m.start("value"), m.end("value"))
    for m in _BEARER.finditer(text):
        add("token", m.start("value"), m.end("value"))
    for m in _TOKEN_LABEL.finditer(text):
        value = m.group("value")
        if re.search(r"\d", value) or re.search(r"[A-Z].*[a-z]|[a-z].*[A-Z]", value):
            add("token", m.start("value"), m.end("value"))
    # In Russian text, or next to ssh/ftp/login talk, a Latin word after "pass" is a password.
    russian = len(_CYRILLIC.findall(text)) >= len(_LATIN.findall(text)) / 2
    russian = russian or _ACCESS_CONTEXT.search(text) is not None
    for m in _COMBINED.finditer(text):
        last = re.split(r"[\s/:|]+", m.group("value"))[-1]
        if _looks_secret(last, explicit=False, russian=russian):
            add("login_password", m.start("value"), m.end("value"))
    for m in _LABELLED_PASSWORD_SEP.finditer(text):
        explicit = m.group("sep").strip() in (":", "=")
        if _looks_secret(m.group("value"), explicit=explicit, russian=russian):
            add("password", m.start("value"), m.end("value"))
    for m in _LABELLED_PASSWORD_BARE.finditer(text):
        if _looks_secret(m.group("value"), explicit=False, russian=russian):
            add("password", m.start("value"), m.end("value"))
    return _merge(spans)


def _merge(spans: list[SecretSpan]) -> list[SecretSpan]:
    """Overlapping spans become one (the kind of the earliest, widest one wins)."""
    merged: list[SecretSpan] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and s.start < merged[-1].end:
            last = merged[-1]
            if s.end > last.end:
                merged[-1] = SecretSpan(last.kind, last.start, s.end)
            continue
        merged.append(s)
    return merged


def contains_secrets(text: str) -> bool:
    return bool(find_secrets(text))


def redact(text: str) -> tuple[str, int]:
    """``text`` with every secret value replaced by ``[скрыто]``, and how many were replaced."""
    spans = find_secrets(text)
    out = text
    for s in reversed(spans):
        out = out[: s.start] + REDACTED + out[s.end :]
    return out, len(spans)


_NOTICE = {
    "ru": (
        "Похоже, в сообщении были пароль, ключ доступа или токен — мы убрали их из обращения "
        "и нигде не сохранили. Пожалуйста, не присылайте доступы заранее: по регламенту "
        "(п. 4.2.7) сотрудник поддержки сам запросит временный административный доступ к сайту "
        "(а при необходимости — FTP, SSH или панель хостинга), только если без него не обойтись. "
        "Когда попросят, создайте отдельную временную учётную запись администратора, а сразу "
        "после закрытия обращения удалите её или смените пароли (п. 4.3)."
    ),
    "en": (
        "Your message seemed to contain a password, access key or token: we removed it from the "
        "request and did not store it. Please don't send access details in advance: under the "
        "regulation (4.2.7) a support engineer will ask for temporary administrator access to "
        "the site (and FTP, SSH or hosting panel access if needed) only when it is really "
        "required. When asked, create a separate temporary administrator account, and delete it "
        "or change the passwords right after the request is closed (4.3)."
    ),
}


def secrets_notice(lang: str) -> str:
    """What the customer is told when :func:`redact` removed something (``ru`` or ``en``)."""
    return _NOTICE["en" if lang.lower().startswith("en") else "ru"]
