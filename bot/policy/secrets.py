"""Credentials in customer text (regulation 4.2.7, 4.3): find them, redact them, explain why.

Customers often paste "логин admin пароль 123qwe", an FTP URL or a piece of ``.settings.php`` into
their first message. The desk never stores or forwards such values: :func:`redact` replaces each
secret *value* with ``[скрыто]`` and keeps its label ("пароль: [скрыто]",
``'password' => '[скрыто]',``) so the ticket still says what was given, and :func:`secrets_notice`
tells the customer that support asks for access only when it is needed (4.2.7) and how to give it
safely (a temporary account, passwords changed after closure, 4.3).

Shapes recognised: labelled phrases in Russian and English ("пароль от админки Qw3rty!",
"password for ftp user bitrix is Hunter22"), config lines (PHP arrays and variables, ``.env``,
JSON), "login / password" and "login:password" pairs, credentials in URLs, private key blocks,
bearer tokens, labelled API keys and self-identifying tokens (AWS key id with its secret, GitHub,
Telegram ...).

Talk *about* passwords is not a secret: "пароль не приходит на почту", "забыл пароль от админки",
"пароль должен быть не короче 6 символов", "лицензионный ключ не активируется" stay untouched, and
so do coupons (SM6-NS-ABCD12345), versions (23.300.0), times (10:30), ticket numbers and e-mail
addresses, which the ticket needs (4.2.4, 4.2.5).

Every pattern is linear: quantifiers next to each other never match the same characters, or are
bounded, so a long paste cannot make redaction hang.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

REDACTED = "[скрыто]"


@dataclass(frozen=True)
class SecretSpan:
    """``text[start:end]`` is a secret value of the given ``kind``."""

    kind: str  # password | url_credentials | private_key | token | login_password
    start: int
    end: int


# Sentence punctuation that ends an unquoted value rather than belonging to it. "!" is not here: a
# password ending in "!" is far more common than the risk of hiding an exclamation mark.
_TRAILING = ".,;:?)]}»”\"'`"

# ---------------------------------------------------------------------------------------------
# Labelled phrases: "пароль: x", "пароль от админки x", "password for ftp user bitrix is x".

_PASSWORD_LABEL = re.compile(
    r"(?<![\w-])(?:парол(?:ь|я|е|и|ем|ю)|пасс(?:ворд)?|pass(?:word|wd|phrase)?|pwd)(?!\w)",
    re.IGNORECASE,
)
# The words after a label: a quoted phrase, a lone separator, or a run of non-space characters
# (":" and "=" inside it stay, trailing ones split off: "пароль: x", "pwd=x").
_TOKEN = re.compile(
    r"""(?:"[^"\n]{1,128}"|'[^'\n]{1,128}'|«[^»\n]{1,128}»|“[^”\n]{1,128}”|`[^`\n]{1,128}`)"""
    r"""(?=[\s.,;!?)]|$)|=>|[:=]|[^\s:=]+(?:[:=]+[^\s:=]+)*"""
)
# A value right after a separator: quoted (spaces allowed) or a run of non-space characters; it
# may start on the next line ("Пароль:\nQw3rty").
_VALUE_AT = re.compile(
    r"""[ \t]{0,8}(?:\r?\n[ \t]{0,8})?"""
    r"""(?:"(?P<dq>[^"\n]{1,128})"|'(?P<sq>[^'\n]{1,128})'|«(?P<gq>[^»\n]{1,128})»"""
    r"""|“(?P<cq>[^”\n]{1,128})”|`(?P<bq>[^`\n]{1,128})`|(?P<bare>\S{1,256}))"""
)
_QUOTE_GROUPS = ("dq", "sq", "gq", "cq", "bq")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EXPLICIT_SEPS = frozenset({":", "=", "=>"})
_SOFT_SEPS = frozenset({"-", "—", "–", "is", "это"})
_PREPOSITIONS = _words("от для к на в во с у из при for to of on at in")
# Words that may stand between the label and the value: "пароль администратора: x",
# "пароль ftp Qw3rty", "password for the admin panel is x".
_SERVICES = _words(
    """ftp sftp ssh mysql db бд root admin админ админки админа администратора администратор
    пользователя почты хостинга сервера сайта панели базы the a an"""
)

