"""Light text normalisation shared by training and prediction."""

from __future__ import annotations

import re

MAX_CHARS = 3000  # huge input (pasted logs) is cut to its head before anything else

_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-zа-я][a-zа-я0-9_]+")
_LETTERS = re.compile(r"[a-zа-я]")


def normalize(text: str) -> str:
    """Lower-case, fold ё, replace URLs and e-mail addresses, collapse whitespace."""
    text = text[:MAX_CHARS].lower().replace("ё", "е")
    text = _URL.sub(" urltoken ", text)
    text = _EMAIL.sub(" emailtoken ", text)
    return _SPACE.sub(" ", text).strip()


def words(normalized: str) -> list[str]:
    """Word tokens of at least two characters starting with a letter."""
    return _WORD.findall(normalized)


def letter_count(normalized: str) -> int:
    """How many Latin or Cyrillic letters the text has."""
    return len(_LETTERS.findall(normalized))
