"""The values a ticket's fields hold: the product's editions, the default product, the «не знаю»
answer, the coupon's normal form, and the cleaning every value gets before it is compared.

Both the intake's validators (`bot.intake.fields`) and the coupon registry (`bot.tickets.coupons`)
read a customer's or an operator's words against this vocabulary, so it lives here, below both.
"""

from __future__ import annotations

import re
import unicodedata

from bot.text import clean

UNKNOWN = "не знаю"  # accepted for steps, edition and version: the agent may ask later (4.2.6)

# The product's editions: the Russian name (what tickets and the coupon registry hold) and the
# English one (shown to English-speaking customers). Written only here: the list of editions, the
# names a customer may type and the intake's search of free text are all built from it.
EDITION_NAMES_EN: dict[str, str] = {
    "Старт": "Start",
    "Стандарт": "Standard",
    "Малый бизнес": "Small Business",
    "Бизнес": "Business",
    "Энтерпрайз": "Enterprise",
    "Корпоративный портал": "Corporate Portal",
    "Корпоративный портал — Энтерпрайз": "Corporate Portal Enterprise",
}
EDITIONS: tuple[str, ...] = tuple(EDITION_NAMES_EN)
# What a customer may type for an edition (lowercase): either name, and a few short forms.
EDITION_ALIASES: dict[str, str] = {
    **{edition.lower(): edition for edition in EDITIONS},
    **{english.lower(): edition for edition, english in EDITION_NAMES_EN.items()},
    "корп портал": "Корпоративный портал",
    "корпоративный портал энтерпрайз": "Корпоративный портал — Энтерпрайз",
    "корпоративный портал - энтерпрайз": "Корпоративный портал — Энтерпрайз",
}

DEFAULT_PRODUCT = "1С-Битрикс: Управление сайтом"

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


def clean_text(text: str) -> str:
    """Cleaned as at the desk's door (`bot.text.clean`: control characters become spaces, never
    glue words), normalised to NFC, stripped. Validators see only such text."""
    return unicodedata.normalize("NFC", clean(text)).strip()


def is_unknown_answer(text: str) -> bool:
    return clean_text(text).lower().strip(" .!") in _UNKNOWN_ANSWERS


def canonical_edition(text: str) -> str | None:
    """The edition `text` names, as written in `EDITIONS`; `UNKNOWN` for a «не знаю» answer; None
    when the text is empty or names no edition."""
    text = clean_text(text)
    if is_unknown_answer(text):
        return UNKNOWN
    key = " ".join(re.sub(r"[«»\"'.,!]", " ", text.lower()).replace("ё", "е").split())
    key = key.removeprefix("редакция ").removeprefix("edition ").strip()
    if key in EDITION_ALIASES:
        return EDITION_ALIASES[key]
    for edition in EDITIONS:
        if key == edition.lower():
            return edition
    return None


def normalise_coupon(text: str) -> str:
    return re.sub(r"\s+", "", clean_text(text)).upper().replace("—", "-").replace("–", "-")
