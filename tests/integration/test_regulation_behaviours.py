"""Regulation behaviours at the desk, through the intake core with the real model and data.

Each test is named after its clause.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.intake import machine
from bot.intake.events import AddFollowUp, ChoiceEvent, Deflected, Event, FileTicket, TextEvent
from bot.intake.fields import Field
from bot.intake.machine import IntakeContext, Step
from bot.policy.kb import KnowledgeBase
from bot.tickets.coupons import CouponLookup, CouponRegistry
from bot.tickets.model import Ticket
from tests.helpers import through_gates

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DETAILS = (
    " Сайт example.ru, редакция Бизнес, версия 25.1.0, купон SM6-NS-ABCD12345, ivan@example.ru"
)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "coupons"
KB = KnowledgeBase.load()


def run(ctx: IntakeContext, *events: Event, step: Step | None = None) -> Step:
    step = step or Step(machine.new_conversation())
    for event in events:
        step = machine.handle(step.state, event, NOW, ctx)
    return step


SKIP_ALL = {"question": "skip", "critical": "no", "kb": "kb_no", "similar": "similar_no",
            "split": "split_no", "category": "error"}  # fmt: skip


def filed(step: Step) -> Ticket:
    (effect,) = step.effects
    assert isinstance(effect, FileTicket)
    return effect.ticket


def test_1_3_documentation_solves_it_and_no_ticket_is_filed(context: IntakeContext) -> None:
    step = run(context, TextEvent("Как настроить композитный сайт, чтобы страницы отдавались "
                                  "быстрее?" + DETAILS), TextEvent("нет"))  # fmt: skip
    step = through_gates(context, step, SKIP_ALL, NOW, until="kb")
    assert "1.3" in step.replies[-1].text and "http" in step.replies[-1].text
    step = machine.handle(step.state, ChoiceEvent("kb_yes"), NOW, context)
    assert step.effects == (Deflected(),)
    assert step.state.fields == {}


def test_1_3_documentation_not_enough_the_ticket_carries_the_links(context: IntakeContext) -> None:
    step = run(context, TextEvent("Как настроить композитный сайт, чтобы страницы отдавались "
                                  "быстрее?" + DETAILS), TextEvent("нет"))  # fmt: skip
    step = through_gates(context, step, SKIP_ALL, NOW, until="confirm")
    ticket = filed(machine.handle(step.state, ChoiceEvent("send"), NOW, context))
    assert ticket.suggested_docs and ticket.suggested_docs[0].url.startswith("https://")
    assert any("1.3" in note for note in ticket.notes)


def test_1_3_the_search_reads_the_problem_not_the_4_2_values_quoted_with_it(
    context: IntakeContext,
) -> None:
    # A broken cart written in one message with the coupon: the coupon number says nothing about
    # the problem and once brought up the coupon-renewal article.
    problem = "После обновления корзина выдаёт ошибку 500 при оформлении заказа."
    step = run(context, TextEvent(problem + DETAILS), TextEvent("1. Добавить товар 2. Оформить"))
    step = through_gates(context, step, SKIP_ALL, NOW, until="confirm")
    ticket = filed(machine.handle(step.state, ChoiceEvent("send"), NOW, context))
    assert "SM6-NS-ABCD12345" in ticket.description  # the agent still reads it as written
    assert ticket.coupon == "SM6-NS-ABCD12345"
    urls = [d.url for d in ticket.suggested_docs]
    coupon_articles = [e.url for e in KB.entries if "купон" in e.title_ru.lower()]
    assert coupon_articles and not set(urls) & set(coupon_articles)


def test_3_x_2_out_of_scope_is_explained_and_may_still_be_filed(context: IntakeContext) -> None:
    text = "Установите нам, пожалуйста, битрикс на наш новый сервер под ключ, сами не умеем."
    step = run(context, TextEvent(text + DETAILS), TextEvent("нет"))
    step = through_gates(context, step, SKIP_ALL, NOW, until="confirm")
    summary = step.replies[-1].text
    assert "вне рамок" in summary and "3.1.2.1" in summary
    ticket = filed(machine.handle(step.state, ChoiceEvent("send"), NOW, context))
    assert ticket.classification.in_scope is False
    assert any("вне рамок" in note for note in ticket.notes)


def test_3_x_2_out_of_scope_is_said_as_soon_as_it_is_described(context: IntakeContext) -> None:
    text = "Установите нам, пожалуйста, битрикс на наш новый сервер под ключ, сами не умеем."
    step = run(context, TextEvent(text))  # nothing else given yet: the steps are asked next
    assert step.state.asking == Field.STEPS
    said = step.replies[0].text
    assert "вне рамок" in said and "3.1.2.1" in said and "/cancel" in said
    # Said once: the next answers are not prefixed with it again
    step = run(context, TextEvent("не знаю"), step=step)
    assert all("вне рамок" not in r.text for r in step.replies)
    # An in-scope problem hears nothing of the kind
    step = run(context, TextEvent("Не работает оформление заказа в корзине, ошибка 500"))
    assert all("вне рамок" not in r.text for r in step.replies)


def test_2_6_several_problems_are_filed_as_separate_tickets(context: IntakeContext) -> None:
    text = ("1) не работает оформление заказа в корзине, ошибка при оплате\n"
            "2) очень медленно открывается каталог товаров, страница грузится 20 секунд\n"
            + DETAILS)  # fmt: skip
    step = run(context, TextEvent(text), TextEvent("не знаю"))
    assert step.state.step == "split"
    assert "2.6" in step.replies[-1].text
    step = machine.handle(step.state, ChoiceEvent("split_yes"), NOW, context)
    step = through_gates(context, step, SKIP_ALL, NOW, until="confirm")
    first = filed(machine.handle(step.state, ChoiceEvent("send"), NOW, context))
    assert "корзин" in first.description and "каталог" not in first.description
    first.id = "WAS-000010"
    after = machine.on_ticket_queued(step.state, first, NOW, context)
    # The second problem starts at once with the same details, asked nothing twice
    assert "каталог" in after.state.fields[Field.DESCRIPTION]
    assert after.state.fields[Field.CONTACT_EMAIL] == "ivan@example.ru"
    assert after.state.asking == Field.STEPS  # steps belong to each problem; nothing else asked
    assert set(after.state.fields) == set(Field) - {Field.STEPS}


def test_4_2_7_passwords_are_never_kept(context: IntakeContext) -> None:
    step = run(context, TextEvent("Не открывается админка, логин admin пароль: Qw3rty!2024 "
                                  "сайт example.ru"))  # fmt: skip
    assert "Qw3rty!2024" not in str(step.state.to_dict())
    assert "[скрыто]" in step.state.fields[Field.DESCRIPTION]
    assert "4.2.7" in step.replies[-1].text


def test_4_2_7_talk_about_passwords_is_not_a_secret(context: IntakeContext) -> None:
    step = run(context, TextEvent("Пароль не приходит на почту после регистрации на сайте"))
    assert step.state.fields[Field.DESCRIPTION] == (
        "Пароль не приходит на почту после регистрации на сайте"
    )
    assert "4.2.7" not in step.replies[-1].text


def test_4_8_11_insults_are_held_until_rephrased_or_confirmed(context: IntakeContext) -> None:
    step = run(context, TextEvent("Вы идиоты, сайт опять не работает после вашего обновления"))
    assert Field.DESCRIPTION not in step.state.fields
    assert "4.8.11" in step.replies[-1].text
    assert [o.value for o in step.replies[-1].options] == ["keep"]
    # Rephrased: accepted
    rephrased = machine.handle(
        step.state, TextEvent("Сайт опять не работает после обновления"), NOW, context
    )
    assert rephrased.state.fields[Field.DESCRIPTION] == "Сайт опять не работает после обновления"
    # Or confirmed as it is
    kept = machine.handle(step.state, ChoiceEvent("keep"), NOW, context)
    assert "идиоты" in kept.state.fields[Field.DESCRIPTION]


def test_2_5_an_open_ticket_about_the_same_problem_is_offered(context: IntakeContext) -> None:
    ctx = replace(context, open_tickets=(
        ("WAS-000005", "Не работает оформление заказа в корзине, ошибка при оплате"),
    ))  # fmt: skip
    step = run(ctx, TextEvent("Опять не работает оформление заказа в корзине, ошибка при оплате"
                              + DETAILS), TextEvent("нет"))  # fmt: skip
    step = through_gates(ctx, step, SKIP_ALL, NOW, until="similar")
    assert "WAS-000005" in step.replies[-1].text and "2.5" in step.replies[-1].text
    step = machine.handle(step.state, ChoiceEvent("similar_yes"), NOW, ctx)
    assert isinstance(step.effects[0], AddFollowUp)
    assert step.effects[0].ticket_id == "WAS-000005"
    assert step.state.ticket_id == "WAS-000005"


def test_4_8_2_an_old_version_is_warned_about(context: IntakeContext) -> None:
    step = run(context, TextEvent("Не работает корзина на example.ru, версия 20.0.0"))
    assert "4.8.2" in step.replies[-1].text
    assert any("4.8.2" in note for note in step.state.notes)


def test_4_2_6_category_questions_are_asked_once_and_reach_the_ticket(
    context: IntakeContext,
) -> None:
    text = "После установки модуля на сайте ошибка Fatal error в компоненте каталога" + DETAILS
    step = run(context, TextEvent(text), TextEvent("не знаю"))
    step = through_gates(context, step, {**SKIP_ALL, "category": "error"}, NOW, until="question")
    asked = step.state.asking
    assert step.replies[-1].options[0].value == "skip"
    step = machine.handle(step.state, TextEvent("вчера вечером"), NOW, context)
    assert step.state.details[asked] == "вчера вечером"
    step = through_gates(context, step, SKIP_ALL, NOW, until="confirm")
    ticket = filed(machine.handle(step.state, ChoiceEvent("send"), NOW, context))
    assert ticket.details[asked] == "вчера вечером"


@pytest.fixture
async def coupon_context(context: IntakeContext, tmp_path: Path) -> IntakeContext:
    db = tmp_path / "desk.sqlite3"
    registry = await CouponRegistry.open(db)
    await registry.import_csv(FIXTURES / "good.csv", r"[A-Z0-9]{2,10}(?:-[A-Z0-9]{2,10}){1,5}")
    await registry.close()
    return replace(context, coupon_check=CouponLookup(db))


def test_4_8_8_unknown_coupon_is_asked_once_more_then_noted(
    coupon_context: IntakeContext,
) -> None:
    ctx = coupon_context
    step = run(ctx, TextEvent("Не работает корзина на example.ru, купон NOPE-0000-ZZZZ"))
    assert Field.COUPON not in step.state.fields
    step = run(ctx, TextEvent("купон NOPE-0000-ZZZZ"), step=step)
    assert step.state.fields[Field.COUPON] == "NOPE-0000-ZZZZ"
    assert any("4.8.8" in note for note in step.state.notes)


def test_4_8_5_expired_support_is_explained_and_edition_prefilled(
    coupon_context: IntakeContext,
) -> None:
    step = run(coupon_context, TextEvent("Не работает корзина на example.ru, купон "
                                         "WXYZ-0001-AAAA"))  # fmt: skip
    assert step.state.fields[Field.COUPON] == "WXYZ-0001-AAAA"
    assert "4.8.5" in step.replies[-1].text
    assert step.state.fields[Field.EDITION] == "Старт"
