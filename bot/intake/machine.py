"""The intake conversation: a deterministic function (state, event, now, context) -> step.

No I/O and no channel types here: channels translate their updates into events and render the
replies; the desk (bot/desk.py) persists the state and carries out the effects.

The dialog: the 4.2 fields are collected from whatever the customer writes (asking only for
what is missing); then a few gates, each passed at most once per request — several problems
(2.6), the category when the classifier is unsure, critical or not (2.2), the category's own
questions (4.2.6), documentation first (1.3), an open ticket about the same problem (2.5) — and
the summary to confirm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from bot.intake import form, texts
from bot.intake.courtesy import is_courtesy
from bot.intake.events import (
    AddFollowUp,
    AttachmentEvent,
    ChoiceEvent,
    CommandEvent,
    Deflected,
    Effect,
    Event,
    FileTicket,
    FormEvent,
    Option,
    Reply,
    typed_option,
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
    edition_name,
    is_unknown_answer,
    validate,
    version_tuple,
)
from bot.intake.questions import SKIPPED, Question, is_skip, pending_questions
from bot.policy.profanity import contains_profanity, profanity_notice
from bot.policy.secrets import redact, secrets_notice
from bot.tickets.model import AttachmentRef, Classification, DocLink, Ticket
from classifier import load_categories

MAX_ATTACHMENTS = 10
# The category ids (data/scope.json, read through the classifier), offered when it is unsure.
CATEGORIES = tuple(load_categories())
# Fields a returning customer usually keeps; offered again on /new (not the problem itself).
REMEMBERED = (Field.SITE_URL, Field.EDITION, Field.VERSION, Field.COUPON, Field.CONTACT_EMAIL)


class CouponVerdict(Protocol):
    """What the coupon registry says (bot.tickets.coupons.CouponCheck)."""

    @property
    def status(self) -> str: ...

    @property
    def notes(self) -> tuple[str, ...]: ...

    @property
    def edition(self) -> str | None: ...

    def customer_text(self, lang: str) -> str: ...


@dataclass(frozen=True)
class DocSuggestion:
    title: str
    url: str
    answer: str = ""


def _no_docs(text: str, category: str, lang: str) -> list[DocSuggestion]:
    return []


def _one_problem(text: str) -> list[str]:
    return [text]


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
    questions: Mapping[str, Sequence[Question]] = field(default_factory=dict)  # 4.2.6
    suggest_docs: Callable[[str, str, str], list[DocSuggestion]] = _no_docs  # 1.3
    split_problems: Callable[[str], list[str]] = _one_problem  # 2.6
    # 2.5: (text, open tickets as (id, description)) -> id of the same problem's ticket
    find_similar: Callable[[str, Sequence[tuple[str, str]]], str | None] = lambda t, o: None
    open_tickets: tuple[tuple[str, str], ...] = ()  # the customer's, filled in by the desk
    # 4.2.5, 4.8.5, 4.8.8: (coupon, stated edition, today) -> registry verdict, None without one
    coupon_check: Callable[[str, str | None, date], CouponVerdict | None] = (
        lambda coupon, edition, today: None
    )
    current_version: str = ""  # 4.8.2
    # The desk's own and the support address: never a customer's contact (lowercase, ASCII).
    reserved_addresses: frozenset[str] = frozenset()


@dataclass
class Conversation:
    """Per (channel, user) state; JSON-serialisable via to_dict/from_dict."""

    lang: str = texts.DEFAULT_LANG
    # idle | ask | split | category | critical | question | kb | similar | confirm | edit | filed
    step: str = "idle"
    asking: str | None = None  # the field, or the question id in step "question"
    fields: dict[str, str] = field(default_factory=dict)
    displays: dict[str, str] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    category: str | None = None  # chosen by the customer when the classifier was unsure
    critical: bool | None = None  # 2.2: the customer's answer to "is the site down now?"
    return_to_confirm: bool = False
    ticket_id: str | None = None  # the last filed ticket: further messages are its follow-ups
    remembered: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)  # 4.2.6 answers by question id
    notes: list[str] = field(default_factory=list)  # for the agent (coupon, version, docs)
    gates: list[str] = field(default_factory=list)  # gates already passed for this request
    docs: list[dict[str, str]] = field(default_factory=list)  # 1.3 suggestions shown
    similar_to: str | None = None  # 2.5
    queued_problems: list[str] = field(default_factory=list)  # 2.6: the next requests to file
    pending_description: str | None = None  # 4.8.11: held back until rephrased or confirmed
    coupon_retries: int = 0
    verify_address: str | None = None  # a code was sent there; the desk's, not the core's

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


def new_conversation(lang: str | None = None) -> Conversation:
    return Conversation(lang=texts.pick_lang(lang))


def handle(state: Conversation, event: Event, now: datetime, ctx: IntakeContext) -> Step:
    s = Conversation.from_dict(state.to_dict())  # never mutate the caller's state
    if isinstance(event, CommandEvent):
        return _command(s, event, now, ctx)
    if isinstance(event, ChoiceEvent):
        return _choice(s, event.value, now, ctx)
    if isinstance(event, AttachmentEvent):
        return _attachment(s, event.ref, now, ctx)
    if isinstance(event, FormEvent):
        return _form(s, event.text, now, ctx)
    return _text(s, event.text, now, ctx)


def _form(s: Conversation, text: str, now: datetime, ctx: IntakeContext) -> Step:
    """A whole request read at once (bot/intake/form.py): the text's fields, then every step its
    form lines answer or that is decided for a customer who cannot press buttons, until the
    ticket is filed or the customer must answer something. The replies are those of the last
    step that said anything, with the documentation found listed after them."""
    step = _text(s, text, now, ctx) if text.strip() else Step(s, ())
    replies, effects = step.replies, step.effects
    docs: list[dict[str, str]] = []
    for _ in range(30):  # bounded: a dialog has far fewer steps than that
        state = step.state
        event = _form_answer(state, text, ctx)
        if event is None or state.verify_address:
            break
        if state.step == "kb":
            docs = list(state.docs)
        step = handle(state, event, now, ctx)
        replies = step.replies or replies
        effects = (*effects, *step.effects)
        if any(isinstance(e, FileTicket) for e in step.effects):
            break
    listed = form.docs_text(docs, step.state.lang)
    if listed:
        replies = (*replies, Reply(listed))
    return Step(step.state, tuple(replies), tuple(effects))


def _form_answer(s: Conversation, text: str, ctx: IntakeContext) -> Event | None:
    """What the form lines of `text` answer at step `s.step`, or what is decided there."""
    if s.step == "category":
        category = form.category_answer(text, CATEGORIES)
        return ChoiceEvent(category) if category else None
    if s.step == "critical":
        answer = form.critical_answer(text)
        return ChoiceEvent(answer) if answer else None
    if s.step == "question" and s.asking:
        return form.question_answer(s.asking, text, ctx.questions)
    if s.step in form.DECIDED:
        return ChoiceEvent(form.DECIDED[s.step])
    return None


def on_ticket_queued(
    state: Conversation, ticket: Ticket, now: datetime, ctx: IntakeContext
) -> Step:
    """After the desk stored and queued a ticket: remember it for follow-ups (4.4)."""
    s = Conversation.from_dict(state.to_dict())
    s.remembered = {f: s.fields[f] for f in REMEMBERED if f in s.fields}
    s.remembered.update({f"display:{f}": s.displays[f] for f in REMEMBERED if f in s.displays})
    queued = list(s.queued_problems)
    _reset_draft(s)
    s.step, s.asking, s.ticket_id = "filed", None, ticket.id
    notice = ctx.filing_notice(now, s.lang, ticket.classification.critical)
    text = texts.t("queued", s.lang, id=ticket.id) + (f"\n\n{notice}" if notice else "")
    replies = [Reply(text)]
    if queued:  # 2.6: the next problem of the same message, with the same details
        _reset_draft(s)
        _prefill(s)
        s.queued_problems = queued[1:]
        head = [texts.t("split_next", s.lang, text=_cut(queued[0], 200))]
        s.gates.append("split")
        more = _text(s, queued[0], now, ctx, head=head)
        return Step(more.state, (*replies, *more.replies), more.effects)
    return Step(s, tuple(replies))


# --- commands ---------------------------------------------------------------------------------


def _command(s: Conversation, cmd: CommandEvent, now: datetime, ctx: IntakeContext) -> Step:
    name = cmd.name.lower().lstrip("/")
    if name == "start":
        greeting = Reply(texts.t("greeting", s.lang) + "\n\n" + ctx.status_text(now, s.lang))
        if s.step not in ("idle", "filed"):
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
    s.details, s.notes, s.gates, s.docs = {}, [], [], []
    s.similar_to, s.queued_problems, s.pending_description = None, [], None
    s.coupon_retries, s.verify_address = 0, None
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
    step = s.step
    if step == "confirm":
        if value == "send":
            return _file(s, now, ctx)
        if value == "edit":
            return _edit_menu(s)
        if value == "cancel":
            return _command(s, CommandEvent("cancel"), now, ctx)
    if step == "edit" and value in {f.value for f in FIELD_ORDER}:
        s.step, s.asking, s.return_to_confirm = "ask", value, True
        return Step(s, _prompt(s, ctx))
    if step == "category" and value in CATEGORIES:
        s.category = value
        return _advance(s, now, ctx, [])
    if step == "critical" and value in ("yes", "no"):
        s.critical = value == "yes"
        return _advance(s, now, ctx, [])
    if step == "split" and value in ("split_yes", "split_no"):
        s.gates.append("split")
        if value == "split_yes":
            problems = ctx.split_problems(s.fields[Field.DESCRIPTION])
            s.fields[Field.DESCRIPTION] = problems[0]
            s.queued_problems = problems[1:]
        return _advance(s, now, ctx, [])
    if step == "question" and value == "skip" and s.asking:
        s.details[s.asking] = SKIPPED
        return _advance(s, now, ctx, [])
    if step == "kb" and value in ("kb_yes", "kb_no"):
        s.gates.append("kb")
        if value == "kb_yes":  # 1.3: solved by the documentation, no ticket
            _reset_draft(s)
            s.step, s.asking = "idle", None
            return Step(s, (Reply(texts.t("kb_helped", s.lang)),), (Deflected(),))
        s.notes.append(
            "Клиенту предложена документация (п. 1.3), не помогла: похоже на описанное в "
            "документации, но требует пояснения."
        )
        return _advance(s, now, ctx, [])
    if step == "similar" and value in ("similar_yes", "similar_no") and s.similar_to:
        s.gates.append("similar")
        if value == "similar_yes":  # 2.5: a follow-up to the open ticket, not a new one
            target, text = s.similar_to, s.fields[Field.DESCRIPTION]
            files = tuple(s.attachment_refs())
            _reset_draft(s)
            s.step, s.asking, s.ticket_id = "filed", None, target
            reply = Reply(texts.t("followup_added", s.lang, id=target))
            return Step(s, (reply,), (AddFollowUp(target, text, files),))
        s.similar_to = None
        return _advance(s, now, ctx, [])
    if step == "ask" and s.asking == Field.DESCRIPTION.value and value == "keep":
        if s.pending_description:  # 4.8.11: the customer confirms the wording
            s.fields[Field.DESCRIPTION] = s.pending_description
            s.pending_description = None
            s.gates.append("profanity")
        return _advance(s, now, ctx, [])
    if step == "ask" and s.asking == Field.EDITION.value:
        return _text(s, UNKNOWN if value == "unknown" else value, now, ctx)
    # A stale button (an old message): show where we are instead of guessing.
    return Step(s, _prompt(s, ctx))


def _edit_menu(s: Conversation) -> Step:
    s.step = "edit"
    options = tuple(Option(f.value, texts.field_label(f, s.lang)) for f in FIELD_ORDER)
    return Step(s, (Reply(texts.t("choose_field", s.lang), options),))


def _typed_choice(s: Conversation, text: str, ctx: IntakeContext) -> str | None:
    """Free text always works too: an option's label, its number, or a plain yes/no."""
    if s.step not in ("split", "category", "critical", "kb", "similar", "confirm", "edit"):
        return None
    options = _prompt(s, ctx)[-1].options
    chosen = typed_option(text, options)
    if chosen is not None:
        return chosen
    if len(options) >= 2 and s.step in ("split", "critical", "kb", "similar"):
        answer = texts.yes_or_no(text, site_down=s.step == "critical")
        if answer is not None:
            return options[0].value if answer else options[1].value
    return None


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


