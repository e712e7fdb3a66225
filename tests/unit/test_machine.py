"""The intake conversation core: (state, event, now) -> (state, replies, effects).

The context is the production wiring with the keyword classifier stub (tests/classifier_stub.py):
"после обновления" is an update (3.3.1.3), "ошибка" or "не работает" a product error (3.4.1.1),
"белый экран" a site that is down (2.2), and a text without such words leaves it unsure.
"""

from __future__ import annotations

import json

import pytest

from bot.intake import machine, texts
from bot.intake.agent_notes import note_lines
from bot.intake.conversation import Conversation, Turn
from bot.intake.events import (
    AddFollowUp,
    AttachmentEvent,
    ChoiceEvent,
    CommandEvent,
    FileTicket,
    TextEvent,
)
from bot.intake.fields import UNKNOWN, Field
from bot.intake.machine import IntakeContext
from bot.tickets.model import AttachmentRef
from classifier import CATEGORIES
from tests.helpers import WORKING_HOURS as NOW
from tests.helpers import filed_ticket, talk, through_gates

# An update broke the whole site: category "update", critical (2.2).
EVERYTHING_RU = (
    "Здравствуйте! После обновления на 23.300.0 сайт готовый-сайт-для-бизнеса.рф показывает "
    "белый экран на всех страницах, в логе Fatal error. Редакция Бизнес, купон SM6-NS-ABCD12345, "
    "ответ на ivan+support@mail.ru"
)
# A product error, not critical.
EVERYTHING_EN = (
    "Hello, the checkout page of https://shop.example.com throws an error 'Call to undefined "
    "method CSaleBasket::GetList' when a customer clicks Pay. Edition: Small Business, version "
    "24.0.100, coupon AB12-CD34-EF56, reply to john.smith+bx@example.com"
)
GATE_ANSWERS = {
    "critical": "yes", "question": "skip", "kb": "kb_no", "split": "split_no",
    "similar": "similar_no",
}  # fmt: skip


def settle(turn: Turn, context: IntakeContext) -> Turn:
    """Pass the gates between the fields and the summary (2.6, 2.2, 4.2.6, 1.3, 2.5)."""
    return through_gates(context, turn, GATE_ANSWERS, NOW)


def confirmed(context: IntakeContext) -> Turn:
    turn = settle(talk(context, TextEvent(EVERYTHING_RU)), context)
    assert turn.state.step == "confirm"
    return turn


def queued(context: IntakeContext, ticket_id: str) -> Turn:
    """A confirmed request sent, and the desk's word that it was queued as `ticket_id`."""
    turn = machine.handle(confirmed(context).state, ChoiceEvent("send"), NOW, context)
    ticket = filed_ticket(turn)
    ticket.id = ticket_id
    return machine.on_ticket_queued(turn.state, ticket, NOW, context)


# --- collecting the 4.2 fields ----------------------------------------------------------------


def test_pasting_everything_reaches_the_summary_in_two_turns_4_2(
    context: IntakeContext,
) -> None:
    # Given a customer who pastes everything 4.2 asks for in one message, about a site that is down
    turn = talk(context, CommandEvent("start"), TextEvent(EVERYTHING_RU))
    # Then every value is taken and said back, and the summary comes at once: steps to
    # reproduce are asked "where possible" (4.2.1), not of a site that does not open at all,
    # and whether the site is down (2.2) is the summary's choice of how to send it
    assert set(turn.state.fields) == set(Field) - {Field.STEPS}
    assert turn.state.step == "confirm"
    summary = turn.replies[-1]
    assert "Понял" in summary.text and "2.2" in summary.text
    assert "готовый-сайт-для-бизнеса.рф" in summary.text
    assert [o.value for o in summary.options][:2] == ["send", "send_works"]
    assert {"edit", "cancel"} <= {o.value for o in summary.options}
    # And Send files it as critical, confirmed by the customer: two messages in all
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    assert ticket.classification.critical
    assert not any("не подтверждал" in note for note in ticket.notes)


