"""Extraction of 4.2 fields from free text: nobody is asked twice for what they already wrote.

The evidence, read in this order:

1. labels: "Сайт: example.ru" at a line's start (the e-mail form's lines) or anywhere in a line
   ("… не работает корзина. Шаги: открыть корзину …", "…, версия: 24.0.100"). A description
   or steps label runs on until the next label (steps also end at a blank line or at a sentence
   that names another field: "Сайт shop.ru"); any other label takes one value, up to a comma or
   the end of the sentence;
2. a numbered list ("1. открыть корзину 2. нажать «Оформить»"): the steps to reproduce (4.2.1);
3. values that are unambiguous on their own: a URL or a domain, an e-mail address, a `23.300.0`
   version, an edition named after "редакция", "лицензия" or the product's name, before
   "редакция" or next to the version ("Бизнес 24.0.100"), a coupon after "купон" (its groups
   separated by hyphens, dashes, underscores or spaces) or a coupon-shaped token;
4. short clauses saying that a field is not known: "купона нет, это демоверсия", "версию не
   помню".

What a message said is kept in three forms (`Extracted`): `values`, the raw text per recognised
field (validation happens in the caller); `prose`, the text outside the labels as written, inline
values still in it; and `remainder`, the prose without the values that went into fields, without
the words that led to them ("сайт", "ответ на") and without labels, tidied: the description in
the customer's own words, or, for a short answer, the answer to the question asked ("не знаю").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.intake.fields import (
    EDITION_NAMES_EN,
    KNOWN_EDITIONS,
    Field,
    clean_text,
    is_unknown_answer,
    normalise_coupon,
)
from bot.tickets.values import EDITION_SPELLINGS, canonical_edition, is_same_answer

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
        "как повторить",
        "чтобы повторить",
        "повторить",
        "шаги",
        "steps to reproduce",
        "how to reproduce",
        "to reproduce",
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
# Fields that hold one value (a description and steps run over several lines and sentences).
SINGLE_VALUE_FIELDS: tuple[Field, ...] = (
    Field.SITE_URL,
    Field.EDITION,
    Field.VERSION,
    Field.COUPON,
    Field.CONTACT_EMAIL,
)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrase(words: str) -> str:
    """A phrase as a regular expression: its words separated by any spaces or tabs."""
    return r"[ \t]+".join(re.escape(word) for word in words.split())


def _one_of(phrases: Iterable[str]) -> str:
    """Alternatives, longest first: "адрес сайта" before "сайт"."""
    return "|".join(_phrase(p) for p in sorted(set(phrases), key=len, reverse=True))


def _labels_of(fields: Iterable[Field]) -> str:
    return _one_of(label for f in fields for label in LABELS[f])


_LABEL_FIELD: dict[str, Field] = {label: f for f, labels in LABELS.items() for label in labels}

# A label: at a line's start (any field; ":", "=", a dash), at a sentence's start (the steps,
# after a colon: "… корзина. Шаги: …") or anywhere after a colon (a field with one value). A
# description label inside a sentence ("у меня вопрос: …") is the customer's prose, not a label.
_LABEL_RE = re.compile(
    r"^[ \t]*[-*•]?[ \t]*(?P<line>" + _labels_of(Field) + r")[ \t]*(?:[:：=]|[—–][ \t]*|-[ \t]+)"
    r"|(?<=[.!?;])[ \t]*(?P<sentence>" + _labels_of([Field.STEPS]) + r")[ \t]*[:：]"
    r"|(?<![\w@./+-])(?P<inline>" + _labels_of(SINGLE_VALUE_FIELDS) + r")[ \t]*[:：]",
    re.IGNORECASE | re.MULTILINE,
)

_VERSION = r"\d{1,2}\.\d{1,3}\.\d{1,4}"
_VERSION_END = r"(?![\d.]*\d)"  # not a part of a longer number (an IP address, 1.2.3.4)
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
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
# Hosts of the vendor's documentation and services: a link to them is not the customer's site.
_REFERENCE_HOSTS = ("1c-bitrix.ru", "bitrix.info", "bitrixsoft.com", "php.net", "github.com")
_REFERENCE_EXACT_HOSTS = ("bitrix24.ru", "bitrix24.com", "bitrix24.by", "bitrix24.kz")
_EMAIL_IN_TEXT_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9\u0400-\u04ff.-]+\.[A-Za-z\u0400-\u04ff]{2,24}(?![\w-])"
)
# A product version; not a part of an IP address, and not the version of PHP, MySQL and the like.
_VERSION_IN_TEXT_RE = re.compile(rf"(?<![\d.])({_VERSION}){_VERSION_END}")
_FOREIGN_VERSION_RE = re.compile(
    r"(php|mysql|mariadb|nginx|apache|centos|debian|ubuntu|bitrixvm|vm|node|python|percona|"
    r"postgres\w*|redis|memcached?|windows|chrome|firefox|safari|opera|яндекс|edge|ie)"
    r"\s*(?:верси[яиюей]|version)?\s*[:—–-]?\s*v?\s*$",
    re.IGNORECASE,
)
# What a customer writes as a version after its label: a version, or a number short of one.
_VERSION_ATTEMPT_RE = re.compile(r"\d{1,2}(?:\.\d{1,4}){0,3}")
_VERSION_LABEL_RE = re.compile(
    r"(?<![\w-])(?:верси[яиюей]|version)[ \t]*(?:продукта|битрикс\w*|bitrix|ядра|"
    r"главного[ \t]+модуля|модуля[ \t]+main|main)?[ \t]*[:—–-]?[ \t]*v?"
    rf"(?P<version>{_VERSION}){_VERSION_END}",
    re.IGNORECASE,
)


# --- editions in free text ----------------------------------------------------------------------

_WORD_GAP = rf"(?:[ \t]*[-{_DASHES}][ \t]*|[ \t]+)"


def _name_pattern(name: str) -> str:
    """An edition's name as a regular expression: a dash or a hyphen, spaced or not, or a space
    between its words ("Корпоративный портал — Энтерпрайз", "веб-кластер"), spaces around "+"."""
    pattern, previous = "", ""
    for token in re.findall(r"\w+|\+", name):
        if token == "+":
            pattern += r"[ \t]*\+[ \t]*"
        else:
            pattern += (_WORD_GAP if previous and previous != "+" else "") + re.escape(token)
        previous = token
    return pattern


def _names_pattern(names: Iterable[str]) -> str:
    return "|".join(_name_pattern(n) for n in sorted(set(names), key=len, reverse=True))


# Every name an edition goes by (bot.tickets.values): Russian, English, other spellings.
_EDITION_NAMES = {*KNOWN_EDITIONS, *EDITION_NAMES_EN.values(), *EDITION_SPELLINGS}
# Short names ("CRM") are words of their own in a sentence ("Битрикс CRM", "модуль CRM 23.0.0"):
# they count only after "редакция", "лицензия" or "edition".
_CUED_NAMES = {n for n in _EDITION_NAMES if len(n) > 3}
# Names of three words or more ("Интернет-магазин + CRM") mean the edition wherever they stand.
_DISTINCTIVE_NAMES = {n for n in _EDITION_NAMES if len(re.findall(r"\w+", n)) >= 3}
_EDITION_WORD = r"(?:редакци[яиюей]|лицензи[яиюей]|тариф\w*|edition|license|licence)"
_PRODUCT_WORD = (
    r"(?:1[сc][ \t]*-?[ \t]*)?(?:битрикс|bitrix)\w*(?:[ \t]*24)?"
    r"|управлени[ея][ \t]+сайтом|site[ \t]+manager"
)
# Every match of _EDITION_IN_TEXT_RE holds one of these (a cue's stem or a word of a distinctive
# name): a text with none of them is not searched (the search tries every name at every word).
_EDITION_HINTS = (
    "редакци", "лицензи", "тариф", "edition", "licen", "битрикс", "bitrix", "управлени",
    "site manager",
    *{word.lower() for name in _DISTINCTIVE_NAMES for word in re.findall(r"\w+", name)},
)  # fmt: skip
_OPEN_QUOTE = r"[«\"“]?"
_CLOSE_QUOTE = r"[»\"”]?"
_USERS = r"(?:[ \t]+\d{2,5}(?![\d.,]\d))?(?:[ \t]*(?:пользовател\w*|users?))?"
_EDITION_IN_TEXT_RE = re.compile(
    rf"(?<![\w-]){_EDITION_WORD}[ \t]*[:—–-]?[ \t]*{_OPEN_QUOTE}"
    rf"(?P<after_word>(?:{_names_pattern(_EDITION_NAMES)}){_USERS})(?![\w-])"
    rf"|(?<![\w-])(?:{_PRODUCT_WORD})[ \t]*[:—–-]?[ \t]*{_OPEN_QUOTE}"
    rf"(?P<after_product>(?:{_names_pattern(_CUED_NAMES)}){_USERS})(?![\w-])"
    rf"|(?<![\w-]){_OPEN_QUOTE}(?P<before_word>{_names_pattern(_EDITION_NAMES)}){_CLOSE_QUOTE}"
    r"[ \t]+(?:редакци\w*|edition)"
    rf"|(?<![\w-])(?P<alone>{_names_pattern(_DISTINCTIVE_NAMES)})(?![\w-])",
    re.IGNORECASE,
)
# An edition written next to the version: "Бизнес 24.0.100", "23.300.0 Стандарт", "Малый
# бизнес, 22.0.0", "версия 23.300.0, редакция Старт".
_EDITION_VERSION_RE = re.compile(
    rf"(?<![\w-]){_OPEN_QUOTE}(?P<edition>(?:{_names_pattern(_CUED_NAMES)}){_USERS})"
    rf"{_CLOSE_QUOTE}[ \t]*[,/]?[ \t]*(?:(?:верси[яиюей]|version)[ \t]*:?[ \t]*)?v?"
    rf"(?P<version>{_VERSION}){_VERSION_END}"
    rf"|(?<![\d.])(?P<version_first>{_VERSION}){_VERSION_END}"
    r"[ \t]*[,/]?[ \t]*(?:(?:редакци[яиюей]|edition)[ \t]*:?[ \t]*)?"
    rf"{_OPEN_QUOTE}(?P<edition_after>{_names_pattern(_CUED_NAMES)})(?![\w-])",
    re.IGNORECASE,
)
# An edition's name at the start of a labelled value: "Редакция: Бизнес, лицензия до 2026".
_EDITION_AT_START_RE = re.compile(
    rf"^[ \t]*{_OPEN_QUOTE}(?:{_names_pattern(_EDITION_NAMES)}){_CLOSE_QUOTE}(?![\w-])",
    re.IGNORECASE,
)


# --- coupons in free text -----------------------------------------------------------------------

_COUPON_GROUP_GAP = rf"[ \t_\-{_DASHES}]"
_COUPON_LABEL_RE = re.compile(
    r"(?<![\w-])(?:купон\w*|coupon)(?:[ \t]+(?:на[ \t]+поддержку|number|no\.?|номер)(?![\w-]))?"
    r"[ \t]*"
    r"(?:[№#][ \t]*)?[:—–-]?[ \t]*"
    rf"(?P<coupon>[A-Za-z0-9]+(?:{_COUPON_GROUP_GAP}+[A-Za-z0-9]+){{0,7}})",
    re.IGNORECASE,
)
_COUPON_GROUP_RE = re.compile(rf"(?P<gap>{_COUPON_GROUP_GAP}*)(?P<group>[A-Za-z0-9]+)")
# A coupon nobody labelled: a whole token of letter/digit groups joined by hyphens or dashes (an
# underscore joins words of code: UF_CRM_1234567).
_BARE_COUPON_RE = re.compile(
    rf"(?<![\w-])[A-Za-z0-9]+(?:[-{_DASHES}][A-Za-z0-9]+){{2,5}}(?![\w-])"
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


# --- steps --------------------------------------------------------------------------------------

# A sentence that names another field with its value ("Сайт shop.ru", "версия 24.0.100"): it
# ends the steps that run before it.
_FIELD_CUE_RE = re.compile(
    r"(?:(?<=[.!?;,\n])|^)[ \t]*(?="
    r"(?:адрес[ \t]+сайта|сайт|site|website|url|домен)[ \t]*[:—–-]?[ \t]*"
    r"(?:https?://)?[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}"
    rf"|(?:верси[яи]|version)[ \t]*[:—–-]?[ \t]*v?{_VERSION}"
    rf"|(?:редакци[яи]|edition)[ \t]*[:—–-]?[ \t]*{_OPEN_QUOTE}"
    rf"(?:{_names_pattern(_EDITION_NAMES)})"
    r"|(?:купон\w*|coupon)[ \t]*[№#]?[ \t]*[:—–-]?[ \t]*[A-Za-z0-9]{2,}"
    r"|(?:e-?mail|почта|почту)[ \t]*[:—–-]?[ \t]*[\w.+-]+@"
    r")",
    re.IGNORECASE | re.MULTILINE,
)
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")
# An item of a numbered list: "1. открыть", "2) нажать".
_LIST_MARK_RE = re.compile(r"(?<![\w.,/:-])(?P<n>[1-9]\d?)[.)](?=[ \t]+[«\"'(]?[^\W\d_])")
_SENTENCE_END_RE = re.compile(r"[.!?](?=[ \t]+[A-ZА-ЯЁ])")
# Words for an action, which steps are made of: an infinitive ("открыть", "зайти"), the first
# person ("открываю", "захожу", "нажимаем"), an imperative ("откройте", "нажмите").
_STEP_VERB_RU_RE = re.compile(
    r"[а-яё]+(?:ть|ти|чь|ться|тись|аю|яю|ую|юю|ем|ём|им|ите|ете|йте|ьте|жу|шу|чу|щу|ду|жму)"
)
_STEP_VERBS_EN = _word_set(
    """
    open go click press tap add select choose enter type fill submit log login sign visit
    navigate put set change create delete remove upload save refresh reload wait try check
    buy order pay send run install update
    """
)
# Steps told in prose, inside the description: a sentence that says how the problem is repeated
# ("Чтобы повторить: открываю …", "Воспроизводится при каждом запуске обмена") or tells two
# actions of the customer's own ("кладу ковёр в корзину, жму «Оформить заказ»").
_PROSE_STEPS_CUE_RE = re.compile(
    r"(?<![\w-])(?:чтобы (?:повторить|воспроизвести)|воспроизводится|повторяется при"
    r"|достаточно (?:открыть|зайти|нажать|перейти)|каждый раз,? когда|to reproduce"
    r"|every time (?:i|we|you)|just (?:open|go to|click))",
    re.IGNORECASE,
)
_FIRST_PERSON_VERB_RE = re.compile(
    r"(?<![\w-])(?!(?:хочу|жду|прошу|думаю|знаю|понимаю|благодарю|вижу|сообщаю|считаю"
    r"|полагаю|предполагаю|подозреваю|надеюсь|уточняю|напоминаю)(?![\w-]))"
    r"(?=[а-яё]{3})[а-яё]*(?:аю|яю|жу|шу|чу|щу|ду|жму)(?![\w-])",
    re.IGNORECASE,
)
_FIRST_WORD_RE = re.compile(r"[ \t]*[«\"'(]?([^\W\d_]+)")
_STEPS_CUE_RE = re.compile(
    r"(?:шаг|воспроизв|делаю так|делаем так|steps|reproduce)[^.!?\n]*$", re.IGNORECASE
)
# What introduces a list of steps: "Шаги такие:", "Как воспроизвести:", "Steps:".
_STEPS_LEAD_IN_RE = re.compile(
    r"(?:шаги(?:[ \t]+воспроизведения)?|порядок(?:[ \t]+действий)?|как[ \t]+воспроизвести|"
    r"воспроизвести[ \t]+можно[ \t]+так|steps(?:[ \t]+to[ \t]+reproduce)?|to[ \t]+reproduce)"
    r"(?:[ \t]+(?:такие|следующие|are|as[ \t]+follows))?[ \t]*[:—–-]?[ \t]*$",
    re.IGNORECASE,
)


# --- what is left -------------------------------------------------------------------------------

# Words that only lead to a value ("ответ на ivan@mail.ru", "наш сайт — shop.ru", "mail me at"):
# taken out with it when they are all its clause says.
_LEAD_IN_WORDS = """
    адрес адресу сайт сайта сайте домен домена портал портала наш наша наше нашего нашем мой
    моя мое моего моем у нас меня на в во до с по версия версии версию версией редакция
    редакции редакцию купон купона купону номер номеру почта почты почту емейл имейл мейл эл
    электронная электронной электронную ответ ответы ответа ответить отвечать пишите напишите
    писать присылайте пришлите отправляйте отправьте ответьте отвечайте для связи связь
    контакт контакты контактный вот это есть стоит используем прошу жду ждем пожалуйста
    e-mail email site website portal url domain address our my is at on to the a version
    edition coupon number e-mail email mail me us reply replies answer contact write send
    please of for we use using running it's it here
