"""Pure rendering of the core's replies for Telegram: HTML escaping, 4096 splits, keyboards,
and coalescing of consecutive replies into one message."""

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


def coalesce(replies: Sequence[Reply], limit: int = MAX_MESSAGE) -> list[Reply]:
    """Consecutive replies joined into one (texts separated by a blank line), so that one update
    is answered by as few messages as possible. A reply with buttons ends a group and its buttons
    stay on the joined reply; a reply is not joined if the escaped joined text would exceed
    `limit` (a single over-long reply is left to `render` to split)."""
    groups: list[Reply] = []
    texts: list[str] = []
    size = 0  # escaped length of "\n\n".join(texts)

    def flush(options: tuple[Option, ...] = ()) -> None:
        nonlocal size
        if texts or options:
            groups.append(Reply("\n\n".join(texts), options))
        texts.clear()
        size = 0

    for reply in replies:
        text = reply.text.strip()
        if text:
            length = len(escape(text))
            if texts and size + 2 + length > limit:
                flush()
            size += length + (2 if texts else 0)
            texts.append(text)
        if reply.options:
            flush(reply.options)
    flush()
    return groups
