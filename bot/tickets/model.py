"""The ticket: what the desk collected (4.2), how it was classified (section 3) and when (2.1)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.tickets.values import is_unknown_answer
from classifier import OUT_OF_SCOPE_OPERATING_POINT, load_categories

TICKET_ID_RE = re.compile(r"WAS-\d{6}")


def format_ticket_id(number: int) -> str:
    """Ticket ids are `WAS-` + six digits (ARCHITECTURE.md)."""
    if not 0 < number <= 999_999:
        raise ValueError(f"ticket number out of range: {number}")
    return f"WAS-{number:06d}"


class TicketStatus(StrEnum):
    QUEUED = "queued"  # accepted from the customer, waiting for the SMTP server
    FILED = "filed"  # the support mailbox accepted it: now an official ticket (4.1)
    ANSWERED = "answered"
    CLOSED = "closed"
    FAILED = "failed"  # the SMTP server refused it permanently; operators alerted


# The categories' Russian names, as the ticket subject shows them (`[WAS-000123] <name>: ...`);
# written once, in the classifier's data/scope.json.
CATEGORY_LABELS_RU: dict[str, str] = {c.id: c.ru for c in load_categories().values()}

# The labels of the ticket's fields (the 4.2 fields and the product), by Ticket attribute, in the
# order an agent reads them. Written only here: the intake asks with them
# (bot.intake.texts.field_label) and the ticket e-mail lists them in Russian.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "description": {"ru": "Описание проблемы", "en": "Problem description"},
    "steps": {"ru": "Шаги воспроизведения", "en": "Steps to reproduce"},
    "site_url": {"ru": "Адрес сайта", "en": "Site address"},
    "product": {"ru": "Продукт", "en": "Product"},  # not asked: every ticket is for one product
    "edition": {"ru": "Редакция", "en": "Edition"},
    "version": {"ru": "Версия", "en": "Version"},
    "coupon": {"ru": "Купон", "en": "Coupon"},
    "contact_email": {"ru": "E-mail для ответа", "en": "E-mail for the answer"},
}
# The guided e-mail's form writes "<label>: " lines that bot.intake.extract reads back from the
# customer's reply, so a form label must be one the parser knows. Three English labels above are
# not ("Problem description", "Site address", "E-mail for the answer"): the form writes these.
FORM_LABEL_OVERRIDES: dict[str, dict[str, str]] = {
    "en": {
        "description": "Description",
        "site_url": "Site URL",
        "contact_email": "Contact e-mail",
    },
}

# The note agents get for each 4.2 value the customer did not know («не знаю») or left empty, by
# Ticket attribute. The ticket derives these notes from its fields (`Ticket.agent_notes`), so the
# intake does not write them itself. Steps are asked only "по возможности" (4.2.1), edition and
# version together (4.2.4), the coupon proves the support period (4.2.5). Each note starts with
# the field's label and a colon, as every note about one field does: a more specific note the
# intake wrote about the same field ("Купон: демоверсия …") takes the place of this one.
UNKNOWN_VALUE_NOTES: dict[str, str] = {
    "steps": "Шаги воспроизведения: клиент их не описал — при необходимости уточните (п. 4.2.1).",
    "site_url": "Адрес сайта: клиент его не указал — уточните (п. 4.2.3).",
    "edition": "Редакция: клиент не знает редакцию продукта — уточните её (п. 4.2.4).",
    "version": "Версия: клиент не знает номер версии продукта — уточните его (п. 4.2.4).",
    "coupon": "Купон: клиент не знает номер — запросите его (п. 4.2.5).",
}


def is_unknown_value(value: str) -> bool:
    """True for a 4.2 value the customer did not give: empty, «не знаю» or another such answer."""
    return not value.strip() or is_unknown_answer(value)


SUMMARY_MAX = 80
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_GREETING = re.compile(
    r"^(?:здравствуйте|здравствуй|добрый\s+(?:день|вечер)|доброе\s+утро|доброго\s+времени\s+суток|"
    r"привет|приветствую|hello|hi|good\s+(?:morning|afternoon|evening)|dear\s+support)"
    r"(?:\s+(?:всем|всех|коллеги|all|team))?(?:[\s,!.:;]+|$)",
    re.IGNORECASE,
)


def summarize(description: str, limit: int = SUMMARY_MAX) -> str:
    """The first sentence that says something, for subjects and lists: "Здравствуйте! После
    обновления корзина выдаёт 500. Сайт shop.ru, редакция Бизнес, купон …" gives "После
    обновления корзина выдаёт 500." (the details pasted after it are in the ticket anyway)."""
    text = " ".join(description.split())
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    while sentences and _GREETING.match(sentences[0]):
        rest = _GREETING.sub("", sentences[0], count=1)
        if rest:
            sentences[0] = rest[0].upper() + rest[1:]
            break
        sentences.pop(0)
    summary = sentences[0] if sentences else text
    for more in sentences[1:]:  # a very short first sentence ("Помогите!") takes the next along
        if len(summary) >= 20:
            break
        summary = f"{summary} {more}"
    return summary if len(summary) <= limit else summary[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class AttachmentRef:
    """A customer's file, already checked (4.6) and stored under the data dir."""

    name: str
    path: str
    content_type: str
    size: int = 0


@dataclass(frozen=True)
class Classification:
    category: str
    in_scope: bool
    clause: str
    critical: bool
    confidence: float
    unsure: bool = False
    scope_confidence: float = 1.0  # how likely `in_scope` is right (classifier's estimate)

    @property
    def surely_out_of_scope(self) -> bool:
        """Out of scope with enough certainty to tell the customer so (section 3); below it
        support decides, and the customer is told nothing about scope."""
        return not self.in_scope and self.scope_confidence >= OUT_OF_SCOPE_OPERATING_POINT


@dataclass(frozen=True)
class DocLink:
    title: str
    url: str


@dataclass
class Ticket:
    channel: str
    customer_id: str
    lang: str
    description: str
    site_url: str
    contact_email: str
    classification: Classification
    created_at: datetime
    steps: str = ""
    product: str = ""
    edition: str = ""
    version: str = ""
    coupon: str = ""
    attachments: list[AttachmentRef] = field(default_factory=list)
    working_hours_open: bool = False
    next_opening: datetime | None = None
    details: dict[str, str] = field(default_factory=dict)  # 4.2.6 answers by question id
    # The Russian label of each key of `details` (e.g. "error_text" -> "Текст ошибки"), filled by
    # the intake; the e-mail falls back to data/questions.json for a key without one.
    detail_labels: dict[str, str] = field(default_factory=dict)
    suggested_docs: list[DocLink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    id: str = ""
    status: TicketStatus = TicketStatus.QUEUED
    # The customer's whole first message as written (secrets already redacted, 4.2.7): the agent
    # sees what the fields were read from.
    original_text: str = ""

    @property
    def unknown_value_notes(self) -> list[str]:
        """A note for each 4.2 value the customer did not know or left empty, in field order,
        unless `notes` already holds a note about that field (one starting with its label)."""
        return [
            note
            for name, note in UNKNOWN_VALUE_NOTES.items()
            if is_unknown_value(str(getattr(self, name))) and not self._noted(name)
        ]

    def _noted(self, name: str) -> bool:
        prefix = f"{FIELD_LABELS[name]['ru']}:"
        return any(note.startswith(prefix) for note in self.notes)

    @property
    def agent_notes(self) -> list[str]:
        """Every note for the agents: the unknown 4.2 values first, then the intake's and the
        desk's notes."""
        return [*self.unknown_value_notes, *self.notes]

    @property
    def summary(self) -> str:
        """The problem in one line of at most 80 characters (the Subject contract)."""
        return summarize(self.description)

    def to_json(self) -> dict[str, Any]:
        """The `ticket.json` contract of ARCHITECTURE.md, plus `details` (with `detail_labels`),
        `notes` (all of `agent_notes`), `suggested_docs` and `original_text`."""
        c = self.classification
        return {
            "id": self.id,
            "channel": self.channel,
            "created_at": self.created_at.isoformat(),
            "category": c.category,
            "in_scope": c.in_scope,
            "clause": c.clause,
            "critical": c.critical,
            "confidence": round(c.confidence, 4),
            "scope_confidence": round(c.scope_confidence, 4),
            "description": self.description,
            "steps": self.steps,
            "site_url": self.site_url,
            "product": self.product,
            "edition": self.edition,
            "version": self.version,
            "coupon": self.coupon,
            "contact_email": self.contact_email,
            "attachments": [a.name for a in self.attachments],
            "working_hours": {
                "open": self.working_hours_open,
                "next_opening": self.next_opening.isoformat() if self.next_opening else None,
            },
            "details": dict(self.details),
            "detail_labels": dict(self.detail_labels),
            "notes": self.agent_notes,
            "suggested_docs": [asdict(d) for d in self.suggested_docs],
            "original_text": self.original_text,
        }