"""
# Possessive quantifiers: a clause that is not all lead-in words fails at once, with no
# backtracking over the ways spaces could be split between the words.
_LEAD_IN_RE = re.compile(
    r"[ \t]*+(?:(?<![\w-])(?:"
    + "|".join(re.escape(w) for w in sorted(set(_LEAD_IN_WORDS.split()), key=len, reverse=True))
    + rf")(?![\w-])(?:[ \t]*+[:{_DASHES}-])?+[ \t]*+)*+",
    re.IGNORECASE,
)
_CLAUSE_START_RE = re.compile(r"[,.;!?(\n][^,.;!?(\n]*$")
_CLAUSE_END_RE = re.compile(r"[ \t]*(?:[,.;!?)\n]|$)")
_PREPOSITION_RE = re.compile(
    r"(?<![\w-])(?:на|до|в|во|с|со|из|at|on|to|of|from|in)[ \t]+$", re.IGNORECASE
)
_LEAD_IN_REACH = 100  # characters looked at before a value for its lead-in words
_OWN_WORD_RE = re.compile(r"[^\W\d_]{3,}")  # a word of three letters or more
# A field's name with a capital letter just before its value starts a new sentence even without
# a full stop: "… в компоненте каталога Сайт example.ru" (case-sensitive: "на сайте" stays).
_CAPITAL_LABEL_RE = re.compile(
    r"(?<![\w-])(?:Адрес сайта|Сайт|Site|URL|Домен|Редакция|Edition|Версия|Version|Купон|Coupon"
    r"|E-?mail|Почта)(?:[ \t]*+[:—–-])?[ \t]*$"
)

# Words that name a field in a clause saying it is not known ("купона нет", "версию не помню"). A
# demo version means there is no coupon yet (4.2.5).
_FIELD_NOUN_RES: dict[Field, re.Pattern[str]] = {
    Field.STEPS: re.compile(r"(?<![\w-])(?:шаг\w*|воспроизв\w*|steps?|reproduc\w*)", re.I),
    Field.SITE_URL: re.compile(r"(?<![\w-])(?:сайт\w*|site|website|url|домен\w*)(?![\w-])", re.I),
    Field.EDITION: re.compile(r"(?<![\w-])(?:редакци\w*|edition)(?![\w-])", re.I),
    Field.VERSION: re.compile(r"(?<![\w-])(?:верси\w*|version)(?![\w-])", re.I),
    Field.COUPON: re.compile(
        r"(?<![\w-])(?:купон\w*|coupon\w*|демо\w*|демк\w*|demo\w*|trial|триал\w*|пробн\w*|"
        r"ознакомительн\w*)",
        re.I,
    ),
}
_ANY_FIELD_NOUN_RE = re.compile(
    "|".join(f"(?:{n.pattern})" for n in _FIELD_NOUN_RES.values()), re.I
)
_DEMO_VERSION_RE = re.compile(
    r"(?:пробн\w*|демо|ознакомительн\w*|trial|demo)[ \t-]*(?:верси\w*|version)", re.I
)
_SENTENCE_RE = re.compile(r"[^.!?;\n]+")
_CLAUSE_TEXT_RE = re.compile(r"[^,.;!?\n]+")
_MAX_EDITION_CLAUSE = 40
_CLAUSE_RE = re.compile(r"[^,]+")

MAX_SITES = 10  # site candidates kept from one message
MAX_COUPON_GROUPS = 8  # a coupon has a few groups; more is a sentence in capitals


@dataclass
class Extracted:
    """What one message said.

    - `values`: the raw text per recognised field (validation happens in the caller);
      `values[Field.SITE_URL]` is `sites[0]`.
    - `sites`: every site address found, the chosen one first (two sites: ask which one).
    - `prose`: the message outside its labels, as written: inline values are still in it.
    - `remainder`: the prose without the values that went into fields, without the words that
      led to them and without labels, tidied. For a long message it is the description in the
      customer's words; for a short answer ("не знаю, сайт shop.ru") it is the answer to the
      question asked ("не знаю"). The message itself is kept whole by the caller.
    - `readable`: the customer's sentences about the problem as written, inline values and all
      ("Не работает корзина на shop.ru и opt.ru"); only the sentences made of field values
      ("Сайт shop.ru, редакция Бизнес.") and the steps are left out.
    """

    values: dict[Field, str] = field(default_factory=dict)
    prose: str = ""
    remainder: str = ""
    sites: list[str] = field(default_factory=list)
    readable: str = ""

    @property
    def rest(self) -> str:
        """The older name of `remainder`."""
        return self.remainder

    @property
    def has_prose(self) -> bool:
        """Whether anything beyond field values was said (a description candidate)."""
        words = re.findall(r"[^\W\d_]{2,}", self.remainder)
        return len(words) >= 3 and sum(len(w) for w in words) >= 12

    @property
    def description(self) -> str:
        """The problem as the customer wrote it (`readable`) when the message describes one,
        else empty."""
        return (self.readable or self.remainder) if self.has_prose else ""


def extract_fields(text: str, coupon_pattern: str) -> Extracted:
    """Recognise whatever 4.2 fields a message contains; validation happens in the caller."""
    text = clean_text(text)
    found = Extracted()
    kept = _read_labels(text, coupon_pattern, found)
    found.prose = kept.strip()
    if Field.STEPS not in found.values:
        kept = _take_numbered_steps(kept, found)
    if Field.STEPS not in found.values:
        _note_prose_steps(kept, found)
    found.readable = _problem_sentences(kept, coupon_pattern)
    kept = _take_values(kept, coupon_pattern, found)
    if Field.DESCRIPTION in found.values:  # the description's own words, its values taken out
        description = _tidy(_take_values(found.values[Field.DESCRIPTION], coupon_pattern, found))
        if description:
            found.values[Field.DESCRIPTION] = description
        else:
            del found.values[Field.DESCRIPTION]
    if Field.STEPS in found.values:  # the steps stay as written; what they name is taken
        _take_values(found.values[Field.STEPS], coupon_pattern, found)
    found.remainder = _tidy(kept)
    _settle_sites(found)
    return found


# --- labels -------------------------------------------------------------------------------------


def _label_field(match: re.Match[str]) -> Field:
    label = next(g for g in match.group("line", "sentence", "inline") if g)
    return _LABEL_FIELD[" ".join(label.lower().split())]


def _label_start(match: re.Match[str]) -> int:
    return next(match.start(g) for g in ("line", "sentence", "inline") if match.group(g))


def _read_labels(text: str, coupon_pattern: str, found: Extracted) -> str:
    """Take out labelled values; returns the text outside them."""
    matches = list(_LABEL_RE.finditer(text))
    if not matches:
        return text
    kept: list[str] = []
    position = 0
    for i, match in enumerate(matches):
        fld = _label_field(match)
        before = text[position : _label_start(match)]
        end = _label_start(matches[i + 1]) if i + 1 < len(matches) else len(text)
        span = text[match.end() : end]
        inline = bool(match["inline"])
        if inline and fld is Field.VERSION and _is_foreign_version(text, _label_start(match)):
            leftover = None  # "PHP версия: 8.1" is the server's, not the product's
        else:
            leftover = _read_labelled_value(fld, span, inline, coupon_pattern, found)
        if leftover is None:  # "ошибка mail: не отправляется": a word and a colon, no label
            kept.append(text[position:end])
        else:
            kept.append(_drop_lead_in(before) if fld in SINGLE_VALUE_FIELDS else before)
            kept.append(leftover if leftover[:1].isspace() else " " + leftover)
        position = end
    return "".join(kept)


def _read_labelled_value(
    fld: Field, span: str, inline: bool, coupon_pattern: str, found: Extracted
) -> str | None:
    """Store the value `span` (the text from a label to the next one) gives `fld`; returns the
    part of `span` that is not the value. A label inside a line counts only when a value of its
    field follows it (None otherwise): "Редакция: Старт" does, "ошибка mail: не уходит" not."""
    if fld is Field.DESCRIPTION:
        if span.strip():
            found.values[fld] = span.strip()
        return ""
    if fld is Field.STEPS:
        end = _steps_end(span)
        if span[:end].strip():
            found.values[fld] = span[:end].strip()
        return span[end:]
    line, newline, after = span.partition("\n")
    read = Extracted()  # what the line gives, applied once it is known to be a value
    value, leftover = _single_value(fld, line.strip(), coupon_pattern, read)
    if inline and not _looks_like(fld, value, coupon_pattern):
        return None
    for other, other_value in read.values.items():
        found.values.setdefault(other, other_value)
    if value:
        found.values[fld] = value
    else:  # an empty line of the form: the customer cleared it
        found.values.pop(fld, None)
    return leftover + newline + after


def _looks_like(fld: Field, value: str, coupon_pattern: str) -> bool:
    """Whether `value` is recognisably a value of `fld` (or a «не знаю»)."""
    if not value or is_unknown_answer(value):
        return bool(value)
    if fld is Field.SITE_URL:
        return bool(_URL_RE.fullmatch(value) or _BARE_DOMAIN_RE.fullmatch(value))
    if fld is Field.CONTACT_EMAIL:
        return _EMAIL_IN_TEXT_RE.fullmatch(value) is not None
    if fld is Field.VERSION:
        # a number short of a version ("24.0") too: the validator says what a version looks like
        return _VERSION_ATTEMPT_RE.fullmatch(value.lstrip("vV")) is not None
    if fld is Field.COUPON:
        return _is_coupon(value, coupon_pattern)
    # an edition: a known one, or a name of a few words the agent will check
    return _known_edition(value) or len(value.split()) <= 3


_VALUE_END_RE = re.compile(r"[,;](?=\s|$)|\.(?=\s|$)")


def _single_value(fld: Field, text: str, coupon_pattern: str, found: Extracted) -> tuple[str, str]:
    """The value of a one-value label's line, and what follows it: the value ends at a comma or
    the sentence's end, unless the whole line says «не знаю» ("нет, это демо"). An e-mail line
    with a second address in it ("ivan@mail.ru Bcc: c@z.ru") stays whole, so the validator
    refuses it instead of the desk picking one of the addresses."""
    if not text or is_unknown_answer(text):
        return text, ""
    if fld is Field.CONTACT_EMAIL and text.count("@") > 1:
        return text, ""
    end = _VALUE_END_RE.search(text)
    piece, tail = (text[: end.start()], text[end.start() :]) if end else (text, "")
    value, rest = _value_in(fld, piece.strip(), coupon_pattern, found)
    return value, f"{rest} {tail}"


def _value_in(fld: Field, piece: str, coupon_pattern: str, found: Extracted) -> tuple[str, str]:
    """The value a labelled piece holds and the words around it; the whole piece when nothing
    recognisable is in it (the validator explains what is wrong)."""
    if fld is Field.SITE_URL and any(ch.isspace() for ch in piece):
        match = _URL_RE.search(piece) or _BARE_DOMAIN_RE.search(piece)
        if match:
            return _split_off(piece, match.start(), match.start() + len(_trim_url(match[0])))
    if fld in (Field.EDITION, Field.VERSION):
        return _edition_or_version_in(fld, piece, found)
    if fld is Field.COUPON and not _is_coupon(piece, coupon_pattern):
        span = _labelled_coupon(piece, 0, coupon_pattern)
        if span is not None:
            return _split_off(piece, *span)
    return piece, ""


def _edition_or_version_in(fld: Field, piece: str, found: Extracted) -> tuple[str, str]:
    """An edition and a version written together ("Бизнес 24.0.100" after "Редакция:",
    "23.300.0 Стандарт" after "Версия:") give both fields."""
    pair = _edition_version_pair(piece)
    if pair is not None:
        edition, version, start, end = pair
        other, mine = (version, edition) if fld is Field.EDITION else (edition, version)
        found.values.setdefault(Field.VERSION if fld is Field.EDITION else Field.EDITION, other)
        return mine, (piece[:start] + " " + piece[end:]).strip()
    if fld is Field.VERSION:
        match = _VERSION_IN_TEXT_RE.search(piece)
        return _split_off(piece, *match.span(1)) if match else (piece, "")
    if canonical_edition(piece) is None:
        match = _EDITION_AT_START_RE.search(piece)
        if match:
            return _split_off(piece, match.start(), match.end())
    return piece, ""


def _split_off(text: str, start: int, end: int) -> tuple[str, str]:
    return text[start:end].strip(' «»"“”'), (text[:start] + " " + text[end:]).strip()


# --- steps --------------------------------------------------------------------------------------


def _steps_end(span: str) -> int:
    """Where steps that start `span` end: at a sentence naming another field with its value, at
    a blank line after them, or at the end."""
    first = len(span) - len(span.lstrip())
    ends = [len(span)]
    cue = _FIELD_CUE_RE.search(span, first + 1)
    if cue:
        ends.append(cue.start())
    blank = _BLANK_LINE_RE.search(span, first)
    if blank:
        ends.append(blank.start())
    return min(ends)


def _numbered_list(text: str) -> list[re.Match[str]]:
    """The markers of the first numbered list (1., 2., …; two items at least) in `text`."""
    items: list[re.Match[str]] = []
    for match in _LIST_MARK_RE.finditer(text):
        number = int(match["n"])
        if number == 1:
            if len(items) >= 2:
                break
            items = [match]
        elif items and number == len(items) + 1:
            items.append(match)
    return items if len(items) >= 2 else []


def _is_action(word: str) -> bool:
    word = word.lower()
    return word in _STEP_VERBS_EN or _STEP_VERB_RU_RE.fullmatch(word) is not None


def _are_steps(text: str, items: list[re.Match[str]]) -> bool:
    """A numbered list is the steps when it is introduced so ("Шаги:", "как воспроизвести") or
    its items are actions ("открыть", "нажимаю", "click"); a list of problems ("1) не работает
    оплата 2) медленно открывается каталог") is not (2.6 splits those)."""
    before = text[max(0, items[0].start() - 60) : items[0].start()]
    if _STEPS_CUE_RE.search(before):
        return True
    firsts = [_FIRST_WORD_RE.match(text, item.end()) for item in items]
    actions = sum(1 for word in firsts if word and _is_action(word[1]))
    return 2 * actions >= len(items)