def _text(
    s: Conversation, raw: str, now: datetime, ctx: IntakeContext, head: list[str] | None = None
) -> Step:
    head = list(head or [])
    text = clean_text(raw)
    if not text:
        return Step(s, (Reply(texts.t("empty_message", s.lang)), *_prompt(s, ctx)))
    # 4.2.7: passwords and keys never reach the state, the ticket or the log.
    text, hidden = redact(text)
    if hidden:
        head.append(secrets_notice(s.lang))
    courtesy = _courtesy_reply(s, text)
    if courtesy is not None:  # "спасибо" is for us: not mailed to support, not a description
        return Step(s, (courtesy,))
    if s.step == "filed" and s.ticket_id:
        reply = Reply("\n\n".join([*head, texts.t("followup_added", s.lang, id=s.ticket_id)]))
        return Step(s, (reply,), (AddFollowUp(s.ticket_id, text[:MAX_DESCRIPTION]),))
    choice = _typed_choice(s, text, ctx)
    if choice is not None:
        return _choice(s, choice, now, ctx)
    if s.step == "question" and s.asking:
        s.details[s.asking] = SKIPPED if is_skip(text) else _cut(text, 1000)
        return _advance(s, now, ctx, head)
    if s.step in ("idle", "filed"):
        s.step, s.asking = "ask", Field.DESCRIPTION.value
    if len(text) > MAX_DESCRIPTION:
        head.append(texts.t("too_long", s.lang, limit=MAX_DESCRIPTION))

    extracted = extract_fields(text[: MAX_DESCRIPTION * 2], ctx.coupon_pattern)
    values: dict[Field, str] = dict(extracted.values)
    asking = Field(s.asking) if s.step == "ask" and s.asking else None
    if asking is not None and asking not in values:
        if asking in (Field.DESCRIPTION, Field.STEPS):
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
        if f is Field.COUPON and is_unknown_answer(values[f]):
            _coupon_unknown(s, head)
            answered = answered or f is asking
            continue
        verdict = validate(f, values[f], ctx.coupon_pattern)
        if (
            f is Field.CONTACT_EMAIL
            and isinstance(verdict, Valid)
            and verdict.value.lower() in ctx.reserved_addresses
        ):
            verdict = Invalid("email_ours")
        if isinstance(verdict, Invalid):
            head.append(
                texts.t(
                    "invalid", s.lang, label=texts.field_label(f, s.lang),
                    value=_cut(" ".join(values[f].split()), 60),
                    reason=texts.reason(verdict.reason, s.lang),
                )
            )  # fmt: skip
            continue
        if f is Field.DESCRIPTION and _held_back(s, verdict.value, head):
            continue
        if f is Field.COUPON and not _coupon_accepted(s, verdict.value, now, ctx, head):
            continue
        s.fields[f] = verdict.value
        answered = answered or f is asking
        if verdict.display and verdict.display != verdict.value:
            s.displays[f] = verdict.display
        else:
            s.displays.pop(f, None)
        if f is Field.VERSION:
            _check_version(s, verdict.value, ctx, head)
        if f is not asking or len(values) > 1:
            understood.append(f"{texts.field_label(f, s.lang)} — {_shown(s, f)}")
    if understood:  # only what was not the plain answer to the question: say it was taken
        head.insert(0, texts.t("understood", s.lang, items="; ".join(understood)))
    return _advance(s, now, ctx, head, answered)