def test_steps_in_the_same_message_leave_nothing_to_ask(context: IntakeContext) -> None:
    message = EVERYTHING_EN + "\nSteps: 1. add any product to the cart 2. click Pay"
    turn = talk(context, TextEvent(message), state=machine.new_conversation("en"))
    assert turn.state.step not in ("ask", "idle")
    assert turn.state.fields[Field.STEPS].startswith("1. add any product")
    assert turn.state.fields[Field.CONTACT_EMAIL] == "john.smith+bx@example.com"
    assert turn.state.fields[Field.EDITION] == "Малый бизнес"


def test_a_question_or_a_request_for_work_is_not_asked_for_steps_4_2_1(
    context: IntakeContext,
) -> None:
    # Given a customer who asks how to set something up, with every other 4.2 field
    question = (
        "Подскажите, как настроить обмен с 1С? Сайт kompania.ru, редакция Старт, версия "
        "25.0.0, купон SM6-NS-ABCD12345, e-mail: info@kompania.ru"
    )
    turn = talk(context, TextEvent(question))
    # Then there is no problem to reproduce (4.2.1: steps "where possible"): the summary comes
    # at once and says why the steps are not there
    assert Field.STEPS not in turn.state.fields
    assert turn.state.step not in ("ask", "idle")
    turn = settle(turn, context)
    assert turn.state.step == "confirm"
    assert "не нужны: это вопрос или просьба" in turn.replies[-1].text
    # And the agent reads why there are none, instead of "the customer did not describe them"
    notes = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context)).agent_notes
    assert any(n.startswith("Шаги воспроизведения: не запрашивались") for n in notes)
    assert not any("клиент их не описал" in n for n in notes)
    # And so is a question the classifier cannot place, by its wording alone
    unsure = question.replace("как настроить обмен с 1С", "как перенести сайт на другой хостинг")
    turn = talk(context, TextEvent(unsure))
    assert turn.state.classification and turn.state.classification["unsure"]
    assert turn.state.asking != Field.STEPS.value and Field.STEPS not in turn.state.fields
    # While a problem with the same fields is asked for them
    problem = question.replace("Подскажите, как настроить обмен с 1С?", "Обмен с 1С не работает.")
    asked = talk(context, TextEvent(problem))
    assert asked.state.step == "ask" and asked.state.asking == Field.STEPS.value


def test_missing_fields_are_asked_at_once_and_invalid_answers_re_asked_with_reason(
    context: IntakeContext,
) -> None:
    turn = talk(context, CommandEvent("start"))
    assert turn.state.asking == Field.DESCRIPTION
    turn = machine.handle(turn.state, TextEvent("привет"), NOW, context)
    assert turn.state.asking == Field.DESCRIPTION
    assert "слишком коротко" in turn.replies[-1].text
    turn = machine.handle(
        turn.state, TextEvent("Не работает оформление заказа в корзине"), NOW, context
    )
    # Everything still missing is listed in one message, steps first
    assert turn.state.asking == Field.STEPS
    listed = turn.replies[-1].text
    for f in (Field.SITE_URL, Field.EDITION, Field.VERSION, Field.COUPON, Field.CONTACT_EMAIL):
        assert texts.field_label(f, "ru") in listed
    turn = machine.handle(turn.state, TextEvent("1. Открыть корзину 2. Оформить"), NOW, context)
    assert turn.state.asking == Field.SITE_URL
    # A bare answer that fits no field is refused for the field asked first, with the reason
    turn = machine.handle(turn.state, TextEvent("ftp://example.ru"), NOW, context)
    assert turn.state.asking == Field.SITE_URL
    assert "http" in turn.replies[-1].text
    assert Field.EDITION not in turn.state.fields
    turn = machine.handle(turn.state, TextEvent("example.ru"), NOW, context)
    assert turn.state.asking == Field.EDITION
    turn = machine.handle(turn.state, TextEvent("Бизнес"), NOW, context)
    assert turn.state.asking == Field.VERSION
    turn = machine.handle(turn.state, TextEvent("последняя"), NOW, context)
    assert "23.300.0" in turn.replies[-1].text
    turn = machine.handle(turn.state, TextEvent("23.300.0"), NOW, context)
    turn = machine.handle(turn.state, TextEvent("купон 12"), NOW, context)
    assert turn.state.asking == Field.COUPON
    turn = machine.handle(turn.state, TextEvent("SM6-NS-ABCD12345"), NOW, context)
    turn = machine.handle(turn.state, TextEvent("ivan@"), NOW, context)
    assert turn.state.asking == Field.CONTACT_EMAIL
    turn = machine.handle(turn.state, TextEvent("ivan@example.ru"), NOW, context)
    assert turn.state.step not in ("ask", "idle")
    # Nothing valid was lost on the way
    assert turn.state.fields == {
        "description": "Не работает оформление заказа в корзине",
        "steps": "1. Открыть корзину 2. Оформить",
        "site_url": "http://example.ru/",
        "edition": "Бизнес",
        "version": "23.300.0",
        "coupon": "SM6-NS-ABCD12345",
        "contact_email": "ivan@example.ru",
    }


