"""The core's non-interactive mode (bot/intake/form.py): a whole e-mail read at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.intake import machine
from bot.intake.events import FileTicket, FormEvent, Reply
from bot.intake.machine import DocSuggestion, IntakeContext
from bot.tickets.model import Classification

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
COMPLETE = """После обновления корзина выдаёт ошибку 500 при оформлении заказа.
Шаги воспроизведения: открыть корзину, нажать «Оформить заказ».
Адрес сайта: https://shop.example
Редакция: Бизнес
Версия: 24.100.0
Купон: AB12-CD34-EF56
E-mail для ответа: ivan@shop.example
"""


def form_context(context: IntakeContext, *, critical: bool) -> IntakeContext:
    def classify(text: str) -> Classification:
        return Classification("error", True, "3.4.1.1", critical, 0.9)

    def docs(text: str, category: str, lang: str) -> list[DocSuggestion]:
        return [DocSuggestion("Корзина и заказы", "https://docs.example/cart", "")]

    return replace(context, classify=classify, suggest_docs=docs)


def test_a_complete_form_is_filed_in_one_event_with_the_documentation_listed(
    context: IntakeContext,
) -> None:
    step = machine.handle(
        machine.new_conversation(), FormEvent(COMPLETE), NOW, form_context(context, critical=False)
    )
    assert [type(e) for e in step.effects] == [FileTicket]
    assert step.replies[-1] == Reply(
        "Возможно, пригодится документация:\n- Корзина и заказы: https://docs.example/cart"
    )


def test_a_question_the_form_does_not_answer_is_left_for_the_customer(
    context: IntakeContext,
) -> None:
    ctx = form_context(context, critical=True)
    step = machine.handle(machine.new_conversation(), FormEvent(COMPLETE), NOW, ctx)
    assert step.effects == () and step.state.step == "critical"
    # The answer by its form line files it
    answer = FormEvent("Сайт сейчас не работает (да/нет): да")
    step = machine.handle(step.state, answer, NOW, ctx)
    [ticket] = [e.ticket for e in step.effects if isinstance(e, FileTicket)]
    assert ticket.classification.critical