def _coupon_unknown(s: Conversation, head: list[str]) -> None:
    """4.2.5 "не знаю": the request goes on without the coupon (nobody is stuck in a loop); the
    customer hears what that means and where the number is, the agents are told to ask for it."""
    s.fields[Field.COUPON] = UNKNOWN
    s.displays.pop(Field.COUPON, None)
    s.notes = [n for n in s.notes if not n.startswith("Купон")]
    s.notes.append("Купон: клиент не знает номер — запросите его (п. 4.2.5).")
    head.append(texts.t("coupon_unknown", s.lang))


def _held_back(s: Conversation, description: str, head: list[str]) -> bool:
    """4.8.11: a description with insults waits until rephrased or confirmed."""
    if "profanity" in s.gates or not contains_profanity(description):
        s.pending_description = None
        return False
    s.pending_description = description
    head.append(profanity_notice(s.lang) + "\n" + texts.t("profanity_keep", s.lang))
    return True


def _coupon_accepted(
    s: Conversation, coupon: str, now: datetime, ctx: IntakeContext, head: list[str]
) -> bool:
    """4.2.5 with the registry: unknown → asked once more, then accepted with a note for agents;
    expired → the 4.8.5 explanation, accepted; edition and product pre-filled from the record."""
    stated = s.fields.get(Field.EDITION)
    known = stated if stated and stated != UNKNOWN else None
    verdict = ctx.coupon_check(coupon, known, now.date())
    s.notes = [n for n in s.notes if not n.startswith("Купон")]
    if verdict is None:
        return True
    said = verdict.customer_text(s.lang)
    if verdict.status == "unknown" and s.coupon_retries == 0:
        s.coupon_retries += 1
        if said:
            head.append(said)
        return False
    if said:
        head.append(said)
    s.notes.extend(f"Купон: {note}" for note in verdict.notes)
    if verdict.edition and Field.EDITION not in s.fields:
        s.fields[Field.EDITION] = verdict.edition
    return True


