"""Pure rendering of the core's replies for Telegram: HTML escaping, 4096 splits, keyboards."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.intake.events import Option, Reply

MAX_MESSAGE = 4096
_SHORT_LABEL = 20


def escape(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message: HTML text and an optional inline keyboard."""

    html: str
    markup: InlineKeyboardMarkup | None = None


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Plain-text chunks whose escaped form fits `limit`; cut at paragraphs, lines or words."""
    chunks: list[str] = []
    rest = text.strip()
    while len(escape(rest)) > limit:
        size, cut = 0, 0
        for i, ch in enumerate(rest):
            size += len(escape(ch))
            if size > limit:
                cut = i
                break
        head = rest[:cut]
        brk = -1
        for separator in ("\n\n", "\n", " "):
            brk = head.rfind(separator)
            if brk > cut // 2:
                break
        if brk <= 0:
            brk = cut
        chunks.append(rest[:brk].rstrip())
        rest = rest[brk:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def keyboard(options: Sequence[Option], pack: Callable[[str], str]) -> InlineKeyboardMarkup | None:
    """One button per option; short labels two per row. `pack` makes the callback data."""
    if not options:
        return None
    buttons = [InlineKeyboardButton(text=o.label, callback_data=pack(o.value)) for o in options]
    per_row = 2 if all(len(o.label) <= _SHORT_LABEL for o in options) and len(options) > 3 else 1
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def render(reply: Reply, pack: Callable[[str], str]) -> list[Outgoing]:
    """Messages for one reply; the keyboard goes with the last part of a long text."""
    parts = split_text(reply.text)
    if not parts and reply.options:
        parts = ["…"]
    messages = [Outgoing(escape(part)) for part in parts]
    markup = keyboard(reply.options, pack)
    if markup is not None:
        messages[-1] = Outgoing(messages[-1].html, markup)
    return messages


def option_lookup(options: Sequence[Option]) -> dict[str, str]:
    """What a customer may type instead of pressing a button: its label, case-insensitive."""
    return {" ".join(o.label.split()).casefold(): o.value for o in options}
