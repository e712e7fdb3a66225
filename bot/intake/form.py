"""The core's non-interactive mode: a whole request read at once, answers given as form lines.

A customer who cannot press buttons (an e-mail) answers the core's questions with labelled lines
(``Категория: Ошибка продукта``, ``Сайт сейчас не работает (да/нет): нет``, a 4.2.6 question's
label). Reading those lines back is the core's job, so that no channel needs to know the dialog's
steps; what the form asks for is written with the same labels by the guided reply
(bot/intake/form_reply.py).

The steps a form does not ask are decided for such a customer: one ticket per message (2.6 split:
no), documentation (1.3) listed with the confirmation rather than held against filing, no
follow-up to a similar ticket (2.5), and the summary sent as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from bot.intake import texts
from bot.intake.events import ChoiceEvent, TextEvent
from bot.intake.questions import Question

__all__ = [
    "CATEGORY_LABEL",
    "CRITICAL_LABEL",
    "DECIDED",
    "category_answer",
    "critical_answer",
    "docs_text",
    "question_answer",
]

CATEGORY_LABEL = {"ru": "Категория", "en": "Category"}
CRITICAL_LABEL = {"ru": "Сайт сейчас не работает (да/нет)", "en": "Is the site down now (yes/no)"}
# Steps a form customer is not asked about, and what is chosen for them.
DECIDED = {"split": "split_no", "similar": "similar_no", "confirm": "send"}


def form_value(text: str, labels: Iterable[str]) -> str | None:
    """The value of the first line ``<one of labels>: value`` in `text`."""
    alternatives = "|".join(re.escape(label) for label in labels if label)
    if not alternatives:
        return None
    pattern = r"^\s*(?:" + alternatives + r")\s*[:：]\s*(.+)$"
    m = re.search(pattern, text, re.IGNORECASE | re.MULTILINE)
    return m.group(1).strip() if m else None


def category_answer(text: str, categories: Sequence[str]) -> str | None:
    """The category a ``Категория:`` line names (its id, name or the start of its name)."""
    value = form_value(text, CATEGORY_LABEL.values())
    if not value:
        return None
    low = value.lower()
    for cat in categories:
        names = {cat, *(texts.category_name(cat, lg).lower() for lg in texts.LANGS)}
        short = {n.split(" (")[0] for n in names}
        if low in names or low in short or any(low.startswith(s) for s in short if s):
            return cat
    return None


def critical_answer(text: str) -> str | None:
    """ "yes" or "no" from the "is the site down now" line (2.2), None without a clear answer."""
    value = form_value(text, CRITICAL_LABEL.values())
    if not value:
        return None
    answer = texts.yes_or_no(value, site_down=True)
    return None if answer is None else ("yes" if answer else "no")


def question_answer(
    question_id: str, text: str, questions: Mapping[str, Sequence[Question]]
) -> TextEvent | ChoiceEvent:
    """A 4.2.6 question answered by a line with its label, else skipped (they are optional)."""
    q = next((q for qs in questions.values() for q in qs if q.id == question_id), None)
    labels = tuple(dict.fromkeys(x for x in (q.label("ru"), q.label("en")) if x)) if q else ()
    value = form_value(text, labels) if labels else None
    return TextEvent(value) if value else ChoiceEvent("skip")


def docs_text(docs: Sequence[Mapping[str, str]], lang: str) -> str:
    """Documentation found for the request (1.3), listed with the confirmation."""
    lines = [
        "- " + ": ".join(x for x in (d.get("title", ""), d.get("url", "")) if x)
        for d in docs
        if d.get("url") or d.get("title")
    ]
    if not lines:
        return ""
    head = "Возможно, пригодится документация:" if lang != "en" else "Documentation that may help:"
    return "\n".join([head, *lines])