# Words that follow "пароль"/"password" when people talk *about* a password; "yes"/"no" as in
# MySQL's "(using password: YES)", which says whether one was sent, not what it was.
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
    yes no да empty пусто пустой
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())
# Product and service names that follow "пароль от ..." ("пароль от личного кабинета Bitrix24").
_BRANDS = _words(
    """bitrix bitrix24 b24 битрикс битрикс24 1c 1с google gmail yandex яндекс mail.ru vk telegram
    whatsapp mysql mariadb postgresql phpmyadmin cpanel ispmanager isp plesk filezilla putty
    wordpress joomla apple icloud microsoft windows outlook github gitlab ftp sftp ssh"""
)

# Values that are data the ticket needs, not secrets (checked where the label is only implied):
# addresses and versions anywhere, ids and "product+version" only next to an unknown login.
_ADDRESS = (
    r"v?\d+(?:\.\d+)+"  # version, IP address
    r"|[a-zа-яё0-9-]+(?:\.[a-zа-яё0-9-]+)*\.[a-zа-яё]{2,}/?"  # domain
    r"|[^@\s]+@[^@\s]+\.[A-Za-zА-Яа-яЁё]{2,}"  # e-mail address
    r"|\S*://\S*"  # URL
    r"|[\w-]+\.(?:php|html?|js|css|txt|log|xml|json|csv|zip|sql|jpe?g|png|gif)"  # file name
)
_ADDRESS_RE = re.compile(_ADDRESS)
_DATA_RE = re.compile(
    _ADDRESS + r"|[A-Z]{2,6}-\d{3,}"  # ticket number
    r"|[A-Z0-9]{2,6}(?:-[A-Z0-9]{2,12}){1,4}"  # coupon, licence key
    r"|[A-Za-z][A-Za-z-]*\d+(?:\.\d+)+"  # product and version: "MySQL8.0"
)
_CYRILLIC_WORD = re.compile(r"[а-яё]+", re.IGNORECASE)
_MASKED = re.compile(r"\[скрыто\]|\*+|x+|х+|\.\.\.|…", re.IGNORECASE)


def _core(value: str) -> str:
    """``value`` without surrounding punctuation and a trailing "!" or "?" (not evidence)."""
    return value.strip(_TRAILING).rstrip("!?")


def _looks_secret(value: str, *, explicit: bool, russian: bool = False) -> bool:
    """Could ``value`` be a password rather than the next word of a sentence?

    ``explicit``: the label was followed by ``:`` or ``=``; ``russian``: the text around is in
    Russian, so a Latin word after "пароль" is the password itself.
    """
    v = _core(value)
    if not v or v.lower() in _STOP_WORDS or REDACTED in value:
        return False
    if re.fullmatch(r"[а-яё-]+", v, re.IGNORECASE):
        return False  # a Russian word: "пароль: простой", "пароль должен ..."
    if _MASKED.fullmatch(v):
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


def _is_address(value: str) -> bool:
    return _ADDRESS_RE.fullmatch(_core(value)) is not None


def _is_data(value: str) -> bool:
    return _DATA_RE.fullmatch(_core(value)) is not None


def _strong(value: str) -> bool:
    """A password with no label right before it: it has to look like one on its own."""
    v = _core(value)
    if len(v) < 6 or not any(c.isdigit() for c in v) or v.lower() in _BRANDS:
        return False
    return _looks_secret(value, explicit=False) and not _is_address(value)


def _quoted_secret(value: str) -> bool:
    """A quoted value after a password label: anything but prose, a mask or a placeholder."""
    v = value.strip()
    if not v or REDACTED in v or _MASKED.fullmatch(v) or v.lower() in _STOP_WORDS:
        return False
    if re.fullmatch(r"[а-яё\s-]+", v, re.IGNORECASE):
        return False  # "пароль «Администратор»": a Russian phrase
    return not re.fullmatch(r"\$\{.*\}|%\w+%|\{\{.*\}\}|<[^<>]*>", v)  # ${DB_PASS}, <пароль>


def _qualifier_word(word: str) -> bool:
    """A word of "от личного кабинета", "for ftp user bitrix": not a sentence, not a secret."""
    w = word.lower()
    if w in _PREPOSITIONS or w in _SERVICES:
        return True
    if w in _STOP_WORDS or not re.fullmatch(r"[\w.@/-]+", word):
        return False
    # Logins such as "bitrix0" or "user1" may name the account; "Qw3rty" may not.
    return not any(c.isdigit() for c in word) or word == w or _is_data(word)