def test_a_later_message_fills_any_field_wherever_the_dialog_is(context: IntakeContext) -> None:
    turn = talk(context, TextEvent("Корзина не работает, ошибка 500 при оформлении"))
    assert turn.state.asking == Field.STEPS
    turn = machine.handle(turn.state, TextEvent("мой email ivan@example.ru"), NOW, context)
    assert turn.state.fields[Field.CONTACT_EMAIL] == "ivan@example.ru"
    assert turn.state.asking == Field.SITE_URL
    # and says so: the customer answered something else than was asked
    assert "ivan@example.ru" in turn.replies[0].text and "Понял" in turn.replies[0].text


def test_a_customer_without_the_coupon_goes_on_told_what_it_means_4_2_5(
    context: IntakeContext,
) -> None:
    turn = talk(context, TextEvent("Не работает оформление заказа в корзине, ошибка 500"),
                TextEvent("не знаю"), TextEvent("example.ru"), ChoiceEvent("Бизнес"),
                TextEvent("23.300.0"))  # fmt: skip
    assert turn.state.asking == Field.COUPON
    turn = machine.handle(turn.state, TextEvent("не знаю"), NOW, context)
    assert turn.state.fields[Field.COUPON] == UNKNOWN
    assert turn.state.asking == Field.CONTACT_EMAIL
    said = turn.replies[0].text
    assert "письме с купоном" in said and "4.2.5" in said and "попросит номер" in said
    assert any(note.startswith("Купон: клиент не знает") for note in note_lines(turn.state.notes))
    # A coupon found later replaces the "don't know" and its note
    turn = machine.handle(turn.state, TextEvent("купон SM6-NS-ABCD12345"), NOW, context)
    assert turn.state.fields[Field.COUPON] == "SM6-NS-ABCD12345"
    assert not any(note.startswith("Купон") for note in note_lines(turn.state.notes))
    # The same from a labelled line, as in a filled-in e-mail form
    turn = talk(context, TextEvent("Купон: не знаю"), state=turn.state)
    assert turn.state.fields[Field.COUPON] == UNKNOWN


# --- the summary, filing and after ------------------------------------------------------------


def test_send_files_a_ticket_with_every_field(context: IntakeContext) -> None:
    turn = machine.handle(confirmed(context).state, ChoiceEvent("send"), NOW, context)
    ticket = filed_ticket(turn)
    assert ticket.site_url == "http://xn------6cdcfchnmvlgc6azbea4dleh5r1d.xn--p1ai/"
    assert (ticket.edition, ticket.version, ticket.coupon) == (
        "Бизнес",
        "23.300.0",
        "SM6-NS-ABCD12345",
    )
    assert ticket.steps == ""  # a site that is down: no steps to reproduce asked (4.2.1)
    assert ticket.contact_email == "ivan+support@mail.ru"
    assert ticket.working_hours_open is True


