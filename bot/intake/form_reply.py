"""What a customer who answers by form (an e-mail) is told after one message.

The core reads the whole message at once (its non-interactive mode, bot/intake/form.py); the
customer then gets exactly one reply, one of three (`FormReply`):

- the ticket was filed: the core's confirmation, with the notes about the message (files refused);
- the contact address they named must confirm a code first: the core's words and how to answer;
- otherwise the guided reply: what was understood, and a form of everything the request still
  needs (the core's `open_questions`) in one reply: the site-down line when the text reads as
  a site that is down (2.2), every missing or invalid 4.2 field, and the category when the
  classifier is unsure, with the labels the form mode reads back (``Адрес сайта:``,
  ``Категория:`` …). A second guided reply asks only what is still open after the answer.
  A message held back for its wording (4.8.11) gets the core's notice and how to send it as it
  is instead of a form.

A sender nothing has proven may be using someone else's address: the guided reply then
acknowledges their own prose (description, steps) instead of quoting it, so that the desk
carries no stranger's words to that address.

A channel that draws its own form (a web page) reads the same reply as data (`FormGuide`): what
was understood, each field still open with its hint and why a given value was refused, the 2.2
and category questions, the optional questions (4.2.6) and the classification. The e-mail text
and the web page are two renderings of one decision; neither channel decides what to ask.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from bot.intake import form_texts, texts
from bot.intake.conversation import Conversation, Step
from bot.intake.events import Reply
from bot.intake.extract import extract_fields
from bot.intake.fields import (
    FIELD_ORDER,
    Field,
    Invalid,
    Valid,
    Verdict,
    edition_name,
    validate,
)
from bot.intake.form import CATEGORY_LABEL, CRITICAL_LABEL
from bot.intake.machine import (
    CATEGORIES,
    IntakeContext,
    keeps_held,
    open_questions,
    optional_questions,
    request_classification,
)
from bot.tickets.model import AttachmentRef, Classification

__all__ = [
    "FormGuide",
    "FormItem",
    "FormOutcome",
    "FormReply",
    "FormRequest",
    "form_reply",
    "form_text",
    "guided_text",
    "held_text",
    "invalid_notes",
    "starts_new_request",
    "with_sender_as_contact",
]

# The customer's own prose: quoted back only to a sender the mail server authenticated.
_PROSE_FIELDS = frozenset({Field.DESCRIPTION, Field.STEPS})


class FormOutcome(StrEnum):
    FILED = "filed"  # the ticket was filed (queued for support)
    CODE_SENT = "code_sent"  # the named contact address confirms a code first
    GUIDED = "guided"  # something is missing: the guided form


@dataclass(frozen=True)
class FormRequest:
    """One message of a form customer, as the channel read it."""

    text: str  # the body, without quotes and signature
    subject: str = ""  # without Re:/Fwd:; read when the body says nothing
    attachments: tuple[AttachmentRef, ...] = ()  # stored already
    notes: tuple[str, ...] = ()  # what the channel has to say about the message (files refused)
    lang: str = texts.DEFAULT_LANG  # the conversation's, else the message's
    sender_authenticated: bool = False  # the receiving mail server vouched for the sender
    draws_form: bool = False  # the channel draws the form itself: the reply carries a FormGuide


@dataclass(frozen=True)
class FormItem:
    """One line of a form: a 4.2 field, an optional question, the 2.2 or category question."""

    key: str  # the field's value (`Field`), a question's id, "critical" or "category"
    label: str  # the label the form mode reads back (``Адрес сайта``)
    value: str = ""  # what the draft holds (as shown to a person)
    hint: str = ""  # how to answer
    problem: str = ""  # why the value the customer gave was refused


@dataclass(frozen=True)
class FormGuide:
    """The guided reply as data, for a channel that draws the form itself."""

    said: tuple[str, ...]  # the core's own words about this message
    # The same without the question the form itself asks (the missing fields, Send): notices.
    notices: tuple[str, ...]
    understood: tuple[FormItem, ...]  # the fields the draft holds (the customer may change them)
    missing: tuple[FormItem, ...]  # the 4.2 fields still needed, with the reason when refused
    critical: FormItem | None  # 2.2: asked when the text reads as a site that is down
    categories: tuple[tuple[str, str], ...]  # (id, name) to choose from when the guess is unsure
    details: tuple[FormItem, ...]  # optional questions (4.2.6)
    notes: tuple[str, ...]  # values refused, files refused or zipped
    files: tuple[str, ...]  # the names of the files kept with the draft
    classification: Classification | None  # category, scope, critical (section 3, 2.2)
    category_name: str = ""
    scope_note: str = ""  # why the request may be out of scope (section 3), when sure enough
    held: bool = False  # 4.8.11: the message was held back for its wording


@dataclass(frozen=True)
class FormReply:
    """The one reply to a form message."""

    outcome: FormOutcome
    text: str
    ticket_id: str | None = None  # the ticket filed by this message
    guide: FormGuide | None = None  # the same reply as data, when the request draws the form


class _Refusal(NamedTuple):
    """A value the customer gave that a validator refused."""

    field: Field
    value: str  # as the customer wrote it
    why: str  # the reason, in the customer's language
    reason: str  # the validator's reason key


def starts_new_request(conv: Conversation | None) -> bool:
    """Whether a message outside any ticket's thread starts a new request: it does once the
    last one was filed (a ticket's follow-ups come in its thread) or when none is in progress,
    unless a message is held back for its wording (4.8.11): the next one keeps or replaces it."""
    return conv is not None and not conv.held_text and conv.step in (Step.FILED, Step.IDLE)


def form_text(
    conv: Conversation | None, request: FormRequest, sender: str | None, ctx: IntakeContext
) -> str:
    """What the core reads of the message: the body (the subject when neither the body nor the
    draft says anything), with the sender's address as the contact e-mail while the draft has
    none, when the customer is the address they write from (`sender`)."""
    text = request.text.strip()
    if conv is not None and conv.held_text and keeps_held(text, conv.lang):
        return text  # "send it as it is" (4.8.11): the held message has the sender's line
    if not text and not (conv and conv.fields):
        text = request.subject
    if sender and (conv is None or Field.CONTACT_EMAIL not in conv.fields):
        text = with_sender_as_contact(text, sender, request.lang, ctx)
    return text


def with_sender_as_contact(text: str, sender: str, lang: str, ctx: IntakeContext) -> str:
    """The From address is the contact e-mail unless the customer's own labelled line names
    another one the desk accepts (which then confirms a code); a refused one (malformed, or the
    desk's own address) is overridden by the sender's, the last line read winning. The line goes
    after the customer's words, so that what they wrote first is what the language is read
    from: a leading "E-mail для ответа:" made a short Russian message read as English."""
    label = texts.form_label(Field.CONTACT_EMAIL, lang)
    named = extract_fields(text, ctx.coupon_pattern).values.get(Field.CONTACT_EMAIL)
    if named is not None and isinstance(_contact_verdict(named, ctx), Valid):
        return text
    return f"{text}\n{label}: {sender}" if text else f"{label}: {sender}"


def form_reply(
    conv: Conversation, replies: Sequence[Reply], request: FormRequest, ctx: IntakeContext
) -> FormReply:
    """The reply to `request` once the core has read it and the draft stands as `conv`."""
    said = [r.text for r in replies if r.text]
    notices = [n for n in (r.lead if r.asks else r.text for r in replies) if n]
    guide = form_guide(conv, said, notices, request, ctx) if request.draws_form else None
    if conv.step is Step.FILED and conv.ticket_id:
        text = "\n\n".join(said) + ("\n\n" + "\n".join(request.notes) if request.notes else "")
        return FormReply(FormOutcome.FILED, text, conv.ticket_id, guide)
    if conv.verify_address:
        hint = form_texts.t("code_hint", conv.lang)
        return FormReply(FormOutcome.CODE_SENT, "\n\n".join([*said, hint]), guide=guide)
    if conv.held_text:
        return FormReply(FormOutcome.GUIDED, held_text(conv, said, request), guide=guide)
    return FormReply(FormOutcome.GUIDED, guided_text(conv, request, ctx), guide=guide)


def form_guide(
    conv: Conversation,
    said: Sequence[str],
    notices: Sequence[str],
    request: FormRequest,
    ctx: IntakeContext,
) -> FormGuide:
    """What the guided reply says, as data: the same open questions, hints and notes."""
    lang = conv.lang
    refused = _refused_values(request.text, conv, ctx)
    understood = tuple(
        FormItem(f.value, texts.form_label(f, lang), _shown(conv, f))
        for f in FIELD_ORDER
        if f in conv.fields and f not in refused
    )
    open_ = open_questions(conv, ctx)
    missing = tuple(
        FormItem(
            f.value,
            texts.form_label(f, lang),
            refused.get(f, ("", ""))[0],
            texts.t(f"ask_{f.value}", lang)
            + ("\n" + form_texts.t("coupon_hint", lang) if f is Field.COUPON else ""),
            refused.get(f, ("", ""))[1],
        )
        for f in FIELD_ORDER
        if f in open_.fields or f in refused
    )
    critical = None
    if open_.critical:
        # The dialog's own question: the e-mail's hint is about writing on a line
        critical = FormItem("critical", CRITICAL_LABEL[lang], hint=texts.t("ask_critical", lang))
    categories = (
        tuple((c, texts.category_name(c, lang)) for c in CATEGORIES) if open_.category else ()
    )
    details = tuple(
        FormItem(q.id, q.label(lang), hint=q.text(lang)) for q in optional_questions(conv, ctx)
    )
    c = request_classification(conv, ctx)
    scope_note = ""
    if c is not None and c.surely_out_of_scope:
        scope_note = ctx.scope_explanation(c.clause, lang) or texts.t(
            "summary_out_of_scope", lang
        ).strip(" —")
    return FormGuide(
        said=tuple(said),
        notices=tuple(notices),
        understood=understood,
        missing=missing,
        critical=critical,
        categories=categories,
        details=details,
        notes=tuple(request.notes),
        files=tuple(str(a["name"]) for a in conv.attachments),
        classification=c,
        category_name=texts.category_name(c.category, lang) if c is not None else "",
        scope_note=scope_note,
        held=bool(conv.held_text),
    )


def _refusals(text: str, conv: Conversation, ctx: IntakeContext) -> Iterator[_Refusal]:
    """The values of `text` the validators refused, the desk's own addresses as a contact among
    them (4.1); a value the draft holds already is not refused again."""
    for f, raw in extract_fields(text, ctx.coupon_pattern).values.items():
        verdict = validate(f, raw, ctx.coupon_pattern)
        if f is Field.CONTACT_EMAIL:
            verdict = _refuse_reserved(verdict, ctx)
        if isinstance(verdict, Invalid) and conv.fields.get(f) != raw:
            yield _Refusal(f, raw, texts.reason(verdict.reason, conv.lang), verdict.reason)


def _refused_values(
    text: str, conv: Conversation, ctx: IntakeContext
) -> dict[Field, tuple[str, str]]:
    """The values of `text` the validators refused, by field: (the value, why)."""
    return {r.field: (_short(r.value, 200), r.why) for r in _refusals(text, conv, ctx)}


def held_text(conv: Conversation, said: Sequence[str], request: FormRequest) -> str:
    """The reply to a message held back for its wording (4.8.11): the core's notice and how to
    answer it by e-mail, "send it as it is" or the request rephrased; no form, since nothing of
    the held message has been read yet."""
    lang = conv.lang
    keep = texts.choice_label("keep", lang)
    lines = [form_texts.t("greeting", lang), "", *said]
    lines += ["", form_texts.t("held_hint", lang, keep=keep)]
    if request.notes:
        lines += ["", form_texts.t("notes_head", lang), *request.notes]
    lines += ["", form_texts.t("signature", lang)]
    return "\n".join(lines)


def guided_text(conv: Conversation, request: FormRequest, ctx: IntakeContext) -> str:
    """The guided reply: what was understood, notes, the form of what is missing, hints."""
    lang = conv.lang
    lines = [form_texts.t("greeting", lang), "", form_texts.t("guided_intro", lang)]
    understood = _understood(conv, quote_prose=request.sender_authenticated)
    if understood:
        lines += ["", form_texts.t("understood_head", lang), *understood]
    notes = [*invalid_notes(request.text, conv, ctx), *request.notes]
    if notes:
        lines += ["", form_texts.t("notes_head", lang), *notes]
    form, hints = _form_lines(conv, ctx)
    lines += ["", form_texts.t("form_head", lang), "", *form]
    lines += ["", form_texts.t("hints_head", lang), *hints]
    lines += ["", form_texts.t("signature", lang)]
    return "\n".join(lines)


def _understood(conv: Conversation, *, quote_prose: bool) -> list[str]:
    lang = conv.lang
    received = form_texts.t("received", lang)
    lines = [
        f"  {texts.field_label(f, lang)}: "
        + (_short(_shown(conv, f)) if quote_prose or f not in _PROSE_FIELDS else received)
        for f in FIELD_ORDER
        if f in conv.fields
    ]
    if conv.attachments:
        names = ", ".join(a["name"] for a in conv.attachments)
        lines.append(f"  {form_texts.t('files', lang)}: {names}")
    return lines


def _form_lines(conv: Conversation, ctx: IntakeContext) -> tuple[list[str], list[str]]:
    """The empty lines to fill in, all at once, and a hint for each: whether the site is down
    when the text reads so (2.2, first, as the chat asks it), the missing 4.2 fields, and the
    category when the classifier is unsure."""
    lang = conv.lang
    open_ = open_questions(conv, ctx)
    form: list[str] = []
    hints: list[str] = []
    if open_.critical:
        form.append(f"{CRITICAL_LABEL[lang]}: ")
        hints.append("- " + form_texts.t("critical_hint", lang, label=CRITICAL_LABEL[lang]))
        if Field.STEPS in open_.fields:
            hints.append("  " + form_texts.t("critical_steps_hint", lang))
    for f in open_.fields:
        form.append(f"{texts.form_label(f, lang)}: ")
        hints.append(f"- {texts.t(f'ask_{f.value}', lang)}")
        if f is Field.COUPON:
            hints.append(f"  {form_texts.t('coupon_hint', lang)}")
    if open_.category:
        form.append(f"{CATEGORY_LABEL[lang]}: ")
        names = "; ".join(texts.category_name(c, lang) for c in CATEGORIES)
        hints.append("- " + form_texts.t("category_hint", lang, names=names))
    return form, hints


def invalid_notes(text: str, conv: Conversation, ctx: IntakeContext) -> list[str]:
    """Values the customer gave that the validators refused while the draft has none for the
    field (their fields stay in the form). Naming one of the desk's own addresses as the
    contact is noted even when the draft has a contact already (the sender's)."""
    lang = conv.lang
    return [
        "- "
        + texts.t(
            "invalid",
            lang,
            label=texts.field_label(r.field, lang),
            value=_short(r.value, 60),
            reason=r.why,
        )
        for r in _refusals(text, conv, ctx)
        if r.field not in conv.fields or r.reason == "email_ours"
    ]


def _contact_verdict(raw: str, ctx: IntakeContext) -> Verdict:
    """A contact address as the desk takes it: valid, and none of its own (4.1)."""
    return _refuse_reserved(validate(Field.CONTACT_EMAIL, raw, ctx.coupon_pattern), ctx)


def _refuse_reserved(verdict: Verdict, ctx: IntakeContext) -> Verdict:
    if isinstance(verdict, Valid) and verdict.value.lower() in ctx.reserved_addresses:
        return Invalid("email_ours")
    return verdict


def _shown(conv: Conversation, f: Field) -> str:
    """A value as the customer reads it: as they wrote it, an edition in their language (the
    ticket keeps the Russian name)."""
    value = conv.displays.get(f) or conv.fields[f]
    return edition_name(value, conv.lang) if f is Field.EDITION else value


def _short(value: str, limit: int = 200) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
