"""Cleaning of text where it enters the desk (console, Telegram, e-mail bodies, the desk itself).

Two kinds of damage are repaired once, at the door, so nothing further in (SQLite, rendering,
validators, the Bot API) ever meets them:

- lone surrogates (invalid UTF-8 read with `surrogateescape`, or a `\\ud800` escape in JSON) are
  not encodable as UTF-8: each becomes U+FFFD; a well-formed surrogate pair becomes its character;
- control characters are replaced, never deleted: deleting glued the words around them together
  (`ivan@mail.ru\\x85Bcc: c@z.ru` became the address `ivan@mail.rubcc`). C0 except newline and tab,
  DEL and C1 become a space; CR LF, CR and the Unicode line and paragraph separators become a
  newline in free text. In a single line (a file name, a command argument) every one of them,
  newline and tab included, becomes a space.

Invisible formatting characters (zero-width space and joiners, direction marks, bidi overrides and
isolates, the BOM) are dropped: they show as nothing, so dropping them keeps the text as it looks
and leaves no bidi override to disguise an address or a file name.

Cleaning is idempotent: the desk cleans every event again as a safety net, at no harm.
"""

from __future__ import annotations

import re

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_LINE_BREAK_RE = re.compile("\r\n?|[\u2028\u2029]")
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SINGLE_LINE_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Any character one of the above would touch: most text has none and is returned after one scan.
_TOUCHED_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def fix_surrogates(text: str) -> str:
    """Lone surrogates replaced by U+FFFD; a surrogate pair joined into its character."""
    if _SURROGATE_RE.search(text) is None:  # the common case costs one scan
        return text
    # UTF-16 is where surrogates mean something: pairs decode, lone halves become U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean(text: str, *, multiline: bool = True) -> str:
    """Text from outside made safe to store, render and validate (see the module's docstring)."""
    if multiline and _TOUCHED_RE.search(text) is None:
        return text
    text = _INVISIBLE_RE.sub("", fix_surrogates(text))
    if not multiline:
        return _SINGLE_LINE_CONTROL_RE.sub(" ", text.replace("\r\n", " "))
    return _CONTROL_RE.sub(" ", _LINE_BREAK_RE.sub("\n", text))