def test_after_filing_messages_become_follow_ups_until_new_4_4(context: IntakeContext) -> None:
    turn = queued(context, "WAS-000042")
    assert "WAS-000042" in turn.replies[0].text
    turn = machine.handle(turn.state, TextEvent("Забыл: ошибка и в админке"), NOW, context)
    assert turn.effects == (AddFollowUp("WAS-000042", "Забыл: ошибка и в админке"),)
    assert "WAS-000042" in turn.replies[0].text
    turn = machine.handle(turn.state, CommandEvent("new"), NOW, context)
    assert turn.state.ticket_id is None
    # The contact details are offered again, the problem is not
    assert turn.state.fields[Field.CONTACT_EMAIL] == "ivan+support@mail.ru"
    assert Field.DESCRIPTION not in turn.state.fields
    assert turn.state.asking == Field.DESCRIPTION


def test_thanks_after_filing_is_answered_here_not_mailed_to_support(
    context: IntakeContext,
) -> None:
    turn = queued(context, "WAS-000042")
    for thanks in ("Спасибо!", "спасибо большое 🙏", "Ок, жду ответа", "thanks a lot!"):
        turn = machine.handle(turn.state, TextEvent(thanks), NOW, context)
        assert turn.effects == ()
        assert "WAS-000042" in turn.replies[0].text and "4.4" in turn.replies[0].text
    # Thanks with something more is the customer's text, mailed as usual
    more = "Спасибо, но корзина опять не работает"
    turn = machine.handle(turn.state, TextEvent(more), NOW, context)
    assert turn.effects == (AddFollowUp("WAS-000042", more),)


def test_send_typed_after_filing_is_answered_here_not_mailed_to_support(
    context: IntakeContext,
) -> None:
    """A customer who presses Send and then also types it is told the request has gone; the
    word does not reach the agent as an addition to the ticket."""
    turn = queued(context, "WAS-000042")
    for send in ("Отправить", "отправьте, пожалуйста", "Send"):
        turn = machine.handle(turn.state, TextEvent(send), NOW, context)
        assert turn.effects == ()
        assert "WAS-000042" in turn.replies[0].text and "уже принято" in turn.replies[0].text
    more = "Отправить логи не могу, доступа нет"
    turn = machine.handle(turn.state, TextEvent(more), NOW, context)
    assert turn.effects == (AddFollowUp("WAS-000042", more),)


def test_thanks_with_no_request_under_way_is_not_taken_for_a_description(
    context: IntakeContext,
) -> None:
    turn = talk(context, CommandEvent("start"), TextEvent("Спасибо!"))
    assert turn.replies[-1].text.startswith("Пожалуйста!")
    assert turn.state.fields == {} and turn.state.asking == Field.DESCRIPTION
    # Mid-request an "ок" is an answer like any other, never swallowed
    turn = talk(context, TextEvent(EVERYTHING_EN), TextEvent("ок"))
    assert turn.state.step == "confirm"
    assert turn.state.fields.get(Field.STEPS) == "ок"


def test_edit_a_field_from_the_summary(context: IntakeContext) -> None:
    turn = machine.handle(confirmed(context).state, ChoiceEvent("edit"), NOW, context)
    assert turn.state.step == "edit"
    assert Field.CONTACT_EMAIL.value in [o.value for o in turn.replies[0].options]
    turn = machine.handle(turn.state, ChoiceEvent(Field.CONTACT_EMAIL.value), NOW, context)
    assert turn.state.asking == Field.CONTACT_EMAIL
    turn = machine.handle(turn.state, TextEvent("not-an-email"), NOW, context)
    assert turn.state.asking == Field.CONTACT_EMAIL
    turn = settle(machine.handle(turn.state, TextEvent("new@example.ru"), NOW, context), context)
    assert turn.state.step == "confirm"
    assert turn.state.fields[Field.CONTACT_EMAIL] == "new@example.ru"
    assert "new@example.ru" in turn.replies[-1].text


