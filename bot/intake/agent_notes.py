"""Notes for the support agents, collected during the intake and printed in the ticket.

Agents read Russian, so the texts are Russian only. A draft keeps its notes by kind
(`NoteKind`): a later answer replaces the notes of its kind (a corrected version drops the
"outdated version" note), and nothing has to be found again by its wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class NoteKind(StrEnum):
    COUPON = (
        "coupon"  # 4.2.5: what the coupon registry said, or that the customer does not know it
    )
    CRITICAL = "critical"  # 2.2: decided from the text, not confirmed by the customer
    VERSION = "version"  # 4.8.2: an outdated version
    DOCS = "docs"  # 1.3: documentation was offered and did not help
    CATEGORY = "category"  # the customer chose the category
    SCOPE = "scope"  # section 3: probably out of scope, the customer was told
    EDITION = "edition"  # 4.2.4: an edition the desk does not know, kept as written
    SITES = "sites"  # 4.2.3: more than one site named
    STEPS = "steps"  # 4.2.1: not asked of a question or a request for work


AGENT_NOTES: dict[str, str] = {
    "coupon_unknown": "Купон: клиент не знает номер — запросите его (п. 4.2.5).",
    "coupon_registry": "Купон: {note}",
    "coupon_demo": (
        "Купон: клиент работает на демоверсии, купона пока нет — проверьте, есть ли лицензия "
        "(п. 1.1, 4.2.5; по установке демоверсии консультируем, п. 3.1.1.1)."
    ),
    "edition_unknown": (
        "Редакция: «{edition}» — такой редакции нет в справочнике, записана как написал клиент; "
        "проверьте (п. 4.2.4)."
    ),
    "sites_several": (
        "Адрес сайта: клиент назвал несколько сайтов — {sites}; в поле записан первый (п. 4.2.3)."
    ),
    "version_old": "Версия {version} старше актуальной {current} (п. 4.8.2).",
    "steps_not_asked": (
        "Шаги воспроизведения: не запрашивались — обращение читается как вопрос или просьба, а "
        "не сбой (п. 4.2.1); при необходимости уточните."
    ),
    "docs_shown": (
        "Клиенту показана документация (п. 1.3); обращение всё равно отправлено — вероятно, "
        "похоже на описанное в документации, но требует пояснения."
    ),
    "category_chosen": "Категория выбрана клиентом (классификатор не был уверен).",
    "category_guessed": (
        "Категория определена автоматически и клиентом не подтверждена (классификатор не был "
        "уверен) — проверьте."
    ),
    "critical_unconfirmed": (
        "Критичность определена по тексту обращения (сайт или сервис не работает), клиент её "
        "не подтверждал (п. 2.2)."
    ),
    "out_of_scope": "Вероятно, вне рамок поддержки (п. {clause}); клиент предупреждён.",
    "scope_undecided": (
        "Рамки поддержки: решите сами — классификатор склоняется к «вне рамок» (п. {clause}), "
        "но не уверен; клиенту о рамках ничего не сказано."
    ),
}


def agent_note(key: str, **values: object) -> str:
    return AGENT_NOTES[key].format(**values)


def set_notes(notes: dict[str, list[str]], kind: NoteKind, lines: Iterable[str]) -> None:
    """Replace the notes of `kind` (none left when `lines` is empty)."""
    kept = list(lines)
    if kept:
        notes[kind] = kept
    else:
        notes.pop(kind, None)


def note_lines(notes: Mapping[str, list[str]]) -> list[str]:
    """All notes in the order agents read them: the kinds' order, then anything else."""
    order = [kind.value for kind in NoteKind]
    keys = sorted(notes, key=lambda k: order.index(k) if k in order else len(order))
    return [line for key in keys for line in notes[key]]