@dataclass(frozen=True)
class _Value:
    start: int
    end: int
    text: str
    quoted: bool


def _value_at(text: str, pos: int) -> _Value | None:
    m = _VALUE_AT.match(text, pos)
    if m is None:
        return None
    for group in _QUOTE_GROUPS:
        if m.group(group) is not None:
            return _Value(m.start(group), m.end(group), m.group(group), True)
    return _Value(m.start("bare"), m.end("bare"), m.group("bare"), False)


def _token_value(tok: re.Match[str]) -> _Value:
    word = tok.group()
    if len(word) >= 2 and word[0] in "\"'«“`" and word[-1] in "\"'»”`":
        return _Value(tok.start() + 1, tok.end() - 1, word[1:-1], True)
    return _Value(tok.start(), tok.end(), word, False)


def _phrase_value(text: str, label: re.Match[str], russian: bool) -> _Value | None:
    """The password value a label introduces, if any."""
    stop = text.find("\n", label.end(), label.end() + 400)
    stop = min(len(text), label.end() + 400) if stop < 0 else stop
    toks: list[re.Match[str]] = []
    for tok in _TOKEN.finditer(text, label.end(), stop):
        toks.append(tok)
        if len(toks) == 8:
            break
    if not toks or (toks[0].start() == label.end() and toks[0].group() not in _EXPLICIT_SEPS):
        return None  # "user:pass@host", "pass-through": the label is part of something else
    words = [t.group() for t in toks]
    prep_led = words[0].lower() in _PREPOSITIONS

    # With a separator: "пароль: x", "пароль от ftp - x", "password for user bitrix is x".
    for i, word in enumerate(words[:7]):
        sep = word.lower()
        if sep in _EXPLICIT_SEPS or sep in _SOFT_SEPS:
            value = _value_at(text, toks[i].end())
            if value is None:
                return None
            explicit = sep in _EXPLICIT_SEPS
            if label.group() == "PWD" and value.text.startswith("/"):
                return None  # the shell's working directory, not a password
            if value.quoted:
                return value if _quoted_secret(value.text) else None
            return value if _looks_secret(value.text, explicit=explicit, russian=russian) else None
        if not _qualifier_word(word) or (i >= 1 and not prep_led):
            break
        # Without a preposition only one word fits: "пароль администратора: x", "pwd ftp = x".
        if not prep_led and word.lower() not in _SERVICES and not _CYRILLIC_WORD.fullmatch(word):
            break

    # Without one: "пароль Qw3rty", "пароль ftp Qw3rty", "пароль от админки Qw3rty".
    first = _token_value(toks[0])
    if prep_led:
        for tok in toks[1:6]:
            value = _token_value(tok)
            if _quoted_secret(value.text) if value.quoted else _strong(value.text):
                return value
            if value.quoted or not _qualifier_word(tok.group()):
                return None
        return None
    if first.quoted:
        return first if _quoted_secret(first.text) else None
    if first.text.lower() in _SERVICES and len(toks) > 1:
        value = _token_value(toks[1])
        if value.quoted:
            return value if _quoted_secret(value.text) else None
        if _is_address(value.text) or value.text.lower() in _BRANDS:
            return None
        return value if _looks_secret(value.text, explicit=False, russian=russian) else None
    return first if _looks_secret(first.text, explicit=False, russian=russian) else None


# ---------------------------------------------------------------------------------------------
# Config and code: 'password' => 'x', $DBPassword = "x";, DB_PASSWORD=x, "api_key": "x".