def test_cancel_drops_the_draft(context: IntakeContext) -> None:
    turn = talk(context, TextEvent(EVERYTHING_RU), CommandEvent("cancel"))
    assert turn.state.fields == {}
    assert turn.state.step == "idle"
    assert "удалён" in turn.replies[0].text


def test_filing_tells_what_to_expect_2_5(context: IntakeContext) -> None:
    text = queued(context, "WAS-000007").replies[0].text
    assert "WAS-000007" in text
    assert "2.5" in text  # reaction time from hours to days, no resolution time promised


# --- gates --------------------------------------------------------------------------------------


def test_the_summary_sends_a_site_that_works_as_a_usual_request_2_2(
    context: IntakeContext,
) -> None:
    turn = talk(context, TextEvent(EVERYTHING_RU))
    turn = machine.handle(turn.state, ChoiceEvent("send_works"), NOW, context)
    assert filed_ticket(turn).classification.critical is False


def test_site_down_is_confirmed_first_when_fields_are_missing_2_2(context: IntakeContext) -> None:
    turn = talk(context, TextEvent(EVERYTHING_RU.replace(", ответ на ivan+support@mail.ru", "")))
    assert turn.state.step == "critical"
    assert "2.2" in turn.replies[-1].text
    # A site that works: the steps to reproduce are worth asking after all (4.2.1)
    turn = machine.handle(turn.state, ChoiceEvent("no"), NOW, context)
    assert turn.state.asking == Field.STEPS
    listed = turn.replies[-1].text
    assert texts.field_label(Field.CONTACT_EMAIL, "ru") in listed
    turn = machine.handle(turn.state, TextEvent("не знаю, ivan@mail.ru"), NOW, context)
    turn = settle(turn, context)
    assert turn.state.step == "confirm"
    turn = machine.handle(turn.state, ChoiceEvent("send"), NOW, context)
    assert filed_ticket(turn).classification.critical is False


def test_an_unsure_classifier_shows_its_guess_and_the_customer_may_change_it(
    context: IntakeContext,
) -> None:
    # Nothing in the text names a category: the summary comes anyway, saying it is a guess
    text = ("Пароль не приходит на почту после регистрации. Сайт example.ru, редакция Бизнес, "
            "версия 25.1.0, купон SM6-NS-ABCD12345, ivan@example.ru")  # fmt: skip
    turn = settle(talk(context, TextEvent(text), TextEvent("нет")), context)
    assert turn.state.step == "confirm"
    assert "предположительно" in turn.replies[-1].text
    # Filed as it is, the agents learn the category was not confirmed
    guessed = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    assert any("не подтверждена" in note for note in guessed.notes)
    # Or changed from the summary: Edit → Category offers all of them
    turn = machine.handle(turn.state, ChoiceEvent("edit"), NOW, context)
    turn = machine.handle(turn.state, ChoiceEvent("category"), NOW, context)
    assert turn.state.step == "category"
    assert [o.value for o in turn.replies[-1].options] == list(CATEGORIES)
    turn = settle(machine.handle(turn.state, ChoiceEvent("install"), NOW, context), context)
    assert turn.state.step == "confirm" and "предположительно" not in turn.replies[-1].text
    # The choice is the ticket's category, and the agents learn who chose it
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    assert (ticket.classification.category, ticket.classification.clause) == ("install", "3.1")
    assert any("Категория выбрана клиентом" in note for note in ticket.notes)


# --- state, language, attachments, odd input --------------------------------------------------


def test_state_survives_json_round_trip_mid_conversation(context: IntakeContext) -> None:
    # Given a conversation stopped at the coupon question
    turn = talk(
        context,
        TextEvent("Не работает корзина на example.ru, версия 23.300.0"),
        TextEvent("нет"),
        ChoiceEvent("unknown"),
    )
    assert turn.state.asking == Field.COUPON
    # When the process restarts and the state is read back from JSON
    restored = Conversation.from_dict(json.loads(json.dumps(turn.state.to_dict())))
    # Then the same step continues
    assert restored == turn.state
    turn = machine.handle(restored, TextEvent("SM6-NS-ABCD12345"), NOW, context)
    assert turn.state.asking == Field.CONTACT_EMAIL