def _last_item_end(text: str, marker: re.Match[str]) -> int:
    """The last item of a list runs to its line's end; in a list written inline ("1. … 2. …")
    also to its sentence's end (the dot of its own marker "2." ends nothing). A sentence naming
    another field ends it sooner."""
    start = marker.start()
    line_end = text.find("\n", start)
    end = len(text) if line_end < 0 else line_end
    cue = _FIELD_CUE_RE.search(text, start + 1, end)
    if cue:
        end = cue.start()
    line_start = text.rfind("\n", 0, start) + 1
    inline = bool(text[line_start:start].strip())
    sentence = _SENTENCE_END_RE.search(text, marker.end(), end) if inline else None
    return sentence.end() if sentence else end


def _note_prose_steps(text: str, found: Extracted) -> None:
    """Steps told in a sentence of the description are the steps too; the sentence stays in
    the description, where it belongs to the story."""
    for line in text.splitlines():
        start = 0
        ends = [m.end() for m in _SENTENCE_END_RE.finditer(line)] + [len(line)]
        for end in ends:
            sentence = line[start:end].strip()
            start = end
            verbs = len(_FIRST_PERSON_VERB_RE.findall(sentence))
            if _PROSE_STEPS_CUE_RE.search(sentence) or verbs >= 2:
                found.values[Field.STEPS] = sentence
                return