def _check_version(s: Conversation, version: str, ctx: IntakeContext, head: list[str]) -> None:
    """4.8.2: an outdated version may have to be updated before support can help."""
    s.notes = [n for n in s.notes if not n.startswith("Версия")]
    stated, current = version_tuple(version), version_tuple(ctx.current_version)
    if version == UNKNOWN or stated is None or current is None or stated >= current:
        return
    head.append(texts.t("version_old", s.lang, version=version, current=ctx.current_version))
    s.notes.append(f"Версия {version} старше актуальной {ctx.current_version} (п. 4.8.2).")


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _shown(s: Conversation, f: Field) -> str:
    value = s.displays.get(f) or s.fields.get(f, "")
    if f is Field.EDITION:
        value = edition_name(value, s.lang)
    return _cut(" ".join(value.split()), 60)


def _missing(s: Conversation) -> Field | None:
    return next((f for f in FIELD_ORDER if f not in s.fields), None)


# --- gates and the summary --------------------------------------------------------------------


def _advance(
    s: Conversation, now: datetime, ctx: IntakeContext, head: list[str], answered: bool = True
) -> Step:
    """Ask for the next missing field, pass the next gate, or show the summary.

    `answered` is False when the message did not settle the field being asked; during an edit from
    the summary that field is asked again even though its old value is still kept.
    """
    if s.step == "ask" and s.return_to_confirm and s.asking and not answered:
        return Step(s, _prompt(s, ctx, head))
    if s.pending_description is not None and Field.DESCRIPTION not in s.fields:
        s.step, s.asking = "ask", Field.DESCRIPTION.value
        return Step(s, _prompt(s, ctx, head))
    s.return_to_confirm = False
    missing = _missing(s)
    if missing is not None:
        _tell_scope_early(s, ctx, head)
        s.step, s.asking = "ask", missing.value
        return Step(s, _prompt(s, ctx, head))
    s.asking = None
    description = s.fields[Field.DESCRIPTION]
    if "split" not in s.gates and len(ctx.split_problems(description)) > 1:
        s.step = "split"
        return Step(s, _prompt(s, ctx, head))
    c = _classify(s, ctx)
    if c.unsure and s.category is None:
        s.step = "category"
        return Step(s, _prompt(s, ctx, head))
    if c.critical and s.critical is None:
        s.step = "critical"  # 2.2: confirm before the ticket jumps the queue
        return Step(s, _prompt(s, ctx, head))
    question = _next_question(s, c.category, ctx)
    if question is not None:
        s.step, s.asking = "question", question.id
        return Step(s, _prompt(s, ctx, head))
    if "kb" not in s.gates and not c.critical:
        hits = ctx.suggest_docs(_request_text(s, ctx), c.category, s.lang)
        if hits:
            s.docs = [asdict(h) for h in hits]
            s.step = "kb"
            return Step(s, _prompt(s, ctx, head))
        s.gates.append("kb")
    if "similar" not in s.gates:
        similar = ctx.find_similar(description, ctx.open_tickets)
        if similar:
            s.similar_to, s.step = similar, "similar"
            return Step(s, _prompt(s, ctx, head))
        s.gates.append("similar")
    s.step = "confirm"
    return Step(s, _prompt(s, ctx, head))