def test_language_switch(context: IntakeContext) -> None:
    turn = talk(context, CommandEvent("start"), CommandEvent("lang", "en"))
    assert turn.state.lang == "en"
    assert "Problem description" in turn.replies[-1].text


def test_english_customers_see_the_editions_in_english_the_ticket_keeps_russian(
    context: IntakeContext,
) -> None:
    english = machine.new_conversation("en")
    turn = talk(context, TextEvent("The cart is broken, error 500 on checkout"),
                TextEvent("no steps"), TextEvent("shop.example.com"), state=english)  # fmt: skip
    assert turn.state.asking == Field.EDITION
    assert "Small Business" in turn.replies[-1].text
    turn = machine.handle(turn.state, TextEvent("Small Business"), NOW, context)
    assert turn.state.fields[Field.EDITION] == "Малый бизнес"
    turn = talk(context, TextEvent(EVERYTHING_EN), TextEvent("don't know"), state=english)
    turn = settle(turn, context)
    assert "Edition: Small Business" in turn.replies[-1].text
    (effect,) = machine.handle(turn.state, ChoiceEvent("send"), NOW, context).effects
    assert isinstance(effect, FileTicket) and effect.ticket.edition == "Малый бизнес"


def test_attachment_kept_in_the_draft_4_6(context: IntakeContext) -> None:
    ref = AttachmentRef("shot.png", "/tmp/shot.png", "image/png", 10)
    turn = talk(context, AttachmentEvent(ref), TextEvent(EVERYTHING_RU), ChoiceEvent("yes"))
    turn = settle(turn, context)
    assert "shot.png" in turn.replies[-1].text
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
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
    before = talk(context, TextEvent("Сайт example.ru не открывается, ошибка 500 везде")).state
    turn = machine.handle(before, TextEvent(text), NOW, context)
    assert turn.replies and all(r.text for r in turn.replies)
    assert turn.state.fields[Field.SITE_URL] == before.fields[Field.SITE_URL]
    # Bounded: the description and the original text are cut at MAX_DESCRIPTION each
    assert len(json.dumps(turn.state.to_dict())) < 150_000


def test_stale_button_press_shows_the_current_question(context: IntakeContext) -> None:
    turn = talk(context, TextEvent("Сайт example.ru не открывается, ошибка 500 везде"))
    again = machine.handle(turn.state, ChoiceEvent("send"), NOW, context)
    assert again.effects == ()
    assert again.state.asking == turn.state.asking


# --- answers that are not values: demo, an unknown edition, several sites (no dead ends) ------


def test_a_demo_version_goes_on_without_a_coupon_and_the_agent_is_told_4_2_5(
    context: IntakeContext,
) -> None:
    text = ("Не работает корзина на example.ru, ошибка 500. Редакция Бизнес, версия 25.0.0, "
            "у нас демоверсия, купона нет, ivan@example.ru")  # fmt: skip
    turn = talk(context, TextEvent(text))
    assert turn.state.fields[Field.COUPON] == UNKNOWN
    assert "демоверсия" in turn.replies[0].text and "3.1.1.1" in turn.replies[0].text
    turn = settle(machine.handle(turn.state, TextEvent("не знаю"), NOW, context), context)
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    coupon_notes = [note for note in ticket.agent_notes if note.startswith("Купон:")]
    assert len(coupon_notes) == 1 and "демоверси" in coupon_notes[0]


