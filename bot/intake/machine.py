"""The intake conversation: a deterministic function (state, event, now, context) -> step.

No I/O and no channel types here: channels translate their updates into events and render the
replies; the desk (bot/desk.py) persists the state and carries out the effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.intake import texts
from bot.intake.events import (
    AddFollowUp,
    AttachmentEvent,
    ChoiceEvent,
    CommandEvent,
    Effect,
    Event,
    FileTicket,
    Option,
    Reply,
    TextEvent,
)
from bot.intake.extract import extract_fields
from bot.intake.fields import (
    DEFAULT_PRODUCT,
    EDITIONS,
    FIELD_ORDER,
    MAX_DESCRIPTION,
    UNKNOWN,
    Field,
    Invalid,
    Valid,
    clean_text,
    validate,
)
from bot.tickets.model import AttachmentRef, Classification, Ticket

MAX_ATTACHMENTS = 10
CATEGORIES = ("install", "performance", "update", "error", "development", "theory")
# Fields a returning customer usually keeps; offered again on /new (not the problem itself).
REMEMBERED = (Field.SITE_URL, Field.EDITION, Field.VERSION, Field.COUPON, Field.CONTACT_EMAIL)


@dataclass(frozen=True)
class IntakeContext:
    """What the core needs from the rest of the desk, as plain callables (easy to test)."""

    channel: str
    coupon_pattern: str
    classify: Callable[[str], Classification]
    status_text: Callable[[datetime, str], str]  # 2.1: is support working now, and when it opens
    working_hours: Callable[[datetime], tuple[bool, datetime | None]]
    scope_explanation: Callable[[str, str], str] = lambda clause, lang: ""
    # 2.2, 2.4, 2.5: what the customer is told at filing (now, lang, critical) -> text
    filing_notice: Callable[[datetime, str, bool], str] = lambda now, lang, critical: ""


@dataclass
class Conversation:
    """Per (channel, user) state; JSON-serialisable via to_dict/from_dict."""

    lang: str = "ru"
    step: str = "idle"  # idle | ask | category | critical | confirm | edit | filed
    asking: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    displays: dict[str, str] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    category: str | None = None  # chosen by the customer when the classifier was unsure
    critical: bool | None = None  # 2.2: the customer's answer to "is the site down now?"
    return_to_confirm: bool = False
    ticket_id: str | None = None  # the last filed ticket: further messages are its follow-ups
    remembered: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def attachment_refs(self) -> list[AttachmentRef]:
        return [AttachmentRef(**a) for a in self.attachments]


@dataclass(frozen=True)
class Step:
    state: Conversation
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


def new_conversation(lang: str = "ru") -> Conversation:
    return Conversation(lang=lang if lang in texts.LANGS else "ru")


def handle(state: Conversation, event: Event, now: datetime, ctx: IntakeContext) -> Step:
    s = Conversation.from_dict(state.to_dict())  # never mutate the caller's state
    if isinstance(event, CommandEvent):
        return _command(s, event, now, ctx)
    if isinstance(event, ChoiceEvent):
        return _choice(s, event.value, now, ctx)
    if isinstance(event, AttachmentEvent):
        return _attachment(s, event.ref, now, ctx)
    return _text(s, event.text, now, ctx)


def on_ticket_queued(
    state: Conversation, ticket: Ticket, now: datetime, ctx: IntakeContext
) -> Step:
    """After the desk stored and queued a ticket: remember it for follow-ups (4.4)."""
    s = Conversation.from_dict(state.to_dict())
    s.remembered = {f: s.fields[f] for f in REMEMBERED if f in s.fields}
    s.remembered.update({f"display:{f}": s.displays[f] for f in REMEMBERED if f in s.displays})
    s.fields, s.displays, s.attachments = {}, {}, []
    s.step, s.asking, s.category, s.ticket_id = "filed", None, None, ticket.id
    s.critical = None
    notice = ctx.filing_notice(now, s.lang, ticket.classification.critical)
    text = texts.t("queued", s.lang, id=ticket.id) + (f"\n\n{notice}" if notice else "")
    return Step(s, (Reply(text),))


# --- commands ---------------------------------------------------------------------------------


def _command(s: Conversation, cmd: CommandEvent, now: datetime, ctx: IntakeContext) -> Step:
    name = cmd.name.lower().lstrip("/")
    if name == "start":
        greeting = Reply(texts.t("greeting", s.lang) + "\n\n" + ctx.status_text(now, s.lang))
        if s.step in ("ask", "confirm", "edit", "category", "critical"):
            return Step(s, (greeting, *_prompt(s, ctx)))
        _reset_draft(s)
        return Step(s, (greeting, *_prompt(s, ctx)))
    if name == "new":
        _reset_draft(s)
        replies = [Reply(texts.t("new_request", s.lang))]
        prefilled = _prefill(s)
        if prefilled:
            replies.append(Reply(texts.t("prefilled", s.lang, items=prefilled)))
        return Step(s, (*replies, *_prompt(s, ctx)))
    if name == "cancel":
        if s.step in ("idle", "filed") and not s.fields:
            return Step(s, (Reply(texts.t("nothing_to_cancel", s.lang)),))
        _reset_draft(s)
        s.step, s.asking = "idle", None
        return Step(s, (Reply(texts.t("cancelled", s.lang)),))
    if name == "lang":
        arg = cmd.arg.strip().lower()
        s.lang = arg if arg in texts.LANGS else ("en" if s.lang == "ru" else "ru")
        return Step(s, (Reply(texts.t("lang_set", s.lang)), *_prompt(s, ctx)))
    if name == "edit" and s.fields:
        return _edit_menu(s)
    return Step(s, (Reply(texts.t("help", s.lang)),))


def _reset_draft(s: Conversation) -> None:
    s.fields, s.displays, s.attachments = {}, {}, []
    s.category, s.return_to_confirm, s.ticket_id, s.critical = None, False, None, None
    s.step, s.asking = "ask", Field.DESCRIPTION.value


def _prefill(s: Conversation) -> str:
    items = []
    for f in REMEMBERED:
        if f in s.remembered:
            s.fields[f] = s.remembered[f]
            display = s.remembered.get(f"display:{f}", "")
            if display:
                s.displays[f] = display
            items.append(f"{texts.field_label(f, s.lang)} — {display or s.remembered[f]}")
    return "; ".join(items)


# --- choices ----------------------------------------------------------------------------------


def _choice(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Step:
    if s.step == "confirm":
        if value == "send":
            return _file(s, now, ctx)
        if value == "edit":
            return _edit_menu(s)
        if value == "cancel":
            return _command(s, CommandEvent("cancel"), now, ctx)
    if s.step == "edit" and value in {f.value for f in FIELD_ORDER}:
        s.step, s.asking, s.return_to_confirm = "ask", value, True
        return Step(s, _prompt(s, ctx))
    if s.step == "category" and value in CATEGORIES:
        s.category = value
        return _advance(s, now, ctx, [])
    if s.step == "critical" and value in ("yes", "no"):
        s.critical = value == "yes"
        return _advance(s, now, ctx, [])
    if s.step == "ask" and s.asking == Field.EDITION.value:
        return _text(s, UNKNOWN if value == "unknown" else value, now, ctx)
    # A stale button (an old message): show where we are instead of guessing.
    return Step(s, _prompt(s, ctx))


def _edit_menu(s: Conversation) -> Step:
    s.step = "edit"
    options = tuple(Option(f.value, texts.field_label(f, s.lang)) for f in FIELD_ORDER)
    return Step(s, (Reply(texts.t("choose_field", s.lang), options),))


# --- attachments and text ---------------------------------------------------------------------


def _attachment(s: Conversation, ref: AttachmentRef, now: datetime, ctx: IntakeContext) -> Step:
    if s.step == "filed" and s.ticket_id:
        reply = Reply(texts.t("followup_added", s.lang, id=s.ticket_id))
        return Step(s, (reply,), (AddFollowUp(s.ticket_id, "", (ref,)),))
    if len(s.attachments) < MAX_ATTACHMENTS:
        s.attachments.append(asdict(ref))
    if s.step == "idle":
        s.step, s.asking = "ask", Field.DESCRIPTION.value
    added = Reply(texts.t("attachment_added", s.lang, name=ref.name))
    return Step(s, (added, *_prompt(s, ctx)))


def _text(s: Conversation, raw: str, now: datetime, ctx: IntakeContext) -> Step:
    text = clean_text(raw)
    if not text:
        return Step(s, (Reply(texts.t("empty_message", s.lang)), *_prompt(s, ctx)))
    if s.step == "filed" and s.ticket_id:
        reply = Reply(texts.t("followup_added", s.lang, id=s.ticket_id))
        return Step(s, (reply,), (AddFollowUp(s.ticket_id, text[:MAX_DESCRIPTION]),))
    if s.step in ("idle", "filed"):
        s.step, s.asking = "ask", Field.DESCRIPTION.value
    notes: list[str] = []
    if len(text) > MAX_DESCRIPTION:
        notes.append(texts.t("too_long", s.lang, limit=MAX_DESCRIPTION))

    extracted = extract_fields(text[: MAX_DESCRIPTION * 2], ctx.coupon_pattern)
    values: dict[Field, str] = dict(extracted.values)
    asking = Field(s.asking) if s.asking else None
    if asking is not None and asking not in values:
        if asking is Field.DESCRIPTION:
            if extracted.has_prose or not values:
                values[asking] = extracted.prose or text
        elif asking is Field.STEPS:
            if extracted.has_prose or not values:
                values[asking] = extracted.prose or text
        elif not values:
            values[asking] = text
    elif Field.DESCRIPTION not in values and extracted.has_prose:
        if Field.DESCRIPTION not in s.fields:
            values[Field.DESCRIPTION] = extracted.prose
        elif s.step == "confirm":  # more words about the problem: keep them, never drop them
            values[Field.DESCRIPTION] = s.fields[Field.DESCRIPTION] + "\n" + extracted.prose

    understood: list[str] = []
    answered = False
    for f in FIELD_ORDER:
        if f not in values:
            continue
        verdict = validate(f, values[f], ctx.coupon_pattern)
        if isinstance(verdict, Valid):
            s.fields[f] = verdict.value
            answered = answered or f is asking
            if verdict.display and verdict.display != verdict.value:
                s.displays[f] = verdict.display
            else:
                s.displays.pop(f, None)
            if f is not asking or len(values) > 1:
                understood.append(f"{texts.field_label(f, s.lang)} — {_shown(s, f)}")
        elif isinstance(verdict, Invalid):
            shown = " ".join(values[f].split())
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            notes.append(
                texts.t(
                    "invalid",
                    s.lang,
                    label=texts.field_label(f, s.lang),
                    value=shown,
                    reason=texts.reason(verdict.reason, s.lang),
                )
            )
    head: list[str] = []
    if understood and (len(understood) > 1 or asking is None or len(values) > 1):
        head.append(texts.t("understood", s.lang, items="; ".join(understood)))
    head.extend(notes)
    return _advance(s, now, ctx, head, answered)


def _shown(s: Conversation, f: Field) -> str:
    value = s.displays.get(f) or s.fields.get(f, "")
    value = " ".join(value.split())
    return value if len(value) <= 60 else value[:59] + "…"


def _missing(s: Conversation) -> Field | None:
    return next((f for f in FIELD_ORDER if f not in s.fields), None)


def _advance(
    s: Conversation, now: datetime, ctx: IntakeContext, head: list[str], answered: bool = True
) -> Step:
    """Ask for the next missing field, or go to the category choice or the summary.

    `answered` is False when the message did not settle the field being asked; during an edit from
    the summary that field is asked again even though its old value is still kept.
    """
    if s.return_to_confirm and s.asking and not answered:
        s.step = "ask"
        return Step(s, _prompt(s, ctx, head))
    s.return_to_confirm = False
    missing = _missing(s)
    if missing is not None:
        s.step, s.asking = "ask", missing.value
        return Step(s, _prompt(s, ctx, head))
    s.asking = None
    classification = _classify(s, ctx)
    if classification.unsure and s.category is None:
        s.step = "category"
        return Step(s, _prompt(s, ctx, head))
    if classification.critical and s.critical is None:
        s.step = "critical"  # 2.2: confirm before the ticket jumps the queue
        return Step(s, _prompt(s, ctx, head))
    s.step = "confirm"
    return Step(s, _prompt(s, ctx, head))


def _prompt(
    s: Conversation, ctx: IntakeContext, head: list[str] | None = None
) -> tuple[Reply, ...]:
    """The question for the current step, with whatever was said before it."""
    lead = "\n".join(head or [])
    if s.step == "ask" and s.asking:
        f = Field(s.asking)
        question = texts.t(f"ask_{f.value}", s.lang)
        options: tuple[Option, ...] = ()
        if f is Field.EDITION:
            options = (
                *(Option(e, e) for e in EDITIONS),
                Option("unknown", texts.choice_label("unknown", s.lang)),
            )
        return (Reply(f"{lead}\n\n{question}".strip(), options),)
    if s.step == "category":
        options = tuple(Option(c, texts.category_name(c, s.lang)) for c in CATEGORIES)
        return (Reply(f"{lead}\n\n{texts.t('choose_category', s.lang)}".strip(), options),)
    if s.step == "critical":
        options = (
            Option("yes", texts.choice_label("yes", s.lang)),
            Option("no", texts.choice_label("no", s.lang)),
        )
        return (Reply(f"{lead}\n\n{texts.t('ask_critical', s.lang)}".strip(), options),)
    if s.step == "confirm":
        return (Reply(f"{lead}\n\n{_summary(s, ctx)}".strip(), _confirm_options(s.lang)),)
    if s.step == "edit":
        return _edit_menu(s).replies
    return (Reply(lead),) if lead else ()


def _confirm_options(lang: str) -> tuple[Option, ...]:
    return tuple(Option(k, texts.choice_label(k, lang)) for k in ("send", "edit", "cancel"))


def _classify(s: Conversation, ctx: IntakeContext) -> Classification:
    text = s.fields.get(Field.DESCRIPTION, "")
    steps = s.fields.get(Field.STEPS, "")
    if steps and steps != UNKNOWN:
        text = f"{text}\n{steps}"
    result = ctx.classify(text)
    if s.critical is not None:
        result = replace(result, critical=s.critical)
    if s.category and s.category != result.category:
        section = CATEGORIES.index(s.category) + 1
        return Classification(s.category, True, f"3.{section}", result.critical, 1.0, False)
    if s.category:
        return replace(result, unsure=False)
    return result


def _summary(s: Conversation, ctx: IntakeContext) -> str:
    lang = s.lang
    lines = [texts.t("summary_head", lang)]
    lines += [f"• {texts.field_label(f, lang)}: {_summary_value(s, f)}" for f in FIELD_ORDER]
    c = _classify(s, ctx)
    scope = "" if c.in_scope else texts.t("summary_out_of_scope", lang)
    lines.append(
        texts.t(
            "summary_category",
            lang,
            category=texts.category_name(c.category, lang),
            clause=c.clause,
            scope=scope,
        )
    )
    if c.critical:
        lines.append(texts.t("summary_critical", lang))
    if s.attachments:
        names = ", ".join(a["name"] for a in s.attachments)
        lines.append(texts.t("summary_attachments", lang, names=names))
    if not c.in_scope:
        explain = ctx.scope_explanation(c.clause, lang)
        lines.append("\n" + texts.t("out_of_scope_note", lang, clause=c.clause, explain=explain))
    lines.append("\n" + texts.t("summary_question", lang))
    return "\n".join(lines)


def _summary_value(s: Conversation, f: Field) -> str:
    value = s.displays.get(f) or s.fields.get(f, "")
    if f in (Field.DESCRIPTION, Field.STEPS) and len(value) > 500:
        value = value[:499] + "…"
    return value


def _file(s: Conversation, now: datetime, ctx: IntakeContext) -> Step:
    if _missing(s) is not None:
        return _advance(s, now, ctx, [])
    c = _classify(s, ctx)
    is_open, next_opening = ctx.working_hours(now)
    notes = []
    if s.category:
        notes.append("Категория выбрана клиентом (классификатор не был уверен).")
    if not c.in_scope:
        notes.append(f"Вероятно, вне рамок поддержки (п. {c.clause}); клиент предупреждён.")
    ticket = Ticket(
        channel=ctx.channel,
        customer_id="",  # the desk fills in who the customer is
        lang=s.lang,
        description=s.fields[Field.DESCRIPTION],
        steps=s.fields.get(Field.STEPS, ""),
        site_url=s.fields[Field.SITE_URL],
        product=DEFAULT_PRODUCT,
        edition=s.fields.get(Field.EDITION, ""),
        version=s.fields.get(Field.VERSION, ""),
        coupon=s.fields.get(Field.COUPON, ""),
        contact_email=s.fields[Field.CONTACT_EMAIL],
        classification=c,
        created_at=now,
        attachments=s.attachment_refs(),
        working_hours_open=is_open,
        next_opening=next_opening,
        notes=notes,
    )
    return Step(s, (), (FileTicket(ticket),))