def _tell_scope_early(s: Conversation, ctx: IntakeContext, head: list[str]) -> None:
    """Section 3: a request the regulation leaves out is said so as soon as it is described,
    not after the customer has typed the version and the coupon. Checked once."""
    if Field.DESCRIPTION not in s.fields or "scope_early" in s.gates:
        return
    s.gates.append("scope_early")
    c = _classify(s, ctx)
    if not c.in_scope and not c.unsure:
        explain = ctx.scope_explanation(c.clause, s.lang)
        head.append(texts.t("out_of_scope_early", s.lang, clause=c.clause, explain=explain))


def _next_question(s: Conversation, category: str, ctx: IntakeContext) -> Question | None:
    """4.2.6: the category's next optional question not yet answered anywhere."""
    said = [s.fields.get(Field.DESCRIPTION, ""), s.fields.get(Field.STEPS, "")]
    pending = pending_questions(
        category, said, s.details, ctx.questions, has_screenshot=bool(s.attachments)
    )
    return pending[0] if pending else None


def _question_by_id(question_id: str | None, ctx: IntakeContext) -> Question | None:
    return next((q for qs in ctx.questions.values() for q in qs if q.id == question_id), None)


def _question(s: Conversation, ctx: IntakeContext) -> Question | None:
    return _question_by_id(s.asking, ctx)


