"""Light text normalisation shared by training and prediction.

`normalize` lower-cases the text, folds ё, repairs words typed with Latin look-alike letters
inside Cyrillic (and the reverse), and replaces URLs, e-mail and IP addresses, version numbers
and long numbers with placeholders, so that "23.500", "24.0.100" or an order number do not
become rare features of their own. HTTP status codes (three digits) are kept: they matter.
"""

from __future__ import annotations

import re

MAX_CHARS = 3000  # huge input (pasted logs) is cut to its head before anything else

_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_IP = re.compile(r"\b\d{1,3}(?:\.(?:\d{1,3}|x{1,3}|\*)){3}\b")
_VERSION = re.compile(r"\b\d+(?:\.\d+)+\b")
_LONG_NUMBER = re.compile(r"\b\d{4,}\b")
PLACEHOLDERS = frozenset({"urltoken", "emailtoken", "iptoken", "vertoken", "numtoken"})
_PLACEHOLDER = re.compile(rf"\b(?:{'|'.join(sorted(PLACEHOLDERS))})\b")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-zа-я][a-zа-я0-9_]+")
_LETTERS = re.compile(r"[a-zа-я]")
_LATIN = re.compile(r"[a-z]")
_CYRILLIC = re.compile(r"[а-я]")
_MIXED = re.compile(r"\w*(?:[a-z]\w*[а-я]|[а-я]\w*[a-z])\w*")

# Latin and Cyrillic letters that look alike (lower case).
_LAT_TO_CYR = str.maketrans("aceopxykmthb", "асеорхукмтнв")
_CYR_TO_LAT = str.maketrans("асеорхукмтнв", "aceopxykmthb")


def _fix_mixed(match: re.Match[str]) -> str:
    word = match.group()
    cyr, lat = len(_CYRILLIC.findall(word)), len(_LATIN.findall(word))
    fixed = word.translate(_LAT_TO_CYR if cyr >= lat else _CYR_TO_LAT)
    # Only a word that becomes one script is a homoglyph typo ("cайт"); "php-fpmы" stays.
    return fixed if not (_LATIN.search(fixed) and _CYRILLIC.search(fixed)) else word


def normalize(text: str) -> str:
    """Lower-case, fold ё, fix homoglyphs, replace URLs, addresses and numbers, collapse spaces."""
    text = text[:MAX_CHARS].lower().replace("ё", "е")
    text = _URL.sub(" urltoken ", text)
    text = _EMAIL.sub(" emailtoken ", text)
    if _LATIN.search(text) and _CYRILLIC.search(text):
        text = _MIXED.sub(_fix_mixed, text)
    text = _IP.sub(" iptoken ", text)
    text = _VERSION.sub(" vertoken ", text)
    text = _LONG_NUMBER.sub(" numtoken ", text)
    return _SPACE.sub(" ", text).strip()


def words(normalized: str) -> list[str]:
    """Word tokens of at least two characters starting with a letter."""
    return _WORD.findall(normalized)


def letter_count(normalized: str) -> int:
    """How many Latin or Cyrillic letters the text has, placeholders aside."""
    return len(_LETTERS.findall(_PLACEHOLDER.sub(" ", normalized)))