# The key and its separator; the value is read separately (_CONFIG_VALUE), so a key inside
# another key's value ("ID:DB_PASSWORD=x") is still seen, as it will be on a second pass.
_CONFIG = re.compile(
    r"""(?<![\w$.-])(?:(?P<q>["'`])(?P<qkey>[A-Za-z_][\w.-]{0,63})(?P=q)"""
    r"""|(?P<key>\$?[A-Za-z_][\w.-]{0,63}))"""
    r"""[ \t]{0,8}(?P<sep>=>|:=|=|:)[ \t]{0,8}"""
)
_CONFIG_VALUE = re.compile(
    r""""(?P<dq>(?:[^"\\\n]|\\.){1,512})"|'(?P<sq>(?:[^'\\\n]|\\.){1,512})'"""
    r"""|(?P<bare>[^\s"'`]\S{0,255})"""
)
# PHP constants: define('DB_PASSWORD', 'x');
_DEFINE = re.compile(
    r"""\bdefine\([ \t]{0,8}["'](?P<key>\w{1,64})["'][ \t]{0,8},[ \t]{0,8}"""
    r"""(?:"(?P<dq>(?:[^"\\\n]|\\.){1,512})"|'(?P<sq>(?:[^'\\\n]|\\.){1,512})')""",
    re.IGNORECASE,
)
_KEY_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_PASSWORD_KEYS = frozenset({"password", "passwd", "pass", "pwd", "pw", "passphrase"})
_NOT_PASS = frozenset({"bypass", "compass", "surpass", "overpass", "underpass", "trespass"})
_TOKEN_KEYS = frozenset({"token", "secret", "apikey", "passkey"})
_KEY_PREFIXES = frozenset(
    {"api", "secret", "access", "private", "auth", "client", "crypto", "encryption", "signing"}
)
_PAIRED_SUFFIXES = frozenset({"confirm", "confirmation", "repeat", "again", "new", "old"})
_NOT_VALUES = frozenset({"true", "false", "null", "none", "nil", "undefined"})


def _key_kind(key: str) -> str | None:
    """``password``/``token`` when a config key names a secret: DBPassword, MYSQL_ROOT_PASSWORD,
    db_pass, api_key, crypto_key, password_confirm; ``None`` for login, host, password_length."""
    parts = [p.lower() for p in _KEY_PART.findall(key)]
    if not parts:
        return None
    last, prev = parts[-1], (parts[-2] if len(parts) > 1 else "")
    if last in _PAIRED_SUFFIXES and prev in _PASSWORD_KEYS:
        return "password"
    if last in _PASSWORD_KEYS or last.endswith(("password", "passwd")):
        return "password"
    if last.endswith("pass") and last not in _NOT_PASS:
        return "password"
    if last in _TOKEN_KEYS or last.endswith(("token", "secret", "apikey")):
        return "token"
    if last == "key" and prev in _KEY_PREFIXES:
        return "token"
    return None


def _config_spans(text: str) -> Iterator[SecretSpan]:
    for m in _CONFIG.finditer(text):
        key = m.group("qkey") or m.group("key")
        quoted_key = m.group("qkey") is not None
        # A lone lowercase word ("password: x") is prose-like: the phrase rules judge it.
        lone = "_" not in key and not key.isupper() and not re.search(r"[a-z][A-Z]", key)
        bare_word = key.lower() in _PASSWORD_KEYS or key.lower() in _TOKEN_KEYS
        if not quoted_key and not key.startswith("$") and lone and bare_word:
            continue
        kind = _key_kind(key)
        if kind is None or key in ("PWD", "OLDPWD"):  # the shell's working directories
            continue
        sep = m.group("sep")
        glued = not text[m.end("sep") : m.end("sep") + 1].isspace()
        if sep == "=>" and glued and not quoted_key and not key.startswith("$"):
            sep = "="  # "DB_PASSWORD=>x" in a shell: the value is ">x"; PHP keys are quoted
            v = _CONFIG_VALUE.match(text, m.start("sep") + 1)
        else:
            v = _CONFIG_VALUE.match(text, m.end())
        if v is None:
            continue
        for group in ("dq", "sq"):
            if v.group(group) is not None:
                if _quoted_secret(v.group(group)):
                    yield SecretSpan(kind, v.start(group), v.end(group))
                break
        else:
            value = v.group("bare")
            if sep == "=>" or key.startswith("$"):
                # PHP code: only a number is a literal there ('password' => 123456,).
                if re.fullmatch(r"\d+[,;]?", value):
                    yield _stripped(text, kind, v.start("bare"), v.end("bare"))
                continue
            if _core(value).lower() in _NOT_VALUES or re.match(r"\$\{|\$[A-Z_]+$|%env\(", value):
                continue  # null, or a reference to another variable
            if _looks_secret(value, explicit=True):
                yield _stripped(text, kind, v.start("bare"), v.end("bare"))
    for m in _DEFINE.finditer(text):
        kind = _key_kind(m.group("key"))
        group = "dq" if m.group("dq") is not None else "sq"
        if kind is not None and _quoted_secret(m.group(group)):
            yield SecretSpan(kind, m.start(group), m.end(group))


