"""The one reply to a form customer's message (bot/intake/form_reply.py): pure functions of the
draft, the message and the context."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.config import Settings
from bot.intake.conversation import Conversation, Step
from bot.intake.events import FormEvent, Reply
from bot.intake.fields import Field
from bot.intake.form_reply import (
    FormOutcome,
    FormRequest,
    form_reply,
    form_text,
    guided_text,
    invalid_notes,
    starts_new_request,
    with_sender_as_contact,
)
from bot.intake.machine import IntakeContext, handle, new_conversation
from bot.tickets.model import Classification

SETTINGS = Settings(  # type: ignore[call-arg]
    _env_file=None,
    from_address="frontdesk@whatasoft.test",
    support_address="support@whatasoft.test",
)
CTX = IntakeContext(
    channel="email",
    coupon_pattern=SETTINGS.coupon_pattern,
    classify=lambda text: Classification("error", True, "3.4.1.1", False, 0.9),
    status_text=lambda now, lang: "",
    working_hours=lambda now: (True, None),
    reserved_addresses=SETTINGS.reserved_addresses,
)
SENDER = "ivan@shop.example"
DESCRIPTION = "Корзина выдаёт ошибку 500 при оформлении заказа"


def draft(step: Step = Step.ASK, lang: str = "ru", **fields: str) -> Conversation:
    values = {Field.DESCRIPTION.value: DESCRIPTION, Field.CONTACT_EMAIL.value: SENDER} | fields
    return Conversation(lang=lang, step=step, fields=values)


def form_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.endswith(": ")]


def test_the_guided_form_lists_exactly_the_missing_fields() -> None:
    text = guided_text(draft(site_url="https://shop.example/"), FormRequest("…"), CTX)
    assert form_lines(text) == ["Шаги воспроизведения: ", "Редакция: ", "Версия: ", "Купон: "]
    assert "Адрес сайта: https://shop.example/" in text
    assert "документах о покупке" in text  # where the coupon is found, and that «не знаю» works


def test_the_customers_prose_is_quoted_only_to_an_authenticated_sender() -> None:
    unproven = guided_text(draft(), FormRequest("…"), CTX)
    proven = guided_text(draft(), FormRequest("…", sender_authenticated=True), CTX)
    assert DESCRIPTION not in unproven and "Описание проблемы: получено" in unproven
    assert f"Описание проблемы: {DESCRIPTION}" in proven


def test_an_english_reply_names_the_edition_in_english() -> None:
    # the ticket keeps the Russian name; the customer reads the one they know
    conv = draft(lang="en", edition="Малый бизнес")
    text = guided_text(conv, FormRequest("…", lang="en"), CTX)
    assert "Edition: Small Business" in text and "Малый бизнес" not in text
    guide = form_reply(conv, [], FormRequest("…", lang="en", draws_form=True), CTX).guide
    assert guide is not None
    assert [i.value for i in guide.understood if i.key == "edition"] == ["Small Business"]


COMPLETE = {
    "steps": "не знаю", "site_url": "https://shop.example/", "edition": "Бизнес",
    "version": "24.100.0", "coupon": "AB12-CD34-EF56",
}  # fmt: skip


def classified(*, critical: bool = False, unsure: bool = False) -> IntakeContext:
    verdict = Classification("error", True, "3.4.1.1", critical, 0.3 if unsure else 0.9, unsure)
    return replace(CTX, classify=lambda text: verdict)


def test_everything_still_open_is_asked_in_one_form() -> None:
    # Given a draft that reads as a site that is down, the category unsure, two fields missing
    ctx = classified(critical=True, unsure=True)
    conv = draft(Step.CRITICAL, site_url="https://shop.example/", version="24.100.0")
    text = guided_text(conv, FormRequest("…"), ctx)
    # Then one form asks whether the site is down (first, 2.2), the fields, and the category
    assert form_lines(text) == [
        "Сайт сейчас не работает (да/нет): ",
        "Шаги воспроизведения: ",
        "Редакция: ",
        "Купон: ",
        "Категория: ",
    ]
    assert "(п. 2.2)" in text and "шаги воспроизведения можно не указывать" in text
    assert "Ошибка продукта (3.4)" in text  # the categories to choose from


def test_only_the_questions_still_open_become_form_lines() -> None:
    ctx = classified(critical=True, unsure=True)
    # the customer said the site is down: steps are not needed (4.2.1), nor is the 2.2 line
    down = draft(site_url="https://shop.example/", version="24.100.0")
    down.critical = True
    assert form_lines(guided_text(down, FormRequest("…"), ctx)) == [
        "Редакция: ", "Купон: ", "Категория: ",
    ]  # fmt: skip
    # the customer chose the category, the fields are in: only the 2.2 line, in English
    chosen = draft(Step.CRITICAL, "en", **COMPLETE)
    chosen.category = "update"
    assert form_lines(guided_text(chosen, FormRequest("…"), ctx)) == [
        "Is the site down now (yes/no): "
    ]
    # a classifier sure of the category and of a site that works asks neither
    assert form_lines(guided_text(draft(**COMPLETE), FormRequest("…"), classified())) == []


def test_refused_values_are_explained_with_the_channels_notes() -> None:
    request = FormRequest("Купон: ???", notes=("Файл report.pdf не принят (п. 4.6).",))
    text = guided_text(draft(), request, CTX)
    assert "Купон: не получилось принять «???»" in text
    assert "Файл report.pdf не принят (п. 4.6)." in text
    assert "Купон: " in form_lines(text)


def test_naming_the_desks_own_address_is_refused_even_with_a_contact() -> None:
    [note] = invalid_notes("E-mail для ответа: support@whatasoft.test", draft(), CTX)
    assert "support@whatasoft.test" in note
    # while another malformed address is overridden by the sender's without a word
    assert invalid_notes("E-mail для ответа: ivan@", draft(), CTX) == []


def test_the_sender_is_the_contact_unless_they_name_an_acceptable_other() -> None:
    assert with_sender_as_contact(DESCRIPTION, SENDER, "ru", CTX) == (
        f"{DESCRIPTION}\nE-mail для ответа: {SENDER}"
    )
    named = f"{DESCRIPTION}\nE-mail для ответа: boss@shop.example"
    assert with_sender_as_contact(named, SENDER, "ru", CTX) == named
    ours = f"{DESCRIPTION}\nE-mail для ответа: frontdesk@whatasoft.test"
    assert with_sender_as_contact(ours, SENDER, "ru", CTX).endswith(f"E-mail для ответа: {SENDER}")


def test_the_senders_line_does_not_change_the_language_of_a_short_message() -> None:
    # "E-mail" is the first word of the contact line: read first, it made this read as English
    for text in ("Очень медленно работает админка", "Не ставятся обновления"):
        turn = handle(
            new_conversation(), FormEvent(form_text(None, FormRequest(text), SENDER, CTX)),
            datetime(2026, 11, 25, 7, 0, tzinfo=UTC), CTX,
        )  # fmt: skip
        assert turn.state.lang == "ru", text


def test_what_the_core_reads_of_a_message() -> None:
    # the subject speaks when neither the body nor the draft says anything
    assert form_text(None, FormRequest("  ", subject="Не работает корзина"), None, CTX) == (
        "Не работает корзина"
    )
    assert form_text(draft(), FormRequest("", subject="Re"), None, CTX) == ""
    # the sender's address is added while the draft has no contact
    assert SENDER in form_text(None, FormRequest(DESCRIPTION), SENDER, CTX)
    assert form_text(draft(), FormRequest(DESCRIPTION), SENDER, CTX) == DESCRIPTION


def test_the_reply_is_the_confirmation_the_code_hint_or_the_form() -> None:
    said = [Reply("Обращение принято: WAS-000007.")]
    filed = Conversation(step=Step.FILED, ticket_id="WAS-000007")
    reply = form_reply(filed, said, FormRequest("…", notes=("Файл не принят.",)), CTX)
    assert reply.outcome is FormOutcome.FILED and reply.ticket_id == "WAS-000007"
    assert reply.text == "Обращение принято: WAS-000007.\n\nФайл не принят."
    waiting = draft(Step.CONFIRM)
    waiting.verify_address = "boss@shop.example"
    reply = form_reply(waiting, [Reply("Отправил код.")], FormRequest("…"), CTX)
    assert reply.outcome is FormOutcome.CODE_SENT and reply.ticket_id is None
    assert reply.text.startswith("Отправил код.\n\n") and "шести цифр" in reply.text
    reply = form_reply(draft(), said, FormRequest("…"), CTX)
    assert reply.outcome is FormOutcome.GUIDED and "Шаги воспроизведения: " in reply.text


def test_a_message_outside_a_thread_starts_a_new_request_between_requests() -> None:
    assert starts_new_request(Conversation(step=Step.FILED, ticket_id="WAS-000007"))
    assert starts_new_request(Conversation(step=Step.IDLE))
    # a message held for its wording (4.8.11) waits for "send it as it is" or a new wording
    assert not starts_new_request(Conversation(step=Step.IDLE, held_text="Вы там идиоты?"))
    assert not starts_new_request(draft())
    assert not starts_new_request(None)


def test_a_held_message_is_answered_with_the_notice_and_how_to_send_it() -> None:
    held = Conversation(step=Step.IDLE, held_text=f"Вы там идиоты? {DESCRIPTION}")
    notice = Reply("В сообщении есть оскорбления (п. 4.8.11).")
    reply = form_reply(held, [notice], FormRequest("…"), CTX)
    assert reply.outcome is FormOutcome.GUIDED
    assert notice.text in reply.text and "«Отправить как есть»" in reply.text
    assert form_lines(reply.text) == []
    # "send it as it is" reaches the core alone (the held message has the sender's line)
    keep = FormRequest("Отправить как есть.")
    assert form_text(held, keep, SENDER, CTX) == "Отправить как есть."
    assert SENDER in form_text(held, FormRequest(DESCRIPTION), SENDER, CTX)


def test_the_guide_keeps_the_notices_but_not_the_question_the_form_asks_itself() -> None:
    conv = new_conversation("ru")
    replies = handle(conv, FormEvent(DESCRIPTION), datetime(2026, 12, 2, 9, tzinfo=UTC), CTX)
    asked = [r for r in replies.replies if r.asks]
    assert asked, "the core asks for the missing fields"
    web = FormRequest(DESCRIPTION, draws_form=True)
    reply = form_reply(replies.state, list(replies.replies), web, CTX)
    assert reply.guide is not None
    question = asked[-1].text.removeprefix(asked[-1].lead).strip()
    assert any(question in said for said in reply.guide.said)
    assert not any(question in notice for notice in reply.guide.notices)
    # a plain notice (no question of its own) is kept as it is
    notice = Reply("Служба поддержки сейчас не работает (п. 2.1).")
    guide = form_reply(draft(), [notice], FormRequest("…", draws_form=True), CTX).guide
    assert guide is not None and guide.notices == (notice.text,)
    # an e-mail reply is text only: the form is not worked out as data for it
    assert form_reply(draft(), [notice], FormRequest("…"), CTX).guide is None
