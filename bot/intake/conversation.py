"""The state of one customer's intake conversation, and what one event does to it.

`Conversation` is what the desk stores per (channel, user) between messages (JSON through
`to_dict`/`from_dict`); `Step` says what the customer is being asked; `Turn` is the core's
answer to one event (bot/intake/machine.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from bot.intake import texts
from bot.intake.events import Effect, Reply
from bot.tickets.model import AttachmentRef


class Step(StrEnum):
    """Where a draft stands: what the customer is asked now (`STEPS` holds each step's rules)."""

    IDLE = "idle"  # nothing being written
    ASK = "ask"  # a 4.2 field (`Conversation.asking`)
    SPLIT = "split"  # 2.6: several problems in one message, file them one by one?
    CATEGORY = "category"  # the classifier is unsure: the customer picks
    CRITICAL = "critical"  # 2.2: is the site down now?
    SIMILAR = "similar"  # 2.5: the same problem as an open ticket?
    # The summary, with the documentation that may answer it (1.3) and the optional questions
    # that matter for it (4.2.6): send, add details, "the documentation helped", edit, cancel.
    CONFIRM = "confirm"
    DETAILS = "details"  # the optional questions, answered in one message
    EDIT = "edit"  # which field to change
    FILED = "filed"  # a ticket was filed: further messages are its follow-ups (4.4)
    # The filed ticket was closed by support: is a new message about it (reopen, 5.1) or new?
    REOPEN = "reopen"


class Gate(StrEnum):
    """Checks passed at most once per request."""

    SPLIT = "split"
    SIMILAR = "similar"
    PROFANITY = "profanity"  # 4.8.11: the customer kept the wording
    SCOPE_EARLY = "scope_early"  # section 3: out of scope said as soon as described


@dataclass
class Conversation:
    """Per (channel, user) state; JSON-serialisable via to_dict/from_dict."""

    lang: str = texts.DEFAULT_LANG
    lang_chosen: bool = False  # set with /lang: never changed by what the customer writes
    step: Step = Step.IDLE
    asking: str | None = None  # the first of the fields asked for (a bare answer goes there)
    asked: list[str] = field(default_factory=list)  # fields asked for at least once
    fields: dict[str, str] = field(default_factory=dict)
    displays: dict[str, str] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    category: str | None = None  # chosen by the customer when the classifier was unsure
    critical: bool | None = None  # 2.2: the customer's answer to "is the site down now?"
    return_to_confirm: bool = False
    ticket_id: str | None = None  # the last filed ticket: further messages are its follow-ups
    remembered: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)  # 4.2.6 answers by question id
    notes: dict[str, list[str]] = field(default_factory=dict)  # for the agents, by NoteKind
    gates: list[Gate] = field(default_factory=list)  # gates already passed for this request
    docs: list[dict[str, str]] = field(default_factory=list)  # 1.3 suggestions shown
    similar_to: str | None = None  # 2.5
    queued_problems: list[str] = field(default_factory=list)  # 2.6: the next requests to file
    held_text: str | None = None  # 4.8.11: a message held back until rephrased or confirmed
    coupon_retries: int = 0
    verify_address: str | None = None  # a code was sent there; the desk's, not the core's
    # Everything the customer wrote for this request, as written (secrets redacted, 4.2.7):
    # the fields are read out of it, the agent still sees the words they came from.
    original_text: str = ""
    ticket_closed: bool = False  # the desk's word: support closed `ticket_id` (4.3)
    pending_text: str | None = None  # a message waiting for the answer to REOPEN
    # A closed ticket this new request may be about after all: the summary offers to reopen it
    closed_ticket: str | None = None
    # The classifier's verdict on the request text it was given: asked again only when the
    # text changes, not at every gate.
    classified_text: str | None = None
    classification: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain data (the machine copies a state this way before changing it)."""
        return {name: _plain_copy(getattr(self, name)) for name in _FIELD_NAMES}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        s = cls(**known)
        # Steps of earlier versions ("question", "kb") end at the summary.
        known_step = s.step in Step._value2member_map_
        s.step = Step(s.step) if known_step else (Step.CONFIRM if s.fields else Step.IDLE)
        s.gates = [Gate(g) for g in s.gates if g in Gate._value2member_map_]
        if isinstance(s.notes, list):  # stored before notes were kept by kind
            s.notes = {"earlier": list(s.notes)} if s.notes else {}
        return s

    def attachment_refs(self) -> list[AttachmentRef]:
        return [AttachmentRef(**a) for a in self.attachments]


_FIELD_NAMES = tuple(f.name for f in fields(Conversation))


def _plain_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, tuples of strings, numbers, enums):
    what `dataclasses.asdict` made of a state, at a fraction of its cost."""
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain_copy(v) for v in value)
    return value


@dataclass(frozen=True)
class Turn:
    """What one event did: the new state, what to tell the customer, what the desk must do."""

    state: Conversation
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