# ---------------------------------------------------------------------------------------------
# Login and password side by side: "root / Qw3rty!", "admin:SuperPass1", URLs with credentials.

_KNOWN_LOGINS = _words(
    """admin administrator adm root superuser sa postgres bitrix0 user test tester demo manager
    guest support webmaster developer dev ftpuser"""
)
# Words that make the next "x / y" a login and a password.
_ACCESS_WORDS = re.compile(
    r"(?:логин|login|учётк|учетк|учётн|учетн|доступ|access|credentials|админк|войти|вход|sign\s+in"
    r"|log\s+in|ftp|ssh|user(?:name)?|пользовател)",
    re.IGNORECASE,
)
_SLASH_PAIR = re.compile(
    r"(?<![\w@./:\\-])(?P<user>[A-Za-z][\w.@+-]{0,63})(?P<sep>[ \t]{1,4}/[ \t]{1,4}|/)"
    r"(?P<value>[^\s/]{1,128})(?!\S)"
)
_COLON_PAIR = re.compile(
    r"(?<![\w@./:\\#$%&=?-])(?P<user>[A-Za-z][\w.+-]{1,63}):(?P<value>[^\s:/@]{1,128})(?!\S)"
)
_SCHEMES = _words(
    """http https ftp ftps sftp ssh mailto tel file data javascript skype tg urn git svn ws wss
    mysql redis smtp imap pop3 ldap cid mid sip xmpp news irc magnet"""
)
# scheme://user:password@host and bare user:password@host (ssh, ftp, mysql ...); the password
# runs to the last "@" before the host, so "p@ss" stays whole.
_URL_CREDENTIALS = re.compile(
    r"(?:(?<=://)|(?<![\w@:/.-]))(?P<user>[\w.%+-]{1,64}):(?P<value>[^\s/]{1,128})@"
    r"(?=\[?[\w-])",
)
_MAIL_LABEL = re.compile(
    r"(?:e-?mail|mailto|mail|почта|эл\.?почта|емейл|емайл|имейл|contact|контакт|адрес|to|from|кому)",
    re.IGNORECASE,
)


def _strong_pair_value(value: str) -> bool:
    """A password next to an unknown login must look like one: letters, digits, and mixed case
    or a symbol ("SuperPass1", "hunter2!"), not an id, a version or a file name."""
    v = _core(value)
    if len(v) < 6 or _is_data(v) or v.lower() in _BRANDS:
        return False
    has_digit = any(c.isdigit() for c in v)
    has_upper = any(c.isupper() for c in v)
    has_lower = any(c.islower() for c in v)
    has_symbol = any(not c.isalnum() and c not in "-_." for c in v)
    return has_digit and (has_upper or has_lower) and ((has_upper and has_lower) or has_symbol)


def _pair_spans(text: str) -> Iterator[SecretSpan]:
    for m in _SLASH_PAIR.finditer(text):
        user, value = m.group("user"), m.group("value")
        if value.lower() in _KNOWN_LOGINS or _is_address(value):
            continue  # "admin / manager": two roles, not a password
        window = max(0, m.start() - 60)  # bounded: a long line must not be rescanned per pair
        before = text[max(window, text.rfind("\n", window, m.start()) + 1) : m.start()]
        known = user.lower() in _KNOWN_LOGINS or "@" in user or _ACCESS_WORDS.search(before)
        if m.group("sep") == "/":
            # "admin/Qw3rty!" is a pair only for an obvious login; "catalog/index" is a path.
            ok = user.lower() in _KNOWN_LOGINS and _looks_secret(value, explicit=False)
        elif known:
            ok = _looks_secret(value, explicit=True)
        else:
            ok = _strong_pair_value(value)
        if ok:
            yield _stripped(text, "login_password", m.start("value"), m.end("value"))
    for m in _COLON_PAIR.finditer(text):
        user, value = m.group("user"), m.group("value")
        if user.lower() in _SCHEMES or _MAIL_LABEL.fullmatch(user):
            continue
        # "user:bitrix" names the login itself; "admin:x" and "root:x" give a password.
        if user.lower() in _KNOWN_LOGINS and user.lower() != "user":
            ok = _looks_secret(value, explicit=True) and not _is_address(value)
        else:
            ok = _strong_pair_value(value)
        if ok:
            yield _stripped(text, "login_password", m.start("value"), m.end("value"))
    for m in _URL_CREDENTIALS.finditer(text):
        user, value = m.group("user"), m.group("value")
        if text[max(0, m.start() - 3) : m.start()] == "://":
            pass  # scheme://user:password@host: always credentials
        elif _MAIL_LABEL.fullmatch(user):
            continue  # "e-mail:ivan@site.ru", "mailto:info@site.ru": an address, not a login
        elif _is_address(value) or not (
            user.lower() in _KNOWN_LOGINS or _looks_secret(value, explicit=False)
        ):
            continue  # "ответ:ivan@mail.ru": a label and an address
        yield SecretSpan("url_credentials", m.start("value"), m.end("value"))