def _take_numbered_steps(text: str, found: Extracted) -> str:
    items = _numbered_list(text)
    if not items or not _are_steps(text, items):
        return text
    start, end = items[0].start(), _last_item_end(text, items[-1])
    found.values[Field.STEPS] = text[start:end].strip()
    before = _STEPS_LEAD_IN_RE.sub("", text[:start]).rstrip()
    if before.endswith(":"):  # "Не работает корзина: 1. …" reads on as a sentence of its own
        before = before[:-1] + "."
    return before + " " + text[end:]


# --- values in free text ------------------------------------------------------------------------


def _take_values(text: str, coupon_pattern: str, found: Extracted) -> str:
    """Take every recognisable value out of `text` (fields not yet found); returns the rest."""
    text = _take_email(text, found)
    text = _take_sites(text, found)
    text = _take_edition_and_version(text, found)
    text = _take_coupon(text, coupon_pattern, found)
    return _take_unknown_answers(text, found)


def _cut(text: str, start: int, end: int) -> tuple[str, int]:
    """`text` without [start, end) and the words that only led to it; and where the cut is."""
    before, after = text[:start], text[end:]
    if _CLAUSE_END_RE.match(after):
        shorter = _drop_lead_in(before)
        before = shorter if shorter != before else _drop_preposition(before)
    else:
        before = _drop_preposition(before)
    return before + " " + after, len(before)


