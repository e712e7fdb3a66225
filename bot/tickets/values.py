"""The values a ticket's fields hold: the products' editions, the default product, the «не знаю»
answer (and the demo version's «купона нет»), the coupon's normal form, and the cleaning every
value gets before it is compared.

Both the intake's validators (`bot.intake.fields`) and the coupon registry (`bot.tickets.coupons`)
read a customer's or an operator's words against this vocabulary, so it lives here, below both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.text import clean

UNKNOWN = "не знаю"  # a 4.2 value the customer does not know: the agent may ask later (4.2.6)

SITE_MANAGER = "1С-Битрикс: Управление сайтом"
BITRIX24 = "1С-Битрикс24"
DEFAULT_PRODUCT = SITE_MANAGER


@dataclass(frozen=True)
class Edition:
    name: str  # Russian: what tickets and the coupon registry hold
    english: str  # shown to English-speaking customers
    products: tuple[str, ...]  # the product lines sold in this edition
    offered: bool  # offered as a choice when the desk asks for the edition (4.2.4)


# Every edition of both product lines the partner supports, the discontinued ones included (old
# licences still renew). Written only here: the list of editions, the names a customer may type
# and the intake's search of free text are all built from it.
_EDITIONS: tuple[Edition, ...] = (
    Edition("Старт", "Start", (SITE_MANAGER,), True),
    Edition("Стандарт", "Standard", (SITE_MANAGER,), True),
    Edition("Малый бизнес", "Small Business", (SITE_MANAGER,), True),
    Edition("Бизнес", "Business", (SITE_MANAGER,), True),
    Edition("Энтерпрайз", "Enterprise", (SITE_MANAGER, BITRIX24), True),
    Edition("Корпоративный портал", "Corporate Portal", (BITRIX24,), True),
    Edition("Корпоративный портал — Энтерпрайз", "Corporate Portal Enterprise", (BITRIX24,), True),
    Edition("CRM", "CRM", (BITRIX24,), False),
    Edition("Интернет-магазин + CRM", "Online Store + CRM", (BITRIX24,), False),
    Edition("Эксперт", "Expert", (SITE_MANAGER,), False),
    Edition("Первый сайт", "First Site", (SITE_MANAGER,), False),
    Edition("Бизнес веб-кластер", "Business Web Cluster", (SITE_MANAGER,), False),
)

# Russian name → English name, for every known edition.
EDITION_NAMES_EN: dict[str, str] = {e.name: e.english for e in _EDITIONS}
# The editions offered as choices (buttons) when the edition is asked.
EDITIONS: tuple[str, ...] = tuple(e.name for e in _EDITIONS if e.offered)
# Every edition the desk recognises, the discontinued ones included.
KNOWN_EDITIONS: tuple[str, ...] = tuple(EDITION_NAMES_EN)
# Other ways customers write an edition's name (short forms, common misspellings); compared after
# `edition_key`, like the names themselves.
EDITION_SPELLINGS: dict[str, str] = {
    "корп портал": "Корпоративный портал",
    "кп": "Корпоративный портал",
    "энтерпрайс": "Энтерпрайз",
    "enterprize": "Энтерпрайз",
    "standart": "Стандарт",
    "стандард": "Стандарт",
    "веб-кластер": "Бизнес веб-кластер",
    "web cluster": "Бизнес веб-кластер",
    "web-cluster": "Бизнес веб-кластер",
    "црм": "CRM",
    "интернет-магазин crm": "Интернет-магазин + CRM",
    "интернет-магазин и crm": "Интернет-магазин + CRM",
    "online shop + crm": "Интернет-магазин + CRM",
    "online store and crm": "Интернет-магазин + CRM",
}

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


def edition_key(text: str) -> str:
    """How edition names are compared: lowercase, ё as е, any dash or hyphen as a space, quotes
    and punctuation dropped, one space between words and around "+"."""
    text = text.lower().replace("ё", "е")
    text = re.sub(f"[-{_DASHES}]", " ", text)
    text = re.sub(r"[«»\"'“”„.,:;!?()]", " ", text).replace("+", " + ")
    return " ".join(text.split())


# What a customer may type for an edition, by `edition_key`: either name, and the other spellings.
EDITION_ALIASES: dict[str, str] = {
    **{edition_key(e.name): e.name for e in _EDITIONS},
    **{edition_key(e.english): e.name for e in _EDITIONS},
    **{edition_key(spelling): name for spelling, name in EDITION_SPELLINGS.items()},
}


def edition_products(edition: str) -> tuple[str, ...]:
    """The product lines sold in `edition` (one for most, both for «Энтерпрайз»); none for an
    edition the desk does not know."""
    return next((e.products for e in _EDITIONS if e.name == edition), ())


# --- «не знаю» and the demo version -------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Answers accepted exactly as they are (after lowercasing and trimming dots and exclamations).
_UNKNOWN_ANSWERS = frozenset({"-", "—", "–", "n/a", "na", "н/д"})
# An unknown answer needs one of these: a negation, "unknown", "skip" …
_NEGATIONS = _words(
    """
    не нет нету ни без неизвестно незнаю хз затрудняюсь отсутствует отсутствуют пропустить
    пропускаю пропуск никакой никакого никакие потерял потеряла потеряли потерялся утерян
    утеряли
    no not none nope nah don't dont doesn't didn't haven't havent hasn't can't cant cannot
    unknown idk n/a na skip lost
    """
)
# … or a word for the demo version (no coupon then: nothing was bought yet, 4.2.5).
_DEMO_WORDS = _words(
    """
    демо демоверсия демоверсии демоверсию демоверсией демо-версия демо-версии демо-версию
    демка демке демку демкой пробная пробной пробную пробный пробном пробник триал
    ознакомительная ознакомительной ознакомительную
    demo demo-version trial evaluation
    """
)
# Words that say what was not known: "знаю", "помню", "know", "have" …
_UNKNOWN_WORDS = _words(
    """
    знаю знаем знает знать помню помним помнит известно курсе понятия имею имеем имеется
    могу можем может сказать скажу подсказать подскажу ответить уверен уверена уверены нашел
    нашла нашли найти найду найдем нашлось есть было был была указан указано указывали
    know knew remember recall sure idea have has had got do does did find found tell say given
    applicable use using рукой руками hand
    """
)
# Words naming what was asked (the 4.2 fields): "купона нет", "версию не помню".
_FIELD_WORDS = _words(
    """
    купон купона купону купоном купоне купоны купонов номер номера номером шаг шаги шагов
    шагами воспроизвести воспроизведения воспроизведение воспроизводится версия версии версию
    версией редакция редакции редакцию редакцией сайт сайта сайте сайтом адрес адреса домен
    домена ключ ключа лицензия лицензии лицензию
    coupon coupons number code step steps reproduce version edition site website address url
    domain key license licence
    """
)
# Pronouns, particles, prepositions and the like: they change nothing.
_FILLER_WORDS = _words(
    """
    я мы у меня нас мне нам нее него его ее их это этого этот эта так пока еще к сожалению увы
    вообще точно сейчас тут здесь там и а но же ну вот как какой какая какую какие какого когда
    где на в во с со по под для от до уже просто тоже также пожалуйста стоит установлена установлен
    используем использую работаем работаю пользуемся пользуюсь только лишь всего
    i we you me us my our it its it's this that is are am was were be been a an the on at for
    of to in just sorry unfortunately yet here there now currently still so also too either
    we're i'm it's we've i've any one ones what which how when where please really
    """
)
_VOCABULARY = _NEGATIONS | _DEMO_WORDS | _UNKNOWN_WORDS | _FIELD_WORDS | _FILLER_WORDS
_TOKEN_RE = re.compile(r"[a-zа-я0-9]+(?:['/-][a-zа-я0-9]+)*")
MAX_ANSWER_WORDS = 8  # an answer, not a sentence about the problem
MAX_ANSWER_CHARS = 80


def answer_words(text: str) -> list[str]:
    """The words of a short answer, lowercased, ё as е, typographic apostrophes as "'"; empty for
    a text too long to be a short answer."""
    text = clean_text(text).lower().replace("ё", "е").replace("’", "'").replace("`", "'")
    if len(text) > MAX_ANSWER_CHARS:
        return []
    words = _TOKEN_RE.findall(text)
    return words if len(words) <= MAX_ANSWER_WORDS else []


def _only_answer_words(words: list[str]) -> bool:
    return bool(words) and all(word in _VOCABULARY for word in words)


def is_demo_answer(text: str) -> bool:
    """A short answer saying the product is a demo version ("у нас демо", "нет купона, это
    демоверсия", "it's a trial"): there is no coupon yet, the agent gets a note (4.2.5)."""
    words = answer_words(text)
    return _only_answer_words(words) and any(word in _DEMO_WORDS for word in words)


_SAME_WORDS = _words("тоже также too also either")


def is_same_answer(text: str) -> bool:
    """A short answer that says "the same" ("версию тоже", "version too"): after «купон не
    помню» it is a «не знаю» of its own."""
    words = answer_words(text)
    return _only_answer_words(words) and any(word in _SAME_WORDS for word in words)


def is_unknown_answer(text: str) -> bool:
    """A short answer saying the value is not known or not there: «не знаю», "нет", "не помню",
    "без купона", "I don't have it", "no idea", a demo version … Only short answers made of
    such words count: "нет доступа к админке" describes a problem and is not one."""
    stripped = clean_text(text).lower().strip(" .!")
    if stripped in _UNKNOWN_ANSWERS:
        return True
    words = answer_words(text)
    if not _only_answer_words(words):
        return False
    return any(word in _NEGATIONS or word in _DEMO_WORDS for word in words)


# --- cleaning, editions and coupons ------------------------------------------------------------


def clean_text(text: str) -> str:
    """Cleaned as at the desk's door (`bot.text.clean`: control characters become spaces, never
    glue words), normalised to NFC, stripped. Validators see only such text."""
    return unicodedata.normalize("NFC", clean(text)).strip()


_VERSION_NUMBER_RE = re.compile(r"v?\d{1,2}\.\d{1,3}\.\d{1,4}", re.IGNORECASE)
# Words around an edition's name that are not the name: "редакция «Бизнес»", "1С-Битрикс24:
# Корпоративный портал 250" (users), "Business edition".
_EDITION_PREFIX_RE = re.compile(
    r"^(?:(?:редакци[яиюей]|лицензи[яиюей]|тариф|edition|license|licence|коробк[аи]|"
    r"1с|1c|битрикс ?24|bitrix ?24|битрикс|bitrix|управление сайтом|site manager)\s*)+"
)
_EDITION_SUFFIX_RE = re.compile(
    r"(?:\s+(?:\d{2,5}|на \d{2,5}|пользовател\w*|users?|редакци[яиюей]|edition|верси[яиюей]|"
    r"version))+$"
)


def canonical_edition(text: str) -> str | None:
    """The known edition `text` names, as written in `KNOWN_EDITIONS`; `UNKNOWN` for a «не знаю»
    answer; None when the text is empty or names no edition the desk knows."""
    text = clean_text(text)
    if not text:
        return None
    if is_unknown_answer(text):
        return UNKNOWN
    key = edition_key(_VERSION_NUMBER_RE.sub(" ", text))
    key = _EDITION_SUFFIX_RE.sub("", _EDITION_PREFIX_RE.sub("", key)).strip()
    return EDITION_ALIASES.get(key)


_COUPON_SEPARATORS_RE = re.compile(f"[\\s_\\-{_DASHES}]+")
_COUPON_DASHES_RE = re.compile(f"[{_DASHES}]")


def normalise_coupon(text: str, pattern: str | None = None) -> str:
    """A coupon number in its normal form: upper case, groups joined by hyphens.

    With the configured `pattern` (FRONTDESK_COUPON_PATTERN), groups separated by spaces,
    underscores or any dash ("SM6 NS ABCD12345", "SM6_NS_ABCD12345", "SM6–NS–ABCD12345") are
    joined by hyphens, or written together, whichever matches the pattern ("SM6-NS-ABCD12345").
    Without a pattern, or when no form matches, spaces are dropped and dashes become hyphens."""
    cleaned = clean_text(text).upper()
    plain = _COUPON_DASHES_RE.sub("-", re.sub(r"\s+", "", cleaned))
    if pattern is None or (plain == cleaned and re.fullmatch(pattern, plain)):
        return plain  # the usual case: written in the normal form already
    groups = [g for g in _COUPON_SEPARATORS_RE.split(cleaned) if g]
    for candidate in ("-".join(groups), plain, "".join(groups)):
        if candidate and re.fullmatch(pattern, candidate):
            return candidate
    return plain