# ---------------------------------------------------------------------------------------------
# Keys and tokens.

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END (?:[A-Z0-9]+ )*"
    r"PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_BEARER = re.compile(
    r"\b(?:Bearer|Basic|Token)[ \t]{1,8}(?P<value>[A-Za-z0-9._~+/=-]{12,})", re.IGNORECASE
)
# Labelled tokens: "API key: ...", "token=...", "secret: ...", "токен: ...".
_TOKEN_LABEL = re.compile(
    r"(?<![\w-])(?:api[\s_-]?key|apikey|api[\s_-]?token|access[\s_-]?(?:key|token)"
    r"|secret(?:[\s_-]?(?:key|access[\s_-]?key))?|client[\s_-]?secret|auth[\s_-]?token|token"
    r"|private[\s_-]?key|webhook|вебхук|токен|секрет(?:ный\s+ключ)?|ключ\s+api|api[\s-]ключ)"
    r"(?:[ \t]{0,3}[:=][ \t]{0,3}|[ \t]{1,3}[-—–][ \t]{0,3}|[ \t]{1,3}is[ \t]{1,3}|[ \t]{1,3})"
    r"(?P<q>[\"'`]?)(?P<value>[A-Za-z0-9._~+/=:-]{16,})(?P=q)?",
    re.IGNORECASE,
)
# Well-known self-identifying token formats, labelled or not. A token starts where a run of
# token characters starts: matching from inside the run would rescan it from every position.
_KNOWN_TOKENS = re.compile(
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"  # GitHub
    r"|\bgithub_pat_[A-Za-z0-9_]{40,}\b"
    r"|(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,}\b"  # Slack
    r"|\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b"  # Stripe
    r"|\bAIza[0-9A-Za-z_-]{35}\b"  # Google API key
    r"|\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b"  # Telegram bot token
    r"|(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWT
    r"|(?<=/rest/)\d+/[a-z0-9]{12,}(?=/)",  # Bitrix24 inbound webhook secret
)
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
# The secret access key that people paste right after the key id (same or next line).
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def _has_mixed_or_digit(value: str) -> bool:
    # Character tests, not a regex like "[a-z].*[A-Z]", which is quadratic on a long token.
    has_upper = any(c.isupper() for c in value)
    return any(c.isdigit() for c in value) or (has_upper and any(c.islower() for c in value))


def _token_spans(text: str) -> Iterator[SecretSpan]:
    for m in _PRIVATE_KEY.finditer(text):
        yield SecretSpan("private_key", m.start(), m.end())
    for m in _KNOWN_TOKENS.finditer(text):
        yield SecretSpan("token", m.start(), m.end())
    for m in _AWS_KEY_ID.finditer(text):
        yield SecretSpan("token", m.start(), m.end())
        line_end = text.find("\n", m.end(), m.end() + 200)
        next_end = text.find("\n", line_end + 1, line_end + 200) if line_end >= 0 else -1
        window_end = next_end if next_end >= 0 else min(len(text), m.end() + 300)
        secret = _AWS_SECRET.search(text, m.end(), window_end)
        if secret is not None:
            yield SecretSpan("token", secret.start(), secret.end())
    for m in _BEARER.finditer(text):
        if _has_mixed_or_digit(m.group("value")):  # not "basic authentication"
            yield _stripped(text, "token", m.start("value"), m.end("value"))
    for m in _TOKEN_LABEL.finditer(text):
        if _has_mixed_or_digit(m.group("value")):
            yield _stripped(text, "token", m.start("value"), m.end("value"))


# ---------------------------------------------------------------------------------------------
# "логин/пароль: admin/qwe123", "доступы: admin 123qwe", "credentials admin:Secret1".

