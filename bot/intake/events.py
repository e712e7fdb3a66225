"""What a channel feeds the intake core, and what the core answers (channel-agnostic)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.text import clean
from bot.tickets.model import AttachmentRef, Ticket


@dataclass(frozen=True)
class TextEvent:
    text: str


@dataclass(frozen=True)
class FormEvent(TextEvent):
    """A whole message from a customer who cannot press buttons (an e-mail): its fields and its
    form lines are read at once and the core settles every step it can (bot/intake/form.py).
    Everywhere else it is text like any other (a verification code, a consent answer)."""


@dataclass(frozen=True)
class ChoiceEvent:
    """The customer picked one of the options of a previous reply (button, number)."""

    value: str


@dataclass(frozen=True)
class AttachmentEvent:
    ref: AttachmentRef


@dataclass(frozen=True)
class CommandEvent:
    """start, new, cancel, edit, lang, help (status is answered by the desk from the store)."""

    name: str
    arg: str = ""


Event = TextEvent | ChoiceEvent | AttachmentEvent | CommandEvent


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def typed_option(text: str, options: Sequence[Option], *, numbered: bool = True) -> str | None:
    """The option a customer typed instead of pressing its button, or None.

    Typing an option's label or its value counts (case, spacing and a final "." or "!" do not
    matter), and so does its number (1 for the first) when `numbered`: the console lists the
    options with numbers, a Telegram keyboard does not.
    """
    key = typed_key(text)
    if not key:
        return None
    for n, option in enumerate(options, start=1):
        if key in (typed_key(option.label), option.value.casefold()):
            return option.value
        if numbered and key.isdecimal() and int(key) == n:
            return option.value
    return None


def typed_key(text: str) -> str:
    """What is compared of a typed answer: case, spacing and a final "." or "!" do not matter."""
    return " ".join(text.casefold().split()).strip(" .!")


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    # What `text` says before its question (notices, "Понял: …"): all a channel that does not
    # ask the question (an e-mail already filed) passes on.
    lead: str = field(default="", compare=False)
    # `text` ends with the step's question: a channel that draws the question as a form of its
    # own (the web page) shows only `lead`.
    asks: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class FileTicket:
    """Effect: store the ticket and queue its e-mail in one transaction (outbox)."""

    ticket: Ticket


@dataclass(frozen=True)
class AddFollowUp:
    """Effect: append the customer's message to a filed ticket's e-mail thread (4.4)."""

    ticket_id: str
    text: str
    attachments: tuple[AttachmentRef, ...] = ()


@dataclass(frozen=True)
class Deflected:
    """Effect: the documentation solved it (1.3); no ticket. Counted."""


Effect = FileTicket | AddFollowUp | Deflected


def clean_event(event: Event) -> Event:
    """The event with its text cleaned: free text keeps its lines, commands and choices are one."""
    if isinstance(event, TextEvent):
        return replace(event, text=clean(event.text))
    if isinstance(event, CommandEvent):
        return replace(event, name=clean(event.name, multiline=False), arg=clean(event.arg))
    if isinstance(event, ChoiceEvent):
        return replace(event, value=clean(event.value, multiline=False))
    return event  # an attachment's name was made safe when the file was stored
