"""HTML built from templates in which every value is escaped unless it is markup already.

The pages are small and server-rendered, so a template engine would be one more dependency for
little; what matters is that no customer text ever reaches a page unescaped. `html()` is the one
way a page is written: its template is a literal of the code, and each value put into it is
escaped by `html.escape` (quotes too, so it is safe inside attributes) unless it is `Markup`
made by `html()` itself. Nothing else produces `Markup`.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable

__all__ = ["Markup", "escape", "html", "join", "text_block"]


class Markup(str):
    """A piece of HTML that is safe as it is (built by `html` or `join`)."""

    __slots__ = ()

    def __add__(self, other: str) -> Markup:
        """Markup after markup stays markup; text added to it is escaped."""
        return Markup(str.__add__(self, escape(other)))


def escape(value: object) -> Markup:
    """`value` as HTML text: markup stays, anything else is escaped (quotes included)."""
    if isinstance(value, Markup):
        return value
    return Markup(_html.escape(str(value), quote=True))


def html(template: str, /, **values: object) -> Markup:
    """The template with `{name}` fields filled with escaped values (see the module docstring).

    The template must be a literal: never build one from a customer's text."""
    return Markup(template.format_map({k: escape(v) for k, v in values.items()}))


def join(parts: Iterable[object], sep: str = "") -> Markup:
    """Pieces of markup (or text, escaped) one after another."""
    return Markup(escape(sep).join(escape(p) for p in parts))


_BR = Markup("<br>")


def text_block(value: str) -> Markup:
    """Multi-line text as paragraphs with line breaks, every line escaped."""
    paragraphs = [p for p in value.split("\n\n") if p.strip()]
    return join(
        html("<p>{lines}</p>", lines=join((escape(line) for line in p.split("\n")), _BR))
        for p in paragraphs
    )
