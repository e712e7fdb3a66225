"""The language of the page: the one the customer switched to, else the browser's preference."""

from __future__ import annotations

__all__ = ["LANGS", "page_lang"]

LANGS = ("ru", "en")


def _accepted(header: str) -> list[tuple[float, str]]:
    """Accept-Language as (weight, primary tag), best first (RFC 9110 §12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for n, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag:
            ranked.append((weight, -n, tag.split("-")[0].lower()))
    return [(w, tag) for w, _, tag in sorted(ranked, reverse=True)]


def page_lang(chosen: str | None, accept_language: str | None) -> str:
    """`chosen` (the switch on the page) when it is one of ours, else the first of ours the
    browser accepts, else Russian."""
    if chosen in LANGS:
        return str(chosen)
    for weight, tag in _accepted(accept_language or ""):
        if weight > 0 and tag in LANGS:
            return tag
    return LANGS[0]
