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
    """A sure product error, critical or not, and one documentation article for every text."""

    def classify(text: str) -> Classification:
        return Classification("error", True, "3.4.1.1", critical, 0.9)

    def docs(text: str, category: str, lang: str) -> list[DocSuggestion]:
        return [DocSuggestion("Корзина и заказы", "https://docs.example/cart", "")]

    return replace(context, classify=classify, suggest_docs=docs)


def test_a_complete_form_is_filed_in_one_event_with_the_documentation_listed_1_3(
    context: IntakeContext,
) -> None:
    turn = machine.handle(
        machine.new_conversation(), FormEvent(COMPLETE), NOW, form_context(context, critical=False)
    )
    assert [type(e) for e in turn.effects] == [FileTicket]
    assert turn.replies[-1] == Reply(
        "Возможно, пригодится документация:\n- Корзина и заказы: https://docs.example/cart"
    )


def test_a_complete_form_about_a_site_that_is_down_is_filed_at_once_as_critical_2_2(
    context: IntakeContext,
) -> None:
    # A complete e-mail is filed with no guided reply: the text reads as a site that is down,
    # so the ticket is critical, and the agents learn the customer did not confirm it (2.2)
    ctx = form_context(context, critical=True)
    turn = machine.handle(machine.new_conversation(), FormEvent(COMPLETE), NOW, ctx)
    [ticket] = [e.ticket for e in turn.effects if isinstance(e, FileTicket)]
    assert ticket.classification.critical
    assert any("не подтверждал" in note and "2.2" in note for note in ticket.notes)


def test_an_incomplete_form_is_asked_everything_at_once_and_the_answer_files_it_2_2(
    context: IntakeContext,
) -> None:
    ctx = form_context(context, critical=True)
    partial = COMPLETE.replace("Купон: AB12-CD34-EF56\n", "")
    turn = machine.handle(machine.new_conversation(), FormEvent(partial), NOW, ctx)
    assert turn.effects == ()
    # The open questions are the coupon and the 2.2 confirmation, in one guided reply
    open_now = machine.open_questions(turn.state, ctx)
    assert [f.value for f in open_now.fields] == ["coupon"] and open_now.critical
    # The answer by its form lines files it, critical as the customer said
    answer = FormEvent("Купон: AB12-CD34-EF56\nСайт сейчас не работает (да/нет): нет")
    turn = machine.handle(turn.state, answer, NOW, ctx)
    [ticket] = [e.ticket for e in turn.effects if isinstance(e, FileTicket)]
    assert not ticket.classification.critical and ticket.coupon == "AB12-CD34-EF56"