def test_an_edition_the_desk_does_not_know_is_kept_with_a_note_4_2_4(
    context: IntakeContext,
) -> None:
    values = "25.0.0 SM6-NS-ABCD12345 ivan@example.ru"
    turn = talk(context, TextEvent("Не работает корзина на example.ru, ошибка 500"),
                TextEvent("не знаю"), TextEvent(values))  # fmt: skip
    assert turn.state.asking == Field.EDITION
    turn = machine.handle(turn.state, TextEvent("Суперпро"), NOW, context)
    assert turn.state.fields[Field.EDITION] == "Суперпро"
    assert any("Суперпро" in note and "4.2.4" in note for note in note_lines(turn.state.notes))
    # A known edition given later replaces it, and the note goes
    turn = machine.handle(turn.state, TextEvent("редакция Бизнес"), NOW, context)
    assert turn.state.fields[Field.EDITION] == "Бизнес"
    assert not any("Суперпро" in note for note in note_lines(turn.state.notes))


def test_several_sites_keep_the_first_and_pass_the_others_to_the_agent_4_2_3(
    context: IntakeContext,
) -> None:
    text = "Не работает корзина на shop.example.ru и на opt.example.ru, ошибка 500 при оплате"
    turn = talk(context, TextEvent(text))
    assert turn.state.fields[Field.SITE_URL] == "http://shop.example.ru/"
    said = "\n".join(r.text for r in turn.replies)
    assert "opt.example.ru" in said and "2.6" in said
    notes = note_lines(turn.state.notes)
    assert any("shop.example.ru" in n and "opt.example.ru" in n for n in notes)
    # The description keeps both as the customer wrote them
    assert "opt.example.ru" in turn.state.fields[Field.DESCRIPTION]


# --- after support closed the ticket (4.3, 5.1) --------------------------------------------------


def test_a_message_after_closure_reopens_the_ticket_when_it_is_about_it_5_1(
    context: IntakeContext,
) -> None:
    state = queued(context, "WAS-000042").state
    state.ticket_closed = True  # the desk's word: support closed it
    turn = machine.handle(state, TextEvent("Корзина снова не работает"), NOW, context)
    # Asked once whether it is about the closed ticket; nothing is mailed yet
    assert turn.state.step == "reopen" and turn.effects == ()
    assert "WAS-000042" in turn.replies[-1].text and "5.1" in turn.replies[-1].text
    assert [o.value for o in turn.replies[-1].options] == ["reopen", "new_request"]
    turn = machine.handle(turn.state, ChoiceEvent("reopen"), NOW, context)
    assert turn.effects == (AddFollowUp("WAS-000042", "Корзина снова не работает"),)
    assert "повторно" in turn.replies[0].text


def test_a_new_question_after_closure_starts_a_request_from_that_message(
    context: IntakeContext,
) -> None:
    state = queued(context, "WAS-000042").state
    state.ticket_closed = True
    text = "Не приходят письма о заказах с сайта, ошибка 500 в журнале"
    turn = machine.handle(state, TextEvent(text), NOW, context)
    turn = machine.handle(turn.state, ChoiceEvent("new_request"), NOW, context)
    # The message is the new request's description: not typed again; contacts are kept
    assert turn.state.ticket_id is None and turn.effects == ()
    assert "Не приходят письма" in turn.state.fields[Field.DESCRIPTION]
    assert turn.state.fields[Field.CONTACT_EMAIL] == "ivan+support@mail.ru"


def test_a_rude_first_message_in_english_is_held_back_in_english_4_8_11(
    context: IntakeContext,
) -> None:
    turn = talk(context, TextEvent("You are idiots, the cart is broken again after your update"))
    assert turn.state.lang == "en" and Field.DESCRIPTION not in turn.state.fields
    assert "4.8.11" in turn.replies[-1].text and "Отправ" not in turn.replies[-1].text


def test_the_values_of_a_held_back_message_are_not_asked_again_4_8_11(
    context: IntakeContext,
) -> None:
    rude = "Вы идиоты, корзина опять не работает! Сайт shop.example.ru, пишите на ivan@example.ru"
    turn = talk(context, TextEvent(rude))
    assert Field.DESCRIPTION not in turn.state.fields
    assert turn.state.fields[Field.CONTACT_EMAIL] == "ivan@example.ru"
    turn = machine.handle(turn.state, TextEvent("Корзина опять не работает"), NOW, context)
    assert turn.state.fields[Field.SITE_URL] == "http://shop.example.ru/"
    assert texts.field_label(Field.SITE_URL, "ru") not in turn.replies[-1].text