def _drop_lead_in(before: str) -> str:
    """`before` without its last clause when that clause only leads to a value ("ответ на",
    "наш сайт —", "mail me at")."""
    tail = before[-_LEAD_IN_REACH:]
    boundary = _CLAUSE_START_RE.search(tail)
    if boundary is None and len(before) > _LEAD_IN_REACH:
        return before
    clause_start = boundary.start() + 1 if boundary else 0
    clause = tail[clause_start:]
    if clause.strip() and _LEAD_IN_RE.fullmatch(clause):
        return before[: len(before) - len(clause)]
    label = _CAPITAL_LABEL_RE.search(clause)
    if label and clause[: label.start()].strip():
        return before[: len(before) - len(clause) + label.start()].rstrip()
    return before


def _drop_preposition(before: str) -> str:
    """A preposition left alone by the cut is dropped: "обновления на 25.1.0 сайт" →
    "обновления сайт"."""
    offset = max(0, len(before) - 12)
    match = _PREPOSITION_RE.search(before, offset)
    return before[: match.start()] if match else before


def _take_email(text: str, found: Extracted) -> str:
    if Field.CONTACT_EMAIL in found.values:
        return text
    match = _EMAIL_IN_TEXT_RE.search(text)
    if not match:
        return text
    found.values[Field.CONTACT_EMAIL] = match[0]
    return _cut(text, match.start(), match.end())[0]