def _prompt(
    s: Conversation, ctx: IntakeContext, head: list[str] | None = None
) -> tuple[Reply, ...]:
    """The question for the current step, with whatever was said before it."""
    lead = "\n".join(head or [])
    question, options = _question_of_step(s, ctx)
    if not question:
        return (Reply(lead),) if lead else ()
    return (Reply(f"{lead}\n\n{question}".strip(), options),)


def _question_of_step(s: Conversation, ctx: IntakeContext) -> tuple[str, tuple[Option, ...]]:
    lang = s.lang
    label = texts.choice_label
    if s.step == "ask" and s.asking:
        f = Field(s.asking)
        options: tuple[Option, ...] = ()
        if f is Field.EDITION:
            unknown = Option("unknown", label("unknown", lang))
            options = (*(Option(e, edition_name(e, lang)) for e in EDITIONS), unknown)
        if f is Field.DESCRIPTION and s.pending_description:
            options = (Option("keep", label("keep", lang)),)
        return texts.t(f"ask_{f.value}", lang), options
    if s.step == "split":
        problems = ctx.split_problems(s.fields[Field.DESCRIPTION])
        text = texts.t("split_offer", lang, n=len(problems), first=_cut(problems[0], 200))
        return text, (Option("split_yes", label("split_yes", lang)),
                      Option("split_no", label("split_no", lang)))  # fmt: skip
    if s.step == "category":
        options = tuple(Option(c, texts.category_name(c, lang)) for c in CATEGORIES)
        return texts.t("choose_category", lang), options
    if s.step == "critical":
        return texts.t("ask_critical", lang), (Option("yes", label("yes", lang)),
                                               Option("no", label("no", lang)))  # fmt: skip
    if s.step == "question":
        q = _question(s, ctx)
        text = f"{q.text(lang)}\n{texts.t('question_skip_hint', lang)}" if q else ""
        return text, (Option("skip", label("skip", lang)),)
    if s.step == "kb":
        items = "\n".join(f"• {d['title']} — {d['url']}" for d in s.docs)
        return texts.t("kb_offer", lang, items=items), (
            Option("kb_yes", label("kb_yes", lang)), Option("kb_no", label("kb_no", lang)),
        )  # fmt: skip
    if s.step == "similar" and s.similar_to:
        summary = dict(ctx.open_tickets).get(s.similar_to, "")
        text = texts.t("similar_offer", lang, id=s.similar_to, summary=_cut(summary, 120))
        return text, (
            Option("similar_yes", label("similar_yes", lang).format(id=s.similar_to)),
            Option("similar_no", label("similar_no", lang)),
        )
    if s.step == "confirm":
        return _summary(s, ctx), tuple(
            Option(k, label(k, lang)) for k in ("send", "edit", "cancel")
        )
    if s.step == "edit":
        options = tuple(Option(f.value, texts.field_label(f, lang)) for f in FIELD_ORDER)
        return texts.t("choose_field", lang), options
    return "", ()