def test_a_whole_new_request_after_closure_is_taken_at_once_and_may_still_reopen_5_1(
    context: IntakeContext,
) -> None:
    state = queued(context, "WAS-000042").state
    state.ticket_closed = True
    text = ("Не приходят письма о заказах с сайта shop.example.ru, в журнале ошибка 500. "
            "Редакция Бизнес, версия 25.0.0, купон SM6-NS-ABCD12345")  # fmt: skip
    turn = machine.handle(state, TextEvent(text), NOW, context)
    # Nothing asked about the closed ticket: a new request with values of its own is new
    assert turn.state.asking == Field.STEPS and turn.state.ticket_id is None
    turn = settle(machine.handle(turn.state, TextEvent("не знаю"), NOW, context), context)
    assert turn.state.step == "confirm"
    summary = turn.replies[-1]
    assert "WAS-000042" in summary.text and "reopen_closed" in [o.value for o in summary.options]
    # Sent, it is a new ticket
    assert filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    # Or the customer says it is about the closed one: it goes there, reopening it
    turn = machine.handle(turn.state, ChoiceEvent("reopen_closed"), NOW, context)
    [effect] = turn.effects
    assert isinstance(effect, AddFollowUp) and effect.ticket_id == "WAS-000042"
    assert "Не приходят письма" in effect.text and turn.state.ticket_id == "WAS-000042"


@pytest.mark.parametrize(("typed", "critical"), [("нет, работает", False), ("да", True)])
def test_the_summarys_2_2_line_may_be_answered_in_words(
    context: IntakeContext, typed: str, critical: bool
) -> None:
    turn = talk(context, TextEvent(EVERYTHING_RU), TextEvent(typed))
    # Said back, the summary shown again without the question, nothing sent yet
    assert turn.state.step == "confirm" and turn.effects == ()
    assert "Понял" in turn.replies[-1].text
    assert "send_works" not in [o.value for o in turn.replies[-1].options]
    ticket = filed_ticket(machine.handle(turn.state, ChoiceEvent("send"), NOW, context))
    assert ticket.classification.critical is critical


@pytest.mark.parametrize(
    ("edition", "product"),
    [("Корпоративный портал", "1С-Битрикс24"), ("Бизнес", "1С-Битрикс: Управление сайтом"),
     ("Энтерпрайз", "1С-Битрикс: Управление сайтом")],
)  # fmt: skip
def test_the_ticket_names_the_product_line_of_the_edition_4_2_4(
    context: IntakeContext, edition: str, product: str
) -> None:
    text = EVERYTHING_RU.replace("Редакция Бизнес", f"Редакция {edition}")
    turn = machine.handle(talk(context, TextEvent(text)).state, ChoiceEvent("send"), NOW, context)
    ticket = filed_ticket(turn)
    assert (ticket.edition, ticket.product) == (edition, product)


def test_a_state_as_data_is_a_copy_the_state_does_not_share() -> None:
    # The machine copies a state through to_dict before changing it: nothing nested may be shared.
    state = Conversation(
        notes={"agent": ["first"]},
        docs=[{"title": "Кеширование", "url": "https://example.ru/doc"}],
        classification={"category": "error", "alternatives": [["update", 0.2]]},
    )
    data = state.to_dict()
    data["notes"]["agent"].append("second")
    data["docs"][0]["title"] = "changed"
    data["classification"]["alternatives"][0][1] = 0.9
    assert state.notes == {"agent": ["first"]}
    assert state.docs[0]["title"] == "Кеширование"
    assert state.classification == {"category": "error", "alternatives": [["update", 0.2]]}
    assert Conversation.from_dict(state.to_dict()) == state