def _trim_url(url: str) -> str:
    return url.rstrip(".,;:!?)")


def _host(site: str) -> str:
    host = re.sub(r"^https?://", "", site, flags=re.IGNORECASE)
    host = re.split(r"[/:?#]", host, maxsplit=1)[0].lower()
    return host.removeprefix("www.")


def _is_reference(site: str) -> bool:
    host = _host(site)
    return host in _REFERENCE_EXACT_HOSTS or any(
        host == ref or host.endswith("." + ref) for ref in _REFERENCE_HOSTS
    )


def _is_file_name(site: str) -> bool:
    return site.lower().endswith(_FILE_SUFFIXES)


def _take_sites(text: str, found: Extracted) -> str:
    """Every site address: URLs first, then bare domains (not file names, not the vendor's)."""
    for pattern in (_URL_RE, _BARE_DOMAIN_RE):
        position = 0
        while len(found.sites) < MAX_SITES:
            match = pattern.search(text, position)
            if match is None:
                break
            site = _trim_url(match[0])
            if _is_reference(site) or (pattern is _BARE_DOMAIN_RE and _is_file_name(site)):
                position = match.end()
                continue
            found.sites.append(site)
            text, position = _cut(text, match.start(), match.start() + len(site))
    return text


def _settle_sites(found: Extracted) -> None:
    """One site per address, the labelled one (or else the first) first and in `values`."""
    chosen = found.values.get(Field.SITE_URL)
    sites: list[str] = []
    seen: set[str] = set()
    labelled = [chosen] if chosen and not is_unknown_answer(chosen) else []
    for site in labelled + found.sites:
        key = re.sub(r"^https?://(www\.)?|/$", "", site.lower())
        if key not in seen:
            seen.add(key)
            sites.append(site)
    found.sites = sites
    if sites and not chosen:
        found.values[Field.SITE_URL] = sites[0]


