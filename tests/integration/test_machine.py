"""The intake conversation core: (state, event, now) -> (state, replies, effects)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.intake import machine
from bot.intake.events import (
    AddFollowUp,
    AttachmentEvent,
    ChoiceEvent,
    CommandEvent,
    Event,
    FileTicket,
    TextEvent,
)
from bot.intake.fields import UNKNOWN, Field
from bot.intake.machine import Conversation, IntakeContext, Step
from bot.tickets.model import AttachmentRef, Ticket
from tests.helpers import through_gates

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Moscow: support is open

EVERYTHING_RU = (
    "Здравствуйте! После обновления на 23.300.0 сайт готовый-сайт-для-бизнеса.рф показывает "
    "белый экран на всех страницах, в логе Fatal error. Редакция Бизнес, купон SM6-NS-ABCD12345, "
    "ответ на ivan+support@mail.ru"
)
EVERYTHING_EN = (
    "Hello, the checkout page of https://shop.example.com throws an error 'Call to undefined "
    "method CSaleBasket::GetList' when a customer clicks Pay. Edition: Small Business, version "
    "24.0.100, coupon AB12-CD34-EF56, reply to john.smith+bx@example.com"
)


def run(ctx: IntakeContext, events: list[Event], state: Conversation | None = None) -> Step:
    state = state or machine.new_conversation()
    step = Step(state)
    for event in events:
        step = machine.handle(step.state, event, NOW, ctx)
    return step


def test_persona_pasting_everything_reaches_the_summary_after_steps(
    context: IntakeContext,
) -> None:
    # Given a customer who pastes everything 4.2 asks for in one message
    step = run(context, [CommandEvent("start"), TextEvent(EVERYTHING_RU)])
    # Then only the steps to reproduce (asked "по возможности") are left
    assert step.state.asking == Field.STEPS
    assert set(step.state.fields) == set(Field) - {Field.STEPS}
    # And "не знаю" is accepted explicitly and the summary follows
    step = settle(machine.handle(step.state, TextEvent("не знаю"), NOW, context), context)
    assert step.state.step == "confirm"
    summary = step.replies[-1]
    assert "готовый-сайт-для-бизнеса.рф" in summary.text
    assert [o.value for o in summary.options] == ["send", "edit", "cancel"]


def test_persona_with_steps_in_the_same_message_reaches_the_summary_in_one_turn(
    context: IntakeContext,
) -> None:
    message = EVERYTHING_EN + "\nSteps: 1. add any product to the cart 2. click Pay"
    step = run(context, [TextEvent(message)], machine.new_conversation("en"))
    assert step.state.step not in ("ask", "idle")
    assert step.state.fields[Field.STEPS].startswith("1. add any product")
    assert step.state.fields[Field.CONTACT_EMAIL] == "john.smith+bx@example.com"
    assert step.state.fields[Field.EDITION] == "Малый бизнес"


def test_fields_are_asked_one_by_one_and_invalid_answers_re_asked_with_reason(
    context: IntakeContext,
) -> None:
    step = run(context, [CommandEvent("start")])
    assert step.state.asking == Field.DESCRIPTION
    step = machine.handle(step.state, TextEvent("привет"), NOW, context)
    assert step.state.asking == Field.DESCRIPTION
    assert "слишком коротко" in step.replies[-1].text
    step = machine.handle(
        step.state, TextEvent("Не работает оформление заказа в корзине"), NOW, context
    )
    assert step.state.asking == Field.STEPS
    step = machine.handle(step.state, TextEvent("1. Открыть корзину 2. Оформить"), NOW, context)
    assert step.state.asking == Field.SITE_URL
    step = machine.handle(step.state, TextEvent("ftp://example.ru"), NOW, context)
    assert step.state.asking == Field.SITE_URL
    assert "http" in step.replies[-1].text
    step = machine.handle(step.state, TextEvent("example.ru"), NOW, context)
    assert step.state.asking == Field.EDITION
    assert any(o.value == "Бизнес" for o in step.replies[-1].options)
    step = machine.handle(step.state, ChoiceEvent("Бизнес"), NOW, context)
    assert step.state.asking == Field.VERSION
    step = machine.handle(step.state, TextEvent("последняя"), NOW, context)
    assert "23.300.0" in step.replies[-1].text
    step = machine.handle(step.state, TextEvent("23.300.0"), NOW, context)
    step = machine.handle(step.state, TextEvent("купон 12"), NOW, context)
    assert step.state.asking == Field.COUPON
    step = machine.handle(step.state, TextEvent("SM6-NS-ABCD12345"), NOW, context)
    step = machine.handle(step.state, TextEvent("ivan@"), NOW, context)
    assert step.state.asking == Field.CONTACT_EMAIL
    step = machine.handle(step.state, TextEvent("ivan@example.ru"), NOW, context)
    assert step.state.step not in ("ask", "idle")
    # Nothing valid was lost on the way
    assert step.state.fields == {
        "description": "Не работает оформление заказа в корзине",
        "steps": "1. Открыть корзину 2. Оформить",
        "site_url": "http://example.ru/",
        "edition": "Бизнес",
        "version": "23.300.0",
        "coupon": "SM6-NS-ABCD12345",
        "contact_email": "ivan@example.ru",
    }


def test_a_later_message_fills_any_field_wherever_the_dialog_is(context: IntakeContext) -> None:
    step = run(context, [TextEvent("Сайт не открывается, ошибка 500 на всех страницах")])
    assert step.state.asking == Field.STEPS
    step = machine.handle(step.state, TextEvent("мой email ivan@example.ru"), NOW, context)
    assert step.state.fields[Field.CONTACT_EMAIL] == "ivan@example.ru"
    assert step.state.asking == Field.STEPS
    # and says so: the customer answered something else than was asked
    assert "ivan@example.ru" in step.replies[0].text and "Понял" in step.replies[0].text


def test_a_customer_without_the_coupon_goes_on_told_what_it_means(
    context: IntakeContext,
) -> None:
    step = run(context, [TextEvent("Не работает оформление заказа в корзине, ошибка 500"),
                         TextEvent("не знаю"), TextEvent("example.ru"), ChoiceEvent("Бизнес"),
                         TextEvent("23.300.0")])  # fmt: skip
    assert step.state.asking == Field.COUPON
    step = machine.handle(step.state, TextEvent("не знаю"), NOW, context)
    assert step.state.fields[Field.COUPON] == UNKNOWN
    assert step.state.asking == Field.CONTACT_EMAIL
    said = step.replies[0].text
    assert "письме с купоном" in said and "4.2.5" in said and "попросит номер" in said
    assert any(note.startswith("Купон: клиент не знает") for note in step.state.notes)
    # A coupon found later replaces the "don't know" and its note
    step = machine.handle(step.state, TextEvent("купон SM6-NS-ABCD12345"), NOW, context)
    assert step.state.fields[Field.COUPON] == "SM6-NS-ABCD12345"
    assert not any(note.startswith("Купон") for note in step.state.notes)
    # The same from a labelled line, as in a filled-in e-mail form
    step = run(context, [TextEvent("Купон: не знаю")], step.state)
    assert step.state.fields[Field.COUPON] == UNKNOWN


GATE_ANSWERS = {
    "critical": "yes", "question": "skip", "kb": "kb_no", "split": "split_no",
    "similar": "similar_no",
}  # fmt: skip


def settle(step: Step, context: IntakeContext, category: str = "update") -> Step:
    """Pass the gates between the fields and the summary (category, 2.2, 4.2.6, 1.3, 2.5)."""
    return through_gates(context, step, {**GATE_ANSWERS, "category": category}, NOW)


def confirmed(context: IntakeContext) -> Step:
    step = settle(run(context, [TextEvent(EVERYTHING_RU), TextEvent("не знаю")]), context)
    assert step.state.step == "confirm"
    return step


def test_send_files_a_ticket_with_every_field(context: IntakeContext) -> None:
    step = machine.handle(confirmed(context).state, ChoiceEvent("send"), NOW, context)
    (effect,) = step.effects
    assert isinstance(effect, FileTicket)
    ticket = effect.ticket
    assert ticket.site_url == "http://xn------6cdcfchnmvlgc6azbea4dleh5r1d.xn--p1ai/"
    assert (ticket.edition, ticket.version, ticket.coupon) == (
        "Бизнес",
        "23.300.0",
        "SM6-NS-ABCD12345",
    )
    assert ticket.steps == UNKNOWN
    assert ticket.contact_email == "ivan+support@mail.ru"
    assert ticket.working_hours_open is True


def test_after_filing_messages_become_follow_ups_until_new(context: IntakeContext) -> None:
    step = machine.handle(confirmed(context).state, ChoiceEvent("send"), NOW, context)
    ticket = step.effects[0].ticket  # type: ignore[union-attr]
    ticket.id = "WAS-000042"
    step = machine.on_ticket_queued(step.state, ticket, NOW, context)
    assert "WAS-000042" in step.replies[0].text
    step = machine.handle(step.state, TextEvent("Забыл: ошибка и в админке"), NOW, context)
    assert step.effects == (AddFollowUp("WAS-000042", "Забыл: ошибка и в админке"),)
    assert "WAS-000042" in step.replies[0].text
    step = machine.handle(step.state, CommandEvent("new"), NOW, context)
    assert step.state.ticket_id is None
    # The contact details are offered again, the problem is not
    assert step.state.fields[Field.CONTACT_EMAIL] == "ivan+support@mail.ru"
    assert Field.DESCRIPTION not in step.state.fields
    assert step.state.asking == Field.DESCRIPTION


def test_thanks_after_filing_is_answered_here_not_mailed_to_support(
    context: IntakeContext,
) -> None:
    step = machine.handle(confirmed(context).state, ChoiceEvent("send"), NOW, context)
    ticket = step.effects[0].ticket  # type: ignore[union-attr]
    ticket.id = "WAS-000042"
    step = machine.on_ticket_queued(step.state, ticket, NOW, context)
    for thanks in ("Спасибо!", "спасибо большое 🙏", "Ок, жду ответа", "thanks a lot!"):
        step = machine.handle(step.state, TextEvent(thanks), NOW, context)
        assert step.effects == ()
        assert "WAS-000042" in step.replies[0].text and "4.4" in step.replies[0].text
    # Thanks with something more is the customer's text, mailed as usual
    more = "Спасибо, но корзина опять не работает"
    step = machine.handle(step.state, TextEvent(more), NOW, context)
    assert step.effects == (AddFollowUp("WAS-000042", more),)


def test_thanks_with_no_request_under_way_is_not_taken_for_a_description(
    context: IntakeContext,
) -> None:
    step = run(context, [CommandEvent("start"), TextEvent("Спасибо!")])
    assert step.replies[-1].text.startswith("Пожалуйста!")
    assert step.state.fields == {} and step.state.asking == Field.DESCRIPTION
    # Mid-request an "ок" is an answer like any other, never swallowed
    step = run(context, [TextEvent(EVERYTHING_RU), TextEvent("ок")])
    assert not step.replies[-1].text.startswith("Пожалуйста!")
    assert step.state.fields.get(Field.STEPS) == "ок"


def test_edit_a_field_from_the_summary(context: IntakeContext) -> None:
    step = machine.handle(confirmed(context).state, ChoiceEvent("edit"), NOW, context)
    assert step.state.step == "edit"
    assert Field.CONTACT_EMAIL.value in [o.value for o in step.replies[0].options]
    step = machine.handle(step.state, ChoiceEvent(Field.CONTACT_EMAIL.value), NOW, context)
    assert step.state.asking == Field.CONTACT_EMAIL
    step = machine.handle(step.state, TextEvent("not-an-email"), NOW, context)
    assert step.state.asking == Field.CONTACT_EMAIL
    step = settle(machine.handle(step.state, TextEvent("new@example.ru"), NOW, context), context)
    assert step.state.step == "confirm"
    assert step.state.fields[Field.CONTACT_EMAIL] == "new@example.ru"
    assert "new@example.ru" in step.replies[-1].text


def test_cancel_drops_the_draft(context: IntakeContext) -> None:
    step = run(context, [TextEvent(EVERYTHING_RU), CommandEvent("cancel")])
    assert step.state.fields == {}
    assert step.state.step == "idle"
    assert "удалён" in step.replies[0].text


def test_state_survives_json_round_trip_mid_conversation(context: IntakeContext) -> None:
    # Given a conversation stopped at the coupon question
    step = run(
        context,
        [
            TextEvent("Не работает корзина на example.ru, версия 23.300.0"),
            TextEvent("нет"),
            ChoiceEvent("unknown"),
        ],
    )
    assert step.state.asking == Field.COUPON
    # When the process restarts and the state is read back from JSON
    restored = Conversation.from_dict(json.loads(json.dumps(step.state.to_dict())))
    # Then the same step continues
    assert restored == step.state
    step = machine.handle(restored, TextEvent("SM6-NS-ABCD12345"), NOW, context)
    assert step.state.asking == Field.CONTACT_EMAIL


def test_language_switch(context: IntakeContext) -> None:
    step = run(context, [CommandEvent("start"), CommandEvent("lang", "en")])
    assert step.state.lang == "en"
    assert "describe the problem" in step.replies[-1].text


def test_english_customers_see_the_editions_in_english_the_ticket_keeps_russian(
    context: IntakeContext,
) -> None:
    state = machine.new_conversation("en")
    step = run(context, [TextEvent("The cart is broken, error 500 on checkout"),
                         TextEvent("no steps"), TextEvent("shop.example.com")], state)  # fmt: skip
    assert step.state.asking == Field.EDITION
    options = {o.label: o.value for o in step.replies[-1].options}
    assert options["Small Business"] == "Малый бизнес"
    step = machine.handle(step.state, TextEvent("Small Business"), NOW, context)
    assert step.state.fields[Field.EDITION] == "Малый бизнес"
    everything = [TextEvent(EVERYTHING_EN), TextEvent("don't know")]
    step = settle(run(context, everything, machine.new_conversation("en")), context)
    assert "Edition: Small Business" in step.replies[-1].text
    (effect,) = machine.handle(step.state, ChoiceEvent("send"), NOW, context).effects
    assert isinstance(effect, FileTicket) and effect.ticket.edition == "Малый бизнес"


def test_attachment_kept_in_the_draft(context: IntakeContext) -> None:
    ref = AttachmentRef("shot.png", "/tmp/shot.png", "image/png", 10)
    step = run(context, [AttachmentEvent(ref), TextEvent(EVERYTHING_RU), TextEvent("нет")])
    step = settle(step, context, "error")
    assert "shot.png" in step.replies[-1].text
    step = machine.handle(step.state, ChoiceEvent("send"), NOW, context)
    ticket: Ticket = step.effects[0].ticket  # type: ignore[union-attr]
    assert ticket.attachments == [ref]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01\x02",
        "😀🔥💥" * 100,
        "Ωмега ɑlpha 中文 مرحبا Ελληνικά",
        "x" * 100_000,
        "сайт " * 20_000,
        "\u202e\u202d" * 100,
    ],
)
def test_bad_input_gets_a_reply_and_keeps_the_state(context: IntakeContext, text: str) -> None:
    before = run(context, [TextEvent("Сайт example.ru не открывается, ошибка 500 везде")]).state
    step = machine.handle(before, TextEvent(text), NOW, context)
    assert step.replies and all(r.text for r in step.replies)
    assert step.state.fields[Field.SITE_URL] == before.fields[Field.SITE_URL]
    assert len(json.dumps(step.state.to_dict())) < 100_000


def test_stale_button_press_shows_the_current_question(context: IntakeContext) -> None:
    step = run(context, [TextEvent("Сайт example.ru не открывается, ошибка 500 везде")])
    again = machine.handle(step.state, ChoiceEvent("send"), NOW, context)
    assert again.effects == ()
    assert again.state.asking == step.state.asking


def test_2_2_critical_request_is_confirmed_by_a_question(context: IntakeContext) -> None:
    step = run(context, [TextEvent(EVERYTHING_RU), TextEvent("не знаю")])
    if step.state.step == "category":
        step = machine.handle(step.state, ChoiceEvent("error"), NOW, context)
    assert step.state.step == "critical"
    assert "2.2" in step.replies[-1].text
    step = settle(machine.handle(step.state, ChoiceEvent("no"), NOW, context), context)
    assert step.state.step == "confirm"
    step = machine.handle(step.state, ChoiceEvent("send"), NOW, context)
    assert step.effects[0].ticket.classification.critical is False  # type: ignore[union-attr]


def test_filing_tells_what_to_expect(context: IntakeContext) -> None:
    step = machine.handle(confirmed(context).state, ChoiceEvent("send"), NOW, context)
    ticket = step.effects[0].ticket  # type: ignore[union-attr]
    ticket.id = "WAS-000007"
    text = machine.on_ticket_queued(step.state, ticket, NOW, context).replies[0].text
    assert "WAS-000007" in text
    assert "2.5" in text  # reaction time from hours to days, no resolution time promised