_COMBINED = re.compile(
    r"(?<![\w-])(?:логин[ \t]{0,3}(?:/|и)[ \t]{0,3}парол[ьи]|login[ \t]{0,3}(?:/|and)[ \t]{0,3}"
    r"password|username[ \t]{0,3}/[ \t]{0,3}password|доступы?[ \t]{1,3}(?:в|к|от)[ \t]{1,3}[\w-]+"
    r"|доступы|учётные[ \t]{1,3}данные|учетные[ \t]{1,3}данные|credentials)"
    r"(?:[ \t]{0,3}[:=-])?[ \t]{0,3}"
    r"(?P<value>[^\s/:|]{1,64}[ \t]{0,3}[/:|][ \t]{0,3}[^\s,;]{1,128}"
    r"|[^\s,;]{1,64}[ \t]{1,3}[^\s,;]{1,128})",
    re.IGNORECASE,
)

_FIELD_LABELS = _words("логин login user username пользователь пароль password pass")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_ACCESS_CONTEXT = re.compile(
    r"\b(?:s?ftp|ssh|login|user(?:name)?|root|admin)\b|\w@\d{1,3}\.\d", re.IGNORECASE
)


def _stripped(text: str, kind: str, start: int, end: int) -> SecretSpan:
    """An unquoted value without the sentence punctuation after it."""
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return SecretSpan(kind, start, end)


def _is_russian(text: str) -> bool:
    """Russian text (or ssh/ftp/login talk): a Latin word after "пароль" is the password."""
    plain = text.replace(REDACTED, " ")  # the marker must not make a second pass see Russian
    russian = len(_CYRILLIC.findall(plain)) >= len(_LATIN.findall(plain)) / 2
    return russian or _ACCESS_CONTEXT.search(plain) is not None


def find_secrets(text: str) -> list[SecretSpan]:
    """Non-overlapping secret values in ``text``, in order of position."""
    if not text:
        return []
    russian = _is_russian(text)
    spans: list[SecretSpan] = [*_token_spans(text), *_config_spans(text), *_pair_spans(text)]
    for m in _COMBINED.finditer(text):
        words = re.split(r"[\s/:|]+", m.group("value"))
        if words[0].lower() in _FIELD_LABELS:
            continue  # "доступ к FTP: логин bitrix, пароль x": the phrase rules find the password
        if _looks_secret(words[-1], explicit=False, russian=russian):
            spans.append(_stripped(text, "login_password", m.start("value"), m.end("value")))
    for m in _PASSWORD_LABEL.finditer(text):
        if m.group().lower() == "pass" and text[m.start() - 1 : m.start()] == "=":
            continue  # "dkim=pass header.d=shop.ru": a check result in pasted mail headers
        value = _phrase_value(text, m, russian)
        if value is not None:
            start, end = value.start, value.end
            spans.append(
                SecretSpan("password", start, end)
                if value.quoted
                else _stripped(text, "password", start, end)
            )
    # A span touching a marker is what an earlier pass already hid: redaction stays idempotent.
    starts = [m.start() for m in re.finditer(re.escape(REDACTED), text)]
    return _merge([s for s in spans if s.end > s.start and not _touches(starts, s)])


def _touches(marker_starts: list[int], span: SecretSpan) -> bool:
    """Does ``span`` overlap one of the markers starting at the (sorted) ``marker_starts``?"""
    i = bisect.bisect_left(marker_starts, span.end)  # markers starting before the span ends
    return i > 0 and marker_starts[i - 1] + len(REDACTED) > span.start


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


# Hiding a value changes what is around the next one ("x'Password':0" has a word before the
# quote, "[скрыто]'Password':0" does not), so redaction repeats until nothing more is found; a
# redacted text then redacts to itself. A second pass rarely finds anything, a third almost never.
_MAX_PASSES = 4


def redact(text: str) -> tuple[str, int]:
    """``text`` with every secret value replaced by ``[скрыто]``, and how many were replaced."""
    total = 0
    for _ in range(_MAX_PASSES):
        spans = find_secrets(text)
        if not spans:
            break
        parts: list[str] = []
        pos = 0
        for s in spans:
            parts += [text[pos : s.start], REDACTED]
            pos = s.end
        parts.append(text[pos:])
        text = "".join(parts)
        total += len(spans)
    return text, total


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
