"""Regulation behaviours at the desk, through the intake core with the real data (documentation,
questions, scope) and the keyword classifier stub (tests/classifier_stub.py) instead of the model.

Each test is named after its clause.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.intake import machine
from bot.intake.agent_notes import note_lines
from bot.intake.events import AddFollowUp, ChoiceEvent, Deflected, TextEvent
from bot.intake.fields import Field
from bot.intake.machine import IntakeContext
from bot.policy.kb import KnowledgeBase
from bot.tickets.coupons import CouponLookup, CouponRegistry
from bot.tickets.model import Classification
from tests.helpers import WORKING_HOURS as NOW
from tests.helpers import filed_ticket, talk, through_gates

DETAILS = (
    " Сайт example.ru, редакция Бизнес, версия 25.1.0, купон SM6-NS-ABCD12345, ivan@example.ru"
)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "coupons"
# Caching advice (3.2.1.3): documentation may answer it.
COMPOSITE = "Как настроить композитный сайт, чтобы страницы отдавались быстрее?"
# "Install it for us": 3.1.2.1, out of scope.
INSTALL_FOR_US = "Установите нам, пожалуйста, битрикс на наш новый сервер под ключ, сами не умеем."
SKIP_ALL = {"question": "skip", "critical": "no", "kb": "kb_no", "similar": "similar_no",
            "split": "split_no", "category": "error"}  # fmt: skip


def test_1_3_documentation_solves_it_and_no_ticket_is_filed(context: IntakeContext) -> None:
    turn = talk(context, TextEvent(COMPOSITE + DETAILS), TextEvent("нет"))
    turn = through_gates(context, turn, SKIP_ALL, NOW, until="confirm")
    # The documentation comes with the summary, with a button to say it answered the question
    assert "1.3" in turn.replies[-1].text and "http" in turn.replies[-1].text
    assert "docs_helped" in [o.value for o in turn.replies[-1].options]
    turn = machine.handle(turn.state, ChoiceEvent("docs_helped"), NOW, context)
    assert turn.effects == (Deflected(),)
    assert turn.state.fields == {}


def test_1_3_documentation_not_enough_the_ticket_carries_the_links(context: IntakeContext) -> None:
    turn = talk(context, TextEvent(COMPOSITE + DETAILS), TextEvent("нет"))
    turn = through_gates(context, turn, SKIP_ALL, NOW, until="confirm")
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    assert ticket.suggested_docs and ticket.suggested_docs[0].url.startswith("https://")
    assert any("1.3" in note for note in ticket.notes)


def test_1_3_the_search_reads_the_problem_not_the_4_2_values_quoted_with_it(
    context: IntakeContext,
) -> None:
    # A broken cart written in one message with the coupon: the coupon number says nothing about
    # the problem and once brought up the coupon-renewal article.
    problem = "После обновления корзина выдаёт ошибку 500 при оформлении заказа."
    turn = talk(context, TextEvent(problem + DETAILS), TextEvent("1. Добавить товар 2. Оформить"))
    turn = through_gates(context, turn, SKIP_ALL, NOW, until="confirm")
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    # The description is the problem; the agent still reads the message as it was written
    assert "SM6-NS-ABCD12345" not in ticket.description
    assert "SM6-NS-ABCD12345" in ticket.original_text
    assert ticket.coupon == "SM6-NS-ABCD12345"
    urls = [d.url for d in ticket.suggested_docs]
    kb = KnowledgeBase.load()
    coupon_articles = [e.url for e in kb.entries if "купон" in e.title_ru.lower()]
    assert coupon_articles and not set(urls) & set(coupon_articles)


def test_3_x_2_out_of_scope_is_explained_and_may_still_be_filed(context: IntakeContext) -> None:
    turn = talk(context, TextEvent(INSTALL_FOR_US + DETAILS), TextEvent("нет"))
    turn = through_gates(context, turn, SKIP_ALL, NOW, until="confirm")
    summary = turn.replies[-1].text
    assert "вне рамок" in summary and "3.1.2.1" in summary
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    assert ticket.classification.in_scope is False
    assert any("вне рамок" in note for note in ticket.notes)


def test_3_x_2_out_of_scope_is_said_as_soon_as_it_is_described(context: IntakeContext) -> None:
    turn = talk(context, TextEvent(INSTALL_FOR_US))  # nothing else given: the steps come next
    assert turn.state.asking == Field.STEPS
    said = turn.replies[0].text
    assert "вне рамок" in said and "3.1.2.1" in said and "/cancel" in said
    # Said once: the next answers are not prefixed with it again
    turn = talk(context, TextEvent("не знаю"), state=turn.state)
    assert all("вне рамок" not in r.text for r in turn.replies)
    # An in-scope problem hears nothing of the kind
    turn = talk(context, TextEvent("Не работает оформление заказа в корзине, ошибка 500"))
    assert all("вне рамок" not in r.text for r in turn.replies)


def test_2_6_several_problems_are_filed_as_separate_tickets(context: IntakeContext) -> None:
    text = ("1) не работает оформление заказа в корзине, ошибка при оплате\n"
            "2) очень медленно открывается каталог товаров, страница грузится 20 секунд\n"
            + DETAILS)  # fmt: skip
    turn = talk(context, TextEvent(text), TextEvent("не знаю"))
    assert turn.state.step == "split"
    assert "2.6" in turn.replies[-1].text
    turn = machine.handle(turn.state, ChoiceEvent("split_yes"), NOW, context)
    turn = through_gates(context, turn, SKIP_ALL, NOW, until="confirm")
    first = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    assert "корзин" in first.description and "каталог" not in first.description
    first.id = "WAS-000010"
    after = machine.on_ticket_queued(turn.state, first, NOW, context)
    # The second problem starts at once with the same details, asked nothing twice
    assert "каталог" in after.state.fields[Field.DESCRIPTION]
    assert after.state.fields[Field.CONTACT_EMAIL] == "ivan@example.ru"
    assert after.state.asking == Field.STEPS  # steps belong to each problem; nothing else asked
    assert set(after.state.fields) == set(Field) - {Field.STEPS}


def test_4_2_7_passwords_are_never_kept(context: IntakeContext) -> None:
    turn = talk(context, TextEvent("Не открывается админка, логин admin пароль: Qw3rty!2024 "
                                   "сайт example.ru"))  # fmt: skip
    assert "Qw3rty!2024" not in str(turn.state.to_dict())
    assert "[скрыто]" in turn.state.fields[Field.DESCRIPTION]
    assert "4.2.7" in turn.replies[-1].text


def test_4_2_7_talk_about_passwords_is_not_a_secret(context: IntakeContext) -> None:
    turn = talk(context, TextEvent("Пароль не приходит на почту после регистрации на сайте"))
    assert turn.state.fields[Field.DESCRIPTION] == (
        "Пароль не приходит на почту после регистрации на сайте"
    )
    assert "4.2.7" not in turn.replies[-1].text


def test_4_8_11_insults_are_held_until_rephrased_or_confirmed(context: IntakeContext) -> None:
    turn = talk(context, TextEvent("Вы идиоты, сайт опять не работает после вашего обновления"))
    assert Field.DESCRIPTION not in turn.state.fields
    assert "4.8.11" in turn.replies[-1].text
    assert [o.value for o in turn.replies[-1].options] == ["keep"]
    # Rephrased: accepted
    rephrased = machine.handle(
        turn.state, TextEvent("Сайт опять не работает после обновления"), NOW, context
    )
    assert rephrased.state.fields[Field.DESCRIPTION] == "Сайт опять не работает после обновления"
    # Or confirmed as it is
    kept = machine.handle(turn.state, ChoiceEvent("keep"), NOW, context)
    assert "идиоты" in kept.state.fields[Field.DESCRIPTION]


def test_2_5_an_open_ticket_about_the_same_problem_is_offered(context: IntakeContext) -> None:
    ctx = replace(context, open_tickets=(
        ("WAS-000005", "Не работает оформление заказа в корзине, ошибка при оплате"),
    ))  # fmt: skip
    turn = talk(ctx, TextEvent("Опять не работает оформление заказа в корзине, ошибка при оплате"
                               + DETAILS), TextEvent("нет"))  # fmt: skip
    turn = through_gates(ctx, turn, SKIP_ALL, NOW, until="similar")
    assert "WAS-000005" in turn.replies[-1].text and "2.5" in turn.replies[-1].text
    turn = machine.handle(turn.state, ChoiceEvent("similar_yes"), NOW, ctx)
    assert isinstance(turn.effects[0], AddFollowUp)
    assert turn.effects[0].ticket_id == "WAS-000005"
    assert turn.state.ticket_id == "WAS-000005"


def test_4_8_2_an_old_version_is_warned_about(context: IntakeContext) -> None:
    turn = talk(context, TextEvent("Не работает корзина на example.ru, версия 20.0.0"))
    assert "4.8.2" in turn.replies[-1].text
    assert any("4.8.2" in note for note in note_lines(turn.state.notes))


def test_4_2_6_category_questions_are_offered_at_once_and_reach_the_ticket(
    context: IntakeContext,
) -> None:
    text = "После установки модуля на сайте ошибка Fatal error в компоненте каталога" + DETAILS
    turn = talk(context, TextEvent(text), TextEvent("не знаю"))
    turn = through_gates(context, turn, SKIP_ALL, NOW, until="confirm")
    # The optional questions come with the summary, in one message, none on a turn of its own
    summary = turn.replies[-1].text
    assert "4.2.6" in summary and "Когда это началось?" in summary
    # A reply at the summary answers any of them, in the customer's words
    turn = machine.handle(turn.state, TextEvent("вчера вечером"), NOW, context)
    assert turn.state.step == "confirm"
    assert turn.state.details["since"] == "вчера вечером"
    assert "Когда это началось?" not in turn.replies[-1].text  # not asked again
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    assert ticket.details["since"] == "вчера вечером"
    assert ticket.detail_labels["since"] == "Когда началось"


@pytest.fixture
async def coupon_context(context: IntakeContext, tmp_path: Path) -> IntakeContext:
    """The context with a coupon registry imported from tests/fixtures/coupons/good.csv."""
    db = tmp_path / "desk.sqlite3"
    registry = await CouponRegistry.open(db)
    await registry.import_csv(FIXTURES / "good.csv", context.coupon_pattern)
    await registry.close()
    return replace(context, coupon_check=CouponLookup(db))


def test_4_8_8_unknown_coupon_is_asked_once_more_then_noted(
    coupon_context: IntakeContext,
) -> None:
    ctx = coupon_context
    turn = talk(ctx, TextEvent("Не работает корзина на example.ru, купон NOPE-0000-ZZZZ"))
    assert Field.COUPON not in turn.state.fields
    turn = talk(ctx, TextEvent("купон NOPE-0000-ZZZZ"), state=turn.state)
    assert turn.state.fields[Field.COUPON] == "NOPE-0000-ZZZZ"
    assert any("4.8.8" in note for note in note_lines(turn.state.notes))


def test_4_8_5_expired_support_is_explained_and_edition_prefilled(
    coupon_context: IntakeContext,
) -> None:
    turn = talk(coupon_context, TextEvent("Не работает корзина на example.ru, купон "
                                          "WXYZ-0001-AAAA"))  # fmt: skip
    assert turn.state.fields[Field.COUPON] == "WXYZ-0001-AAAA"
    assert "4.8.5" in turn.replies[-1].text
    assert turn.state.fields[Field.EDITION] == "Старт"


def test_3_x_2_an_uncertain_out_of_scope_call_is_left_to_support(context: IntakeContext) -> None:
    # The classifier leans to "out of scope" but below the operating point: a wrong "вне рамок"
    # could make a customer give up on a request the regulation covers
    def leaning_out(text: str) -> Classification:
        return Classification("install", False, "3.1.2.1", False, 0.9, scope_confidence=0.6)

    ctx = replace(context, classify=leaning_out)
    turn = talk(ctx, TextEvent(INSTALL_FOR_US + DETAILS), TextEvent("нет"))
    turn = through_gates(ctx, turn, SKIP_ALL, NOW, until="confirm")
    said = "\n".join(r.text for r in turn.replies)
    assert "вне рамок" not in said
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, ctx))
    assert any("решите сами" in note and "3.1.2.1" in note for note in ticket.notes)
    assert not any("клиент предупреждён" in note for note in ticket.notes)