def _is_foreign_version(text: str, start: int) -> bool:
    """The version of PHP, MySQL and the like ("php 8.1.2"), not of the product."""
    return _FOREIGN_VERSION_RE.search(text[max(0, start - 25) : start]) is not None


def _known_edition(name: str) -> bool:
    edition = canonical_edition(name)
    return edition is not None and edition in KNOWN_EDITIONS


def _edition_version_pair(text: str) -> tuple[str, str, int, int] | None:
    """An edition written next to a version: (edition, version, start, end)."""
    if _VERSION_IN_TEXT_RE.search(text) is None:  # cheap: no version, no pair
        return None
    for match in _EDITION_VERSION_RE.finditer(text):
        version = match["version"] or match["version_first"]
        edition = match["edition"] or match["edition_after"]
        version_start = match.start("version" if match["version"] else "version_first")
        if _is_foreign_version(text, version_start) or not _known_edition(edition):
            continue
        return edition, version, match.start(), match.end()
    return None


def _take_version(text: str) -> tuple[str | None, str]:
    for match in _VERSION_LABEL_RE.finditer(text):
        if not _is_foreign_version(text, match.start()):  # "MySQL версия 8.0.36"
            return match["version"], _cut(text, match.start(), match.end())[0]
    for match in _VERSION_IN_TEXT_RE.finditer(text):
        if not _is_foreign_version(text, match.start()):
            return match[1], _cut(text, match.start(), match.end())[0]
    return None, text


def _take_edition(text: str) -> tuple[str | None, str]:
    lowered = text.lower()
    if any(hint in lowered for hint in _EDITION_HINTS):
        for match in _EDITION_IN_TEXT_RE.finditer(text):
            edition = next(g for g in match.groups() if g)
            if _known_edition(edition):
                return edition.strip(), _cut(text, match.start(), match.end())[0]
    return _take_edition_clause(text)


def _take_edition_clause(text: str) -> tuple[str | None, str]:
    """An edition's name that is a clause of its own: "…, Малый бизнес, обновились до 25.0.0"
    (a short name, "CRM", is a word of its own too often to count)."""
    for clause in _CLAUSE_TEXT_RE.finditer(text):
        name = clause[0].strip(' \t«»"“”')
        if len(name) > 3 and len(name) <= _MAX_EDITION_CLAUSE and _known_edition(name):
            return name, _cut(text, clause.start(), clause.end())[0]
    return None, text


def _take_edition_and_version(text: str, found: Extracted) -> str:
    values = found.values
    if Field.EDITION in values and Field.VERSION in values:
        return text
    pair = _edition_version_pair(text)
    if pair is not None:
        edition, version, start, end = pair
        values.setdefault(Field.EDITION, edition)
        values.setdefault(Field.VERSION, version)
        text = _cut(text, start, end)[0]
    if Field.VERSION not in values:
        found_version, text = _take_version(text)
        if found_version:
            values[Field.VERSION] = found_version
    if Field.EDITION not in values:
        found_edition, text = _take_edition(text)
        if found_edition:
            values[Field.EDITION] = found_edition
    return text


def _is_coupon(text: str, coupon_pattern: str) -> bool:
    coupon = normalise_coupon(text, coupon_pattern)
    return bool(coupon) and re.fullmatch(coupon_pattern, coupon) is not None


def _labelled_coupon(text: str, start: int, coupon_pattern: str) -> tuple[int, int] | None:
    """The longest run of groups from `start` that is a coupon in the configured format. A
    group after a space must look like a part of one (a digit in it, or capitals): "coupon
    AB12 CD34 EF56 and version" stops before "and"."""
    ends: list[int] = []
    for match in _COUPON_GROUP_RE.finditer(text, start):
        if len(ends) == MAX_COUPON_GROUPS:
            break
        gap, group = match["gap"], match["group"]
        if match.start() != (ends[-1] if ends else start) or (gap and not ends):
            break
        spaced = " " in gap or "\t" in gap
        if spaced and not (re.search(r"\d", group) or group.isupper()):
            break
        ends.append(match.end())
    for end in reversed(ends):
        if _is_coupon(text[start:end], coupon_pattern):
            return start, end
    return None


