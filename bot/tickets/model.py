"""The ticket: what the desk collected (4.2), how it was classified (section 3) and when (2.1)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

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


CATEGORY_LABELS_RU = {
    "install": "Установка и настройка",
    "performance": "Производительность",
    "update": "Обновление продукта",
    "error": "Ошибка продукта",
    "development": "Разработка",
    "theory": "Работа с системой",
}


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
    details: dict[str, str] = field(default_factory=dict)
    suggested_docs: list[DocLink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    id: str = ""
    status: TicketStatus = TicketStatus.QUEUED

    @property
    def summary(self) -> str:
        """First line of the description, at most 80 characters (the Subject contract)."""
        first = " ".join(self.description.split())
        return first if len(first) <= 80 else first[:79].rstrip() + "…"

    def to_json(self) -> dict[str, Any]:
        """The `ticket.json` contract of ARCHITECTURE.md, plus `details`, `notes` and
        `suggested_docs`."""
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
            "notes": list(self.notes),
            "suggested_docs": [asdict(d) for d in self.suggested_docs],
        }
