"""Which ticket an e-mail's thread names (4.4) and how an agent closes one (4.3): pure rules."""

from __future__ import annotations

import pytest

from bot.policy.closure import closes_ticket, without_closure_line
from bot.policy.threads import ThreadClues, thread_candidates

OURS = frozenset({"whatasoft.test"})


def test_candidates_come_most_trustworthy_first_each_once() -> None:
    clues = ThreadClues(
        reply_address_tickets=("WAS-000004",),
        thread_ids=(
            "<WAS-000003.followup-2@whatasoft.test>",
            "<WAS-000004.ticket@whatasoft.test>",
        ),
        subject="Re: [WAS-000001] Ошибка продукта (WAS-000003)",
        answered_reply_ticket="WAS-000002",
    )
    assert thread_candidates(clues, OURS) == [
        "WAS-000004",
        "WAS-000003",
        "WAS-000002",
        "WAS-000001",
    ]


def test_a_ticket_message_id_counts_only_under_the_desks_own_domain() -> None:
    clues = ThreadClues(
        (), ("<WAS-000007.ticket@evil.example>", "<WAS-000008.ticket@WhatASoft.test>"), ""
    )
    assert thread_candidates(clues, OURS) == ["WAS-000008"]


@pytest.mark.parametrize(
    "message_id",
    ["<WAS-000007.reply@whatasoft.test>", "<x.WAS-000007.ticket@whatasoft.test>", "WAS-000007"],
)
def test_other_message_ids_name_no_ticket(message_id: str) -> None:
    assert thread_candidates(ThreadClues((), (message_id,), "Вопрос"), OURS) == []


def test_a_message_without_clues_names_nothing() -> None:
    assert thread_candidates(ThreadClues((), (), "Не работает корзина"), OURS) == []


@pytest.mark.parametrize(
    ("subject", "text", "closes"),
    [
        ("Re: [WAS-000001] Ошибка", "Исправили.\nСтатус: закрыто", True),
        ("Re: [WAS-000001] Ошибка", "Fixed.\n  status : Closed. \n", True),
        ("Re: [WAS-000001] Ошибка", "Статус: закрыт", True),
        ("[Закрыто] Re: [WAS-000001] Ошибка", "Готово.", True),
        ("[ closed ] Re: x", "", True),
        ("Re: [WAS-000001] Ошибка", "Статус: закрыто, если не вернётся", False),
        ("Re: [WAS-000001] Ошибка", "Когда статус: закрыто — напишем.", False),
        ("Re: закрыто", "Проверьте кэш.", False),
    ],
)
def test_closure_is_the_status_line_or_the_subject_marker(
    subject: str, text: str, closes: bool
) -> None:
    assert closes_ticket(subject, text) is closes


def test_the_customer_does_not_read_the_closure_line() -> None:
    text = "Исправили в 24.100.1.\nСтатус: закрыто\n\nС уважением, Анна"
    shown = without_closure_line(text)
    assert "Статус" not in shown and "закрыто" not in shown
    assert shown.startswith("Исправили в 24.100.1.\n") and shown.endswith("\nС уважением, Анна")
    assert without_closure_line("Проверьте кэш.") == "Проверьте кэш."