def _take_coupon(text: str, coupon_pattern: str, found: Extracted) -> str:
    if Field.COUPON in found.values:
        return text
    for match in _COUPON_LABEL_RE.finditer(text):
        span = _labelled_coupon(text, match.start("coupon"), coupon_pattern)
        if span is not None:
            found.values[Field.COUPON] = text[span[0] : span[1]]
            return _cut(text, match.start(), span[1])[0]
    for match in _BARE_COUPON_RE.finditer(text):
        token = match[0]
        upper = token.upper()
        if (
            not upper.startswith("WAS-")
            and re.search(r"\d", upper)
            and re.search(r"[A-Z]", upper)
            and _is_coupon(token, coupon_pattern)
        ):
            found.values[Field.COUPON] = token
            return _cut(text, match.start(), match.end())[0]
    return text


# --- «не знаю» said about a field ---------------------------------------------------------------


def _fields_named(text: str) -> set[Field]:
    text = _DEMO_VERSION_RE.sub(" демо ", text)
    return {f for f, noun in _FIELD_NOUN_RES.items() if noun.search(text)}


def _unknown_field(text: str, previous_unknown: bool, found: Extracted) -> Field | None:
    """The one missing field a short clause says is not known ("купона нет"), or None. A clause
    with a colon is a label the parser does not know, not an answer."""
    if ":" in text:
        return None
    named = _fields_named(text)
    if len(named) != 1:
        return None
    fld = named.pop()
    if fld in found.values:
        return None
    if is_unknown_answer(text) or (previous_unknown and is_same_answer(text)):
        return fld
    return None


def _take_unknown_answers(text: str, found: Extracted) -> str:
    """Sentences, or else clauses, saying a field is not known become that field's answer:
    "Купона нет, у нас демоверсия." → the coupon; "Купон не помню, версию тоже." → both."""
    taken: list[tuple[int, int, Field]] = []
    for sentence in _SENTENCE_RE.finditer(text):
        if _ANY_FIELD_NOUN_RE.search(sentence[0]) is None:  # most sentences: nothing to read
            continue
        fld = _unknown_field(sentence[0], False, found)
        if fld is not None:
            taken.append((*sentence.span(), fld))
            continue
        previous_unknown = False
        for clause in _CLAUSE_RE.finditer(sentence[0]):
            fld = _unknown_field(clause[0], previous_unknown, found)
            previous_unknown = fld is not None or is_unknown_answer(clause[0])
            if fld is not None:
                start = sentence.start() + clause.start()
                taken.append((start, start + len(clause[0]), fld))
    for start, end, fld in reversed(taken):
        said = " ".join(text[start:end].split()).strip(f" ,;:{_DASHES}-")
        earlier = found.values.get(fld)
        found.values[fld] = f"{said}, {earlier}" if earlier else said
        text = text[:start] + " " + text[end:]
    return text


# --- tidying ------------------------------------------------------------------------------------

_SPACE_BEFORE_PUNCTUATION_RE = re.compile(r"[ \t]+([,.;:!?)])")
_REPEATED_SEPARATORS_RE = re.compile(r"([,;:])(?:[ \t]*[,;])+")  # "::" of PHP stays
_SEPARATOR_BEFORE_END_RE = re.compile(r"(?<![,;:])[,;:]++(?=[.!?])")
_SEPARATOR_AFTER_END_RE = re.compile(r"([.!?])(?:[ \t]*[,;:])+")
# "card. , ." where values were: marks after a sentence's end, each after a space ("..." stays)
_MARKS_AFTER_END_RE = re.compile(r"([.!?])(?:[ \t]+[,;:.]+(?=\s|$))+")
_EMPTY_BRACKETS_RE = re.compile(r"\([ \t][ \t,;:]*\)")  # a value was in them; "()" stays


def _problem_sentences(text: str, coupon_pattern: str) -> str:
    """`text` without the sentences made only of field values, line breaks kept: the rest is
    kept as written (an error report, a stack trace, a greeting)."""
    lines: list[str] = []
    for line in text.splitlines():
        start, sentences = 0, []
        for end in _SENTENCE_END_RE.finditer(line):
            sentences.append(line[start : end.end()])
            start = end.end()
        sentences.append(line[start:])
        kept = [
            _without_trailing_values(sentence, coupon_pattern)
            for sentence in sentences
            if not _only_values(sentence, coupon_pattern)
        ]
        lines.append(" ".join(k for k in kept if k))
    return _tidy("\n".join(lines))


def _only_values(text: str, coupon_pattern: str) -> bool:
    """Whether `text` gives field values and says nothing of its own ("Сайт shop.ru, редакция
    Бизнес.")."""
    scratch = Extracted()
    rest = _take_values(text, coupon_pattern, scratch)
    return bool(scratch.values) and not _OWN_WORD_RE.search(_tidy(rest))


def _without_trailing_values(sentence: str, coupon_pattern: str) -> str:
    """The sentence without the clauses at its end that only list values ("…, редакция Бизнес,
    купон …, ivan@shop.ru"); a clause with a word of its own ends the cut."""
    clauses = re.split(r"(?<=[,;])", sentence.strip())
    while len(clauses) > 1:
        if not _only_values(clauses[-1], coupon_pattern):
            break
        clauses.pop()
    return "".join(clauses).strip().rstrip(",;")


def _tidy(text: str) -> str:
    """One space between words, no punctuation left dangling where values were taken out, no
    line without a word or a number."""
    lines: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        line = _MARKS_AFTER_END_RE.sub(r"\1", line)
        line = _SPACE_BEFORE_PUNCTUATION_RE.sub(r"\1", line)
        line = _EMPTY_BRACKETS_RE.sub("", line)
        line = _REPEATED_SEPARATORS_RE.sub(r"\1", line)
        line = _SEPARATOR_BEFORE_END_RE.sub("", line)
        line = _SEPARATOR_AFTER_END_RE.sub(r"\1", line)
        line = line.lstrip(f" ,.;:{_DASHES}-").rstrip(f" ,;:{_DASHES}-")
        if any(ch.isalnum() for ch in line):
            lines.append(line)
    return "\n".join(lines)