def _courtesy_reply(s: Conversation, text: str) -> Reply | None:
    """A reply to thanks or an acknowledgement when no request is being written."""
    if not is_courtesy(text):
        return None
    if s.step == "filed" and s.ticket_id:
        return Reply(texts.t("courtesy_filed", s.lang, id=s.ticket_id))
    nothing_yet = not s.fields and not s.attachments and s.asking == Field.DESCRIPTION.value
    if s.step == "idle" or (s.step == "ask" and nothing_yet):
        return Reply(texts.t("courtesy_idle", s.lang))
    return None


def _request_text(s: Conversation, ctx: IntakeContext) -> str:
    """The problem in the customer's words, for the classifier and the 1.3 search: description
    and steps without the 4.2 values quoted in them. "Write everything in one message" puts the
    coupon, version and e-mail into the description (kept there for the agent), where they say
    nothing about the problem: a coupon number brought up the coupon-renewal article for a
    broken cart."""
    text = s.fields.get(Field.DESCRIPTION, "")
    steps = s.fields.get(Field.STEPS, "")
    text = f"{text}\n{steps}" if steps and steps != UNKNOWN else text
    return _without_field_values(text, ctx.coupon_pattern)


@lru_cache(maxsize=1024)
def _without_field_values(text: str, coupon_pattern: str) -> str:
    """Pure and asked for several times per update (each gate classifies): computed once."""
    return extract_fields(text, coupon_pattern).rest or text


def _classify(s: Conversation, ctx: IntakeContext) -> Classification:
    result = ctx.classify(_request_text(s, ctx))
    if s.critical is not None:
        result = replace(result, critical=s.critical)
    if s.category and s.category != result.category:
        section = load_categories()[s.category].section
        return Classification(s.category, True, section, result.critical, 1.0, False)
    if s.category:
        return replace(result, unsure=False)
    return result


def _summary(s: Conversation, ctx: IntakeContext) -> str:
    lang = s.lang
    lines = [texts.t("summary_head", lang)]
    lines += [f"• {texts.field_label(f, lang)}: {_summary_value(s, f)}" for f in FIELD_ORDER]
    for question_id, answer in s.details.items():
        if answer != SKIPPED:
            q = _question_by_id(question_id, ctx)
            lines.append(f"• {q.label(lang) if q else question_id}: {_cut(answer, 200)}")
    c = _classify(s, ctx)
    scope = "" if c.in_scope else texts.t("summary_out_of_scope", lang)
    lines.append(
        texts.t("summary_category", lang, category=texts.category_name(c.category, lang),
                clause=c.clause, scope=scope)
    )  # fmt: skip
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
    if value == UNKNOWN:
        return texts.choice_label("unknown", s.lang)
    if f is Field.EDITION:
        return edition_name(value, s.lang)
    return _cut(value, 500) if f in (Field.DESCRIPTION, Field.STEPS) else value


def _file(s: Conversation, now: datetime, ctx: IntakeContext) -> Step:
    if _missing(s) is not None:
        return _advance(s, now, ctx, [])
    c = _classify(s, ctx)
    is_open, next_opening = ctx.working_hours(now)
    notes = list(s.notes)
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
        details={k: v for k, v in s.details.items() if v != SKIPPED},
        suggested_docs=[DocLink(d["title"], d["url"]) for d in s.docs],
        notes=notes,
    )
    return Step(s, (), (FileTicket(ticket),))
