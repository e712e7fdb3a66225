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
from typing import Protocol

from bot.intake import form, texts
from bot.intake.agent_notes import NoteKind, agent_note, note_lines, set_notes
from bot.intake.clarify import question_back, where_to_find
from bot.intake.conversation import Conversation, Gate, Step, Turn
from bot.intake.courtesy import is_courtesy, is_send_again
from bot.intake.events import (
    AddFollowUp,
    AttachmentEvent,
    ChoiceEvent,
    CommandEvent,
    Deflected,
    Event,
    FileTicket,
    FormEvent,
    Option,
    Reply,
    TextEvent,
    typed_option,
)
from bot.intake.extract import extract_fields
from bot.intake.fields import (
    COUPON_DEMO,
    DEFAULT_PRODUCT,
    EDITION_UNKNOWN,
    EDITIONS,
    FIELD_ORDER,
    MAX_DESCRIPTION,
    UNKNOWN,
    Field,
    Invalid,
    Valid,
    clean_text,
    edition_name,
    edition_products,
    is_demo_answer,
    is_unknown_answer,
    validate,
    version_tuple,
)
from bot.intake.language import detect_lang, is_language_complaint, requested_lang
from bot.intake.questions import SKIPPED, Question, answered_in, is_skip, pending_questions
from bot.intake.reproduce import nothing_to_reproduce
from bot.policy.profanity import contains_profanity, profanity_notice
from bot.policy.secrets import redact, secrets_notice
from bot.tickets.model import AttachmentRef, Classification, DocLink, Ticket
from classifier import load_categories

__all__ = [
    "CATEGORIES",
    "STEPS",
    "Conversation",
    "CouponVerdict",
    "DocSuggestion",
    "Gate",
    "IntakeContext",
    "OpenQuestions",
    "Step",
    "StepRules",
    "Turn",
    "handle",
    "keeps_held",
    "new_conversation",
    "on_ticket_queued",
    "open_questions",
    "optional_questions",
    "request_classification",
]

MAX_ATTACHMENTS = 10
MAX_DETAIL_QUESTIONS = 3  # 4.2.6 questions offered with the summary; the agent asks the rest
EDIT_CATEGORY = "category"  # the Edit menu's option for the category (section 3)
MORE_DETAILS = "more"  # `details` key of an addition that answers none of the questions
PROSE_FIELDS = (Field.DESCRIPTION, Field.STEPS)  # told in the customer's own words
# The category of questions about working with the system (3.6): nothing to reproduce.
QUESTION_CATEGORY = "theory"
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


@dataclass(frozen=True)
class OpenQuestions:
    """What a request still needs from the customer (`open_questions`)."""

    fields: tuple[Field, ...]  # missing 4.2 fields, in the order they are asked
    critical: bool  # 2.2: the text reads as a site that is down, not yet confirmed
    category: bool  # the classifier is unsure and the customer has not chosen


def new_conversation(lang: str | None = None) -> Conversation:
    return Conversation(lang=texts.pick_lang(lang))


def handle(state: Conversation, event: Event, now: datetime, ctx: IntakeContext) -> Turn:
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


# --- the steps: what each asks, and how it reads a choice ---------------------------------------

Prompt = tuple[str, tuple[Option, ...]]  # the question's text and its buttons


@dataclass(frozen=True)
class StepRules:
    """One step of the dialog.

    `ask` writes its question; `choose` applies a pressed (or typed) option and returns None
    for a value that is not one of its options; with `yes_no`, a plain "да"/"нет" typed by the
    customer presses the first or the second option; with `typed_options`, an option's label or
    number typed as text counts as pressing it.
    """

    ask: Callable[[Conversation, IntakeContext], Prompt]
    choose: Callable[[Conversation, str, datetime, IntakeContext], Turn | None]
    yes_no: bool = False
    typed_options: bool = True


def _nothing_to_ask(s: Conversation, ctx: IntakeContext) -> Prompt:
    return "", ()


def _no_choice(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn | None:
    return None


def _two(s: Conversation, first: str, second: str) -> tuple[Option, ...]:
    label = texts.choice_label
    return Option(first, label(first, s.lang)), Option(second, label(second, s.lang))


# REOPEN: support closed the filed ticket; a new message either reopens it (5.1) or starts a
# new request, asked once (the message waits in `pending_text`, nothing is typed twice).


def _ask_reopen(s: Conversation, ctx: IntakeContext) -> Prompt:
    return texts.t("closed_choice", s.lang, id=s.ticket_id), _two(s, "reopen", "new_request")


def _choose_reopen(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn | None:
    if value not in ("reopen", "new_request") or not s.ticket_id:
        return None
    text, s.pending_text = s.pending_text or "", None
    if value == "reopen":
        s.step, s.ticket_closed = Step.FILED, False
        if Gate.PROFANITY not in s.gates and contains_profanity(text):
            return _text(s, text, now, ctx)  # held first (4.8.11), then a follow-up as usual
        return _reopened(s, s.ticket_id, text)
    _reset_draft(s)
    _prefill(s)
    return _text(s, text, now, ctx) if text else Turn(s, _prompt(s, ctx))


# ASK: a 4.2 field. Text is read by the field extraction (`_read_fields`); the only buttons
# are the editions and, for a description held back for its wording (4.8.11), "keep it".


def _ask_field(s: Conversation, ctx: IntakeContext) -> Prompt:
    if not s.asking:
        return "", ()
    missing = _missing_fields(s)
    if len(missing) > 1 and not s.return_to_confirm and s.asking == missing[0].value:
        return texts.t("ask_missing", s.lang, items=_missing_items(missing, s.lang)), ()
    f, lang = Field(s.asking), s.lang
    options: tuple[Option, ...] = ()
    if f is Field.EDITION:
        unknown = Option("unknown", texts.choice_label("unknown", lang))
        options = (*(Option(e, edition_name(e, lang)) for e in EDITIONS), unknown)
    return texts.t(f"ask_{f.value}", lang), options


def _missing_items(missing: Sequence[Field], lang: str) -> str:
    """The fields still needed, a line each, with how to answer where it is not obvious."""
    lines = []
    for f in missing:
        if f is Field.STEPS:
            lines.append(f"• {texts.t('missing_steps', lang)}")
        else:
            hint = texts.t(f"hint_{f.value}", lang)
            lines.append(f"• {texts.field_label(f, lang)} ({hint})")
    return "\n".join(lines)


def _choose_field(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn | None:
    if s.asking == Field.EDITION.value:
        return _text(s, UNKNOWN if value == "unknown" else value, now, ctx)
    return None


# SPLIT (2.6): one ticket per problem.


def _ask_split(s: Conversation, ctx: IntakeContext) -> Prompt:
    problems = ctx.split_problems(s.fields[Field.DESCRIPTION])
    text = texts.t("split_offer", s.lang, n=len(problems), first=_cut(problems[0], 200))
    return text, _two(s, "split_yes", "split_no")


def _choose_split(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn | None:
    if value not in ("split_yes", "split_no"):
        return None
    s.gates.append(Gate.SPLIT)
    if value == "split_yes":
        problems = ctx.split_problems(s.fields[Field.DESCRIPTION])
        s.fields[Field.DESCRIPTION] = problems[0]
        s.queued_problems = problems[1:]
    return _advance(s, now, ctx, [])


# CATEGORY: the classifier is unsure; the customer picks one of section 3's categories.


def _ask_category(s: Conversation, ctx: IntakeContext) -> Prompt:
    options = tuple(Option(c, texts.category_name(c, s.lang)) for c in CATEGORIES)
    return texts.t("choose_category", s.lang), options


def _choose_category(
    s: Conversation, value: str, now: datetime, ctx: IntakeContext
) -> Turn | None:
    if value not in CATEGORIES:
        return None
    s.category = value
    return _advance(s, now, ctx, [])


# CRITICAL (2.2): confirmed before the ticket jumps the queue.


def _ask_critical(s: Conversation, ctx: IntakeContext) -> Prompt:
    return texts.t("ask_critical", s.lang), _two(s, "yes", "no")


def _choose_critical(
    s: Conversation, value: str, now: datetime, ctx: IntakeContext
) -> Turn | None:
    if value not in ("yes", "no"):
        return None
    s.critical = value == "yes"
    return _advance(s, now, ctx, [])


# SIMILAR (2.5): the same problem as an open ticket becomes its follow-up, not a new ticket.


def _ask_similar(s: Conversation, ctx: IntakeContext) -> Prompt:
    if not s.similar_to:
        return "", ()
    summary = dict(ctx.open_tickets).get(s.similar_to, "")
    text = texts.t("similar_offer", s.lang, id=s.similar_to, summary=_cut(summary, 120))
    yes = texts.choice_label("similar_yes", s.lang).format(id=s.similar_to)
    no = texts.choice_label("similar_no", s.lang)
    return text, (Option("similar_yes", yes), Option("similar_no", no))


def _choose_similar(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn | None:
    if value not in ("similar_yes", "similar_no") or not s.similar_to:
        return None
    s.gates.append(Gate.SIMILAR)
    if value == "similar_no":
        s.similar_to = None
        return _advance(s, now, ctx, [])
    target, text = s.similar_to, s.fields[Field.DESCRIPTION]
    files = tuple(s.attachment_refs())
    _reset_draft(s)
    s.step, s.asking, s.ticket_id = Step.FILED, None, target
    reply = Reply(texts.t("followup_added", s.lang, id=target))
    return Turn(s, (reply,), (AddFollowUp(target, text, files),))


# CONFIRM: the summary, as soon as the 4.2 fields are in. It lists the documentation that may
# already answer the request (1.3: "it helped" ends it without a ticket) and the optional
# questions that matter for it (4.2.6), answerable in one message or left out.


def _ask_confirm(s: Conversation, ctx: IntakeContext) -> Prompt:
    keys = ["send", "send_works"] if _critical_unconfirmed(s, ctx) else ["send"]
    if s.closed_ticket:
        keys.append("reopen_closed")
    if _pending_details(s, ctx):
        keys.append("details")
    if s.docs:
        keys.append("docs_helped")
    keys += ["edit", "cancel"]
    return _summary(s, ctx), tuple(Option(k, texts.choice_label(k, s.lang)) for k in keys)


def _reopen_instead(s: Conversation) -> Turn:
    """The request is about the closed ticket after all: its text goes there, reopening it."""
    ticket_id, text = s.closed_ticket or "", s.original_text
    _reset_draft(s)
    s.step, s.asking = Step.FILED, None
    return _reopened(s, ticket_id, text)


def _reopened(s: Conversation, ticket_id: str, text: str) -> Turn:
    """`text` goes to the closed ticket's thread, which reopens it (the desk, 5.1)."""
    s.ticket_id = ticket_id
    reply = Reply(texts.t("reopen_done", s.lang, id=ticket_id))
    return Turn(s, (reply,), (AddFollowUp(ticket_id, text[:MAX_DESCRIPTION]),))


def _settle_critical(s: Conversation, down: bool) -> None:
    """The customer's answer to 2.2 given at the summary; steps are not asked after it: the
    summary said "send", and 4.2.1 asks for them only where possible."""
    s.critical = down
    if Field.STEPS.value not in s.asked:
        s.asked.append(Field.STEPS.value)


def _critical_unconfirmed(s: Conversation, ctx: IntakeContext) -> bool:
    return s.critical is None and _classify(s, ctx).critical


def _choose_confirm(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn | None:
    if value in ("send", "send_works") and _critical_unconfirmed(s, ctx):
        # The summary said it goes as critical: Send confirms it (2.2), unless the agents are
        # told it was decided without the customer (a form answered by e-mail).
        if value == "send_works" or NoteKind.CRITICAL not in s.notes:
            _settle_critical(s, value == "send")
        return _file(s, now, ctx)
    if value == "send":
        return _file(s, now, ctx)
    if value == "reopen_closed" and s.closed_ticket:
        return _reopen_instead(s)
    if value == "details" and _pending_details(s, ctx):
        s.step = Step.DETAILS
        return Turn(s, _prompt(s, ctx))
    if value == "docs_helped" and s.docs:
        _reset_draft(s)
        s.step, s.asking = Step.IDLE, None
        return Turn(s, (Reply(texts.t("kb_helped", s.lang)),), (Deflected(),))
    if value == "edit":
        return _edit_menu(s, ctx)
    if value == "cancel":
        return _command(s, CommandEvent("cancel"), now, ctx)
    return None


# DETAILS: the optional questions (4.2.6) asked together; any subset answered in one message.


def _ask_details(s: Conversation, ctx: IntakeContext) -> Prompt:
    items = "\n".join(f"• {q.text(s.lang)}" for q in _pending_details(s, ctx))
    back = Option("back", texts.choice_label("back", s.lang))
    return texts.t("details_prompt", s.lang, items=items), (back,)


def _choose_details(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn | None:
    if value != "back":
        return None
    return _advance(s, now, ctx, [])


def _read_details(s: Conversation, text: str, ctx: IntakeContext, *, whole: bool) -> list[str]:
    """Answers to the pending optional questions found in `text`, kept in `s.details`; with
    `whole`, a text that matches none of them answers the only question, or is kept as an
    addition. Returns the labels of what was taken."""
    pending = _pending_details(s, ctx)
    answers = {q: a for q in pending if (a := answered_in(q, text))}
    if len(answers) == 1 and "\n" not in text and len(text) <= 200:
        # A short reply about one thing is the answer as said: "вчера вечером", not "вчера".
        answers = dict.fromkeys(answers, text)
    taken: list[str] = []
    for q, answer in answers.items():
        s.details[q.id] = _cut(answer, 1000)
        taken.append(q.label(s.lang))
    if whole and not taken and not is_skip(text):
        if len(pending) == 1:
            s.details[pending[0].id] = _cut(text, 1000)
            taken.append(pending[0].label(s.lang))
        else:
            s.details[MORE_DETAILS] = _cut(text, 1000)
            taken.append(texts.t("more_details_label", s.lang))
    return taken


def _ask_edit(s: Conversation, ctx: IntakeContext) -> Prompt:
    options = tuple(Option(f.value, texts.field_label(f, s.lang)) for f in FIELD_ORDER)
    category = Option(EDIT_CATEGORY, texts.t("category_field", s.lang))
    return texts.t("choose_field", s.lang), (*options, category)


def _choose_edit(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn | None:
    if value == EDIT_CATEGORY:  # section 3: the customer knows better than the guess
        s.step = Step.CATEGORY
        return Turn(s, _prompt(s, ctx))
    if value not in {f.value for f in FIELD_ORDER}:
        return None
    s.step, s.asking, s.return_to_confirm = Step.ASK, value, True
    return Turn(s, _prompt(s, ctx))


STEPS: dict[Step, StepRules] = {
    Step.IDLE: StepRules(_nothing_to_ask, _no_choice, typed_options=False),
    Step.ASK: StepRules(_ask_field, _choose_field, typed_options=False),
    Step.SPLIT: StepRules(_ask_split, _choose_split, yes_no=True),
    Step.CATEGORY: StepRules(_ask_category, _choose_category),
    Step.CRITICAL: StepRules(_ask_critical, _choose_critical, yes_no=True),
    Step.SIMILAR: StepRules(_ask_similar, _choose_similar, yes_no=True),
    Step.CONFIRM: StepRules(_ask_confirm, _choose_confirm),
    Step.DETAILS: StepRules(_ask_details, _choose_details),
    Step.EDIT: StepRules(_ask_edit, _choose_edit),
    Step.FILED: StepRules(_nothing_to_ask, _no_choice, typed_options=False),
    Step.REOPEN: StepRules(_ask_reopen, _choose_reopen),
}


def _choice(s: Conversation, value: str, now: datetime, ctx: IntakeContext) -> Turn:
    if value == "keep" and s.held_text:
        return _keep_held(s, now, ctx)
    turn = STEPS[s.step].choose(s, value, now, ctx)
    # A stale button (an old message): show where we are instead of guessing.
    return turn if turn is not None else Turn(s, _prompt(s, ctx))


def _typed_choice(s: Conversation, text: str, ctx: IntakeContext) -> str | None:
    """Free text works as a button too: an option's label, its number, or a plain yes/no."""
    rules = STEPS[s.step]
    if not rules.typed_options:
        return None
    options = rules.ask(s, ctx)[1]
    chosen = typed_option(text, options)
    if chosen is not None or not rules.yes_no or len(options) < 2:
        return chosen
    answer = texts.yes_or_no(text, site_down=s.step is Step.CRITICAL)
    return None if answer is None else (options[0].value if answer else options[1].value)


def _prompt(
    s: Conversation, ctx: IntakeContext, head: list[str] | None = None
) -> tuple[Reply, ...]:
    """The question for the current step, with whatever was said before it."""
    lead = "\n".join(head or [])
    question, options = STEPS[s.step].ask(s, ctx)
    if not question:
        return (Reply(lead),) if lead else ()
    return (Reply(f"{lead}\n\n{question}".strip(), options, lead=lead, asks=True),)


def _edit_menu(s: Conversation, ctx: IntakeContext) -> Turn:
    s.step = Step.EDIT
    return Turn(s, _prompt(s, ctx))


# --- the non-interactive mode -------------------------------------------------------------------


def _form(s: Conversation, text: str, now: datetime, ctx: IntakeContext) -> Turn:
    """A whole request read at once (bot/intake/form.py): the text's fields, then every step its
    form lines answer or that is decided for a customer who cannot press buttons, until the
    ticket is filed or the customer must answer something. The replies are those of the last
    step that said anything, with the documentation found listed after them."""
    _form_open_lines(s, text, ctx)
    turn = _text(s, text, now, ctx) if text.strip() else Turn(s, ())
    replies, effects = turn.replies, turn.effects
    docs: list[dict[str, str]] = []
    for _ in range(30):  # bounded: a dialog has far fewer steps than that
        state = turn.state
        event = _form_answer(state, text, ctx)
        if event is None or state.verify_address:
            break
        if state.step is Step.CONFIRM:
            docs = list(state.docs)
            _form_details(state, text, ctx)
        turn = handle(state, event, now, ctx)
        replies = turn.replies or replies
        effects = (*effects, *turn.effects)
        if any(isinstance(e, FileTicket) for e in turn.effects):
            # Filed: the summary's question is moot, what was said before it still counts
            replies = tuple(_without_question(r) for r in replies if r.lead or not r.options)
            break
    listed = form.docs_text(docs, turn.state.lang)
    if listed:
        replies = (*replies, Reply(listed))
    return Turn(turn.state, tuple(replies), tuple(effects))


def _without_question(reply: Reply) -> Reply:
    return Reply(reply.lead) if reply.options else reply


def _form_open_lines(s: Conversation, text: str, ctx: IntakeContext) -> None:
    """Before a form answer is read: everything the guided reply asked counts as asked (steps
    are not asked for twice), and its 2.2 and category lines are taken whatever step the draft
    is at (a coupon still wrong must not lose the category given beside it)."""
    if Field.DESCRIPTION in s.fields:
        # The steps too: listed, or left out for a site that reads as down; either way the
        # answer is all there will be (4.2.1: where possible), not a second round trip.
        shown = [*_missing_fields(s), Field.STEPS]
        s.asked += [f.value for f in shown if f.value not in s.asked]
    category = form.category_answer(text, CATEGORIES)
    if category is not None and s.category is None:
        s.category = category
    critical = form.critical_answer(text)
    if critical is not None and s.critical is None:
        s.critical = critical == "yes"


def _form_answer(s: Conversation, text: str, ctx: IntakeContext) -> Event | None:
    """What the form lines of `text` answer at step `s.step`, or what is decided there.

    By e-mail every question costs the customer hours, so what the text does not settle is
    decided once nothing else is missing, with a note for the agents: the category the
    classifier found likeliest, and "critical" when the text reads as a site that is down (2.2).
    While a 4.2 field is missing the customer is asked anyway, and these two questions ride in
    the same reply."""
    complete = not _missing_fields(s)
    if s.step is Step.CATEGORY:
        category = form.category_answer(text, CATEGORIES)
        if category is None and complete:
            category = ctx.classify(_request_text(s, ctx)).category
            set_notes(s.notes, NoteKind.CATEGORY, [agent_note("category_guessed")])
        return ChoiceEvent(category) if category else None
    if s.step is Step.CRITICAL:
        answer = form.critical_answer(text)
        if answer is None and complete:
            answer = "yes"
            set_notes(s.notes, NoteKind.CRITICAL, [agent_note("critical_unconfirmed")])
        return ChoiceEvent(answer) if answer else None
    if s.step is Step.CONFIRM and _critical_unconfirmed(s, ctx):
        set_notes(s.notes, NoteKind.CRITICAL, [agent_note("critical_unconfirmed")])
    if s.step in form.DECIDED:
        return ChoiceEvent(form.DECIDED[s.step])
    return None


def _form_details(s: Conversation, text: str, ctx: IntakeContext) -> None:
    """Optional questions (4.2.6) answered on their own labelled lines of a form."""
    for q in _pending_details(s, ctx):
        answer = form.question_answer(q.id, text, ctx.questions)
        if isinstance(answer, TextEvent):
            s.details[q.id] = _cut(answer.text, 1000)


def open_questions(state: Conversation, ctx: IntakeContext) -> OpenQuestions:
    """Everything the customer must still answer before the request can be filed, for a
    channel that asks it all at once (a guided e-mail)."""
    s = Conversation.from_dict(state.to_dict())
    missing = tuple(_missing_fields(s))
    if Field.DESCRIPTION not in s.fields:
        return OpenQuestions(missing, critical=False, category=False)
    c = _classify(s, ctx)
    return OpenQuestions(
        missing,
        critical=c.critical and s.critical is None,
        category=c.unsure and s.category is None,
    )


def request_classification(state: Conversation, ctx: IntakeContext) -> Classification | None:
    """The request's classification as the summary states it (the customer's own category and
    2.2 answer over the classifier's), None before there is a description."""
    if Field.DESCRIPTION not in state.fields:
        return None
    return _classify(Conversation.from_dict(state.to_dict()), ctx)


def optional_questions(state: Conversation, ctx: IntakeContext) -> list[Question]:
    """The optional questions (4.2.6) a form may offer with the request: those that matter for
    it and that nothing the customer said answers yet."""
    if Field.DESCRIPTION not in state.fields:
        return []
    return _pending_details(Conversation.from_dict(state.to_dict()), ctx)


def on_ticket_queued(
    state: Conversation, ticket: Ticket, now: datetime, ctx: IntakeContext
) -> Turn:
    """After the desk stored and queued a ticket: remember it for follow-ups (4.4)."""
    s = Conversation.from_dict(state.to_dict())
    s.remembered = {f: s.fields[f] for f in REMEMBERED if f in s.fields}
    s.remembered.update({f"display:{f}": s.displays[f] for f in REMEMBERED if f in s.displays})
    queued, original = list(s.queued_problems), s.original_text
    _reset_draft(s)
    s.step, s.asking, s.ticket_id = Step.FILED, None, ticket.id
    notice = ctx.filing_notice(now, s.lang, ticket.classification.critical)
    text = texts.t("queued", s.lang, id=ticket.id) + (f"\n\n{notice}" if notice else "")
    replies = [Reply(text)]
    if queued:  # 2.6: the next problem of the same message, with the same details
        _reset_draft(s)
        _prefill(s)
        s.queued_problems = queued[1:]
        head = [texts.t("split_next", s.lang, text=_cut(queued[0], 200))]
        s.gates.append(Gate.SPLIT)
        more = _text(s, queued[0], now, ctx, head=head)
        more.state.original_text = original  # the message all the problems came in
        return Turn(more.state, (*replies, *more.replies), more.effects)
    return Turn(s, tuple(replies))


# --- commands ---------------------------------------------------------------------------------


def _command(s: Conversation, cmd: CommandEvent, now: datetime, ctx: IntakeContext) -> Turn:
    name = cmd.name.lower().lstrip("/")
    if name == "start":
        greeting = Reply(texts.t("greeting", s.lang) + "\n\n" + ctx.status_text(now, s.lang))
        if s.step in (Step.IDLE, Step.FILED):
            _reset_draft(s)
        return Turn(s, (greeting, *_prompt(s, ctx)))
    if name == "new":
        _reset_draft(s)
        replies = [Reply(texts.t("new_request", s.lang))]
        prefilled = _prefill(s)
        if prefilled:
            replies.append(Reply(texts.t("prefilled", s.lang, items=prefilled)))
        return Turn(s, (*replies, *_prompt(s, ctx)))
    if name == "cancel":
        if s.step in (Step.IDLE, Step.FILED) and not s.fields:
            return Turn(s, (Reply(texts.t("nothing_to_cancel", s.lang)),))
        _reset_draft(s)
        s.step, s.asking = Step.IDLE, None
        return Turn(s, (Reply(texts.t("cancelled", s.lang)),))
    if name == "lang":
        arg = cmd.arg.strip().lower()
        s.lang = arg if arg in texts.LANGS else ("en" if s.lang == "ru" else "ru")
        s.lang_chosen = True
        return Turn(s, (Reply(texts.t("lang_set", s.lang)), *_prompt(s, ctx)))
    if name == "edit" and s.fields:
        return _edit_menu(s, ctx)
    return Turn(s, (Reply(texts.t("help", s.lang)),))


def _reset_draft(s: Conversation) -> None:
    s.fields, s.displays, s.attachments = {}, {}, []
    s.category, s.return_to_confirm, s.ticket_id, s.critical = None, False, None, None
    s.details, s.notes, s.gates, s.docs = {}, {}, [], []
    s.similar_to, s.queued_problems, s.held_text = None, [], None
    s.coupon_retries, s.verify_address, s.original_text = 0, None, ""
    s.ticket_closed, s.pending_text, s.closed_ticket = False, None, None
    s.classified_text, s.classification, s.asked = None, None, []
    s.step, s.asking = Step.ASK, Field.DESCRIPTION.value


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


# --- attachments and text ---------------------------------------------------------------------


def _attachment(s: Conversation, ref: AttachmentRef, now: datetime, ctx: IntakeContext) -> Turn:
    if s.step is Step.FILED and s.ticket_id:
        reply = Reply(texts.t("followup_added", s.lang, id=s.ticket_id))
        return Turn(s, (reply,), (AddFollowUp(s.ticket_id, "", (ref,)),))
    if len(s.attachments) < MAX_ATTACHMENTS:
        s.attachments.append(asdict(ref))
    if s.step is Step.IDLE:
        s.step, s.asking = Step.ASK, Field.DESCRIPTION.value
    added = Reply(texts.t("attachment_added", s.lang, name=ref.name))
    return Turn(s, (added, *_prompt(s, ctx)))


def _text(
    s: Conversation, raw: str, now: datetime, ctx: IntakeContext, head: list[str] | None = None
) -> Turn:
    head = list(head or [])
    text = clean_text(raw)
    if not text:
        return Turn(s, (Reply(texts.t("empty_message", s.lang)), *_prompt(s, ctx)))
    # 4.2.7: passwords and keys never reach the state, the ticket or the log.
    text, hidden = redact(text)
    if hidden:
        head.append(secrets_notice(s.lang))
    answered_aside = _aside(s, text, now, ctx, head)
    if answered_aside is not None:
        return answered_aside
    choice = _typed_choice(s, text, ctx)
    if choice is not None:
        return _choice(s, choice, now, ctx)
    if s.step is Step.DETAILS:
        _take_details(s, text, ctx, head, whole=True)
        return _advance(s, now, ctx, head)
    down = _site_down_answer(s, text)
    if s.step is Step.CONFIRM and down is not None and _critical_unconfirmed(s, ctx):
        # The summary's 2.2 line answered in words ("нет, работает"): said back, not sent yet
        _settle_critical(s, down)
        head.append(texts.t("critical_taken" if down else "not_critical_taken", s.lang))
        return _advance(s, now, ctx, head)
    if s.step is Step.ASK and s.asking and question_back(text):
        help_text = where_to_find(Field(s.asking), s.lang)
        return Turn(s, _prompt(s, ctx, [*head, help_text]))
    return _request_text_turn(s, text, now, ctx, head)


def _site_down_answer(s: Conversation, text: str) -> bool | None:
    """A typed answer to "is the site down?": a yes or no word, or the question's button label."""
    answer = texts.yes_or_no(text, site_down=True)
    if answer is None:
        buttons = _two(s, "yes", "no")
        label = typed_option(text, buttons)
        answer = None if label is None else label == "yes"
    return answer


def _aside(
    s: Conversation, text: str, now: datetime, ctx: IntakeContext, head: list[str]
) -> Turn | None:
    """A message that is not part of the request being written: thanks, wording held back
    (4.8.11), a follow-up to a filed ticket (4.4), a wish for another language."""
    if _opens_request(s):  # first, so that even a held-back first message is answered in it
        _pick_language(s, text)
    courtesy = _courtesy_reply(s, text)
    if courtesy is not None:  # "спасибо" is for us: not mailed to support, not a description
        return Turn(s, (courtesy,))
    if s.step in (Step.FILED, Step.REOPEN) and s.ticket_id and s.ticket_closed:
        if not _reads_as_new_request(text, ctx):
            s.step, s.pending_text = Step.REOPEN, text  # asked first: the wording waits with it
            return Turn(s, _prompt(s, ctx, head))
        # A whole new request: taken as one at once, the summary offers to reopen instead
        closed = s.ticket_id
        _reset_draft(s)
        _prefill(s)
        s.closed_ticket = closed
    if s.held_text and keeps_held(text, s.lang):
        return _keep_held(s, now, ctx)
    held = _held_back(s, text, now, ctx, head)
    if held is not None:
        return held
    if s.step is Step.FILED and s.ticket_id:
        reply = Reply("\n\n".join([*head, texts.t("followup_added", s.lang, id=s.ticket_id)]))
        return Turn(s, (reply,), (AddFollowUp(s.ticket_id, text[:MAX_DESCRIPTION]),))
    if not s.lang_chosen and is_language_complaint(text):
        s.lang, s.lang_chosen = requested_lang(text) or "en", True
        return Turn(s, (Reply(texts.t("lang_set", s.lang)), *_prompt(s, ctx, head)))
    return None


def _reads_as_new_request(text: str, ctx: IntakeContext) -> bool:
    """A description with 4.2 values of its own (site, edition, coupon…): a request, not a
    word about the last one ("опять не работает")."""
    extracted = extract_fields(text[: MAX_DESCRIPTION * 2], ctx.coupon_pattern)
    values = [f for f in extracted.values if f not in PROSE_FIELDS]
    described = Field.DESCRIPTION in extracted.values or extracted.has_prose
    return described and len(values) >= 2


def _take_details(
    s: Conversation, text: str, ctx: IntakeContext, head: list[str], *, whole: bool
) -> bool:
    """Read answers to the optional questions (4.2.6) and say which were taken."""
    taken = _read_details(s, text, ctx, whole=whole)
    if taken:
        head.append(texts.t("details_taken", s.lang, items=", ".join(taken)))
    return bool(taken)


def _request_text_turn(
    s: Conversation, text: str, now: datetime, ctx: IntakeContext, head: list[str]
) -> Turn:
    """Text about the request: its 4.2 values, its description, details at the summary."""
    if s.step in (Step.IDLE, Step.FILED):
        s.step, s.asking = Step.ASK, Field.DESCRIPTION.value
    if len(text) > MAX_DESCRIPTION:
        head.append(texts.t("too_long", s.lang, limit=MAX_DESCRIPTION))
    at_summary = s.step is Step.CONFIRM
    details = at_summary and _take_details(s, text, ctx, head, whole=False)
    # The fields the customer has just been shown count as asked once answered (steps are
    # then not asked again); a list shown before the problem was known does not count.
    shown = _missing_fields(s) if s.step is Step.ASK and Field.DESCRIPTION in s.fields else []
    _keep_original(s, text)
    answered = _read_fields(s, text, now, ctx, head, more_description=not details)
    s.asked += [f.value for f in shown if f.value not in s.asked]
    return _advance(s, now, ctx, head, answered)


def _keep_original(s: Conversation, text: str) -> None:
    """Add a message to the request's original text (bounded: a flood is not copied whole)."""
    joined = f"{s.original_text}\n\n{text}" if s.original_text else text
    s.original_text = joined[:MAX_DESCRIPTION]


def _opens_request(s: Conversation) -> bool:
    """Whether the next text is the first of a request (nothing said yet)."""
    empty = not s.fields or set(s.fields) <= set(REMEMBERED)
    return s.step in (Step.IDLE, Step.FILED) or (s.step is Step.ASK and empty)


def _pick_language(s: Conversation, text: str) -> None:
    """Answer in the language the request is written in, unless the customer chose one."""
    if s.lang_chosen:
        return
    lang = detect_lang(text)
    if lang is not None:
        s.lang = lang


def _values_in(
    s: Conversation, text: str, ctx: IntakeContext, *, more_description: bool = True
) -> tuple[dict[Field, str], Field | None, list[str]]:
    """The 4.2 values a message gives, and the field it answers when one is being asked.

    Every recognised value goes to its own field; what is left in the customer's own words
    answers the field being asked (a description or steps), or is a "не знаю" to it. A bare
    value with no label ("Бизнес") goes to the first missing field it is valid for."""
    extracted = extract_fields(text[: MAX_DESCRIPTION * 2], ctx.coupon_pattern)
    values: dict[Field, str] = dict(extracted.values)
    own_words = extracted.rest
    asking = Field(s.asking) if s.step is Step.ASK and s.asking else None
    if asking is not None and asking not in values:
        if own_words and is_unknown_answer(own_words):
            values[asking] = own_words
        elif asking in PROSE_FIELDS:
            if extracted.has_prose:
                problem = asking is Field.DESCRIPTION
                values[asking] = extracted.description if problem else own_words
            elif not values:
                values[asking] = text
        elif not values:
            values[_bare_field(s, text, asking, ctx)] = text
    elif Field.DESCRIPTION not in values and extracted.has_prose:
        if Field.DESCRIPTION not in s.fields:
            values[Field.DESCRIPTION] = extracted.description
        elif s.step is Step.CONFIRM and more_description:
            # More words about the problem at the summary: kept, never dropped.
            more = extracted.description
            values[Field.DESCRIPTION] = s.fields[Field.DESCRIPTION] + "\n" + more
    return values, asking, extracted.sites


def _bare_field(s: Conversation, text: str, asking: Field, ctx: IntakeContext) -> Field:
    """The field an unlabelled short answer is for: the one asked when it is a valid value of
    it, else the first other missing field it is a plain valid value of ("Бизнес" while the
    site is asked), else the one asked (which then says why the answer does not fit)."""

    def fits(f: Field) -> bool:
        verdict = validate(f, text, ctx.coupon_pattern)
        return isinstance(verdict, Valid) and (f is asking or not verdict.note)

    others = (f for f in _missing_fields(s) if f is not asking and f not in PROSE_FIELDS)
    return asking if fits(asking) else next((f for f in others if fits(f)), asking)


def _read_fields(
    s: Conversation,
    text: str,
    now: datetime,
    ctx: IntakeContext,
    head: list[str],
    *,
    more_description: bool = True,
) -> bool:
    """Take every 4.2 value the message gives; say what was taken besides the plain answer.
    Returns whether the field being asked was settled."""
    values, asking, sites = _values_in(s, text, ctx, more_description=more_description)
    understood: list[str] = []
    answered = False
    for f in FIELD_ORDER:
        if f not in values:
            continue
        if f is Field.COUPON and is_unknown_answer(values[f]):
            _coupon_unknown(s, head, demo=_is_demo(values[f], ctx))
            answered = answered or f is asking
            continue
        if not _accept_field(s, f, values[f], now, ctx, head):
            continue
        if f is Field.SITE_URL:
            _several_sites(s, sites, head)
        answered = answered or f is asking
        if f is not asking or len(values) > 1:
            understood.append(f"{texts.field_label(f, s.lang)} — {_shown(s, f)}")
    if understood:  # only what was not the plain answer to the question: say it was taken
        head.insert(0, texts.t("understood", s.lang, items="; ".join(understood)))
    return answered


def _accept_field(
    s: Conversation, f: Field, value: str, now: datetime, ctx: IntakeContext, head: list[str]
) -> bool:
    """Validate one value and keep it, or tell why not (the field is then asked again)."""
    verdict = validate(f, value, ctx.coupon_pattern)
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
                value=_cut(" ".join(value.split()), 60),
                reason=texts.reason(verdict.reason, s.lang),
            )
        )  # fmt: skip
        return False
    if f is Field.COUPON and not _coupon_accepted(s, verdict.value, now, ctx, head):
        return False
    s.fields[f] = verdict.value
    if f is Field.EDITION:
        unknown = verdict.note == EDITION_UNKNOWN
        edition_notes = [agent_note("edition_unknown", edition=verdict.value)] if unknown else []
        set_notes(s.notes, NoteKind.EDITION, edition_notes)
    if verdict.display and verdict.display != verdict.value:
        s.displays[f] = verdict.display
    else:
        s.displays.pop(f, None)
    if f is Field.VERSION:
        _check_version(s, verdict.value, ctx, head)
    return True


def _coupon_unknown(s: Conversation, head: list[str], *, demo: bool = False) -> None:
    """4.2.5 "не знаю": the request goes on without the coupon (nobody is stuck in a loop); the
    customer hears what that means and where the number is, the agents are told to ask for it.
    A demo version has no coupon yet: said so, and the agents are told to check the licence."""
    s.fields[Field.COUPON] = UNKNOWN
    s.displays.pop(Field.COUPON, None)
    kind = "coupon_demo" if demo else "coupon_unknown"
    set_notes(s.notes, NoteKind.COUPON, [agent_note(kind)])
    head.append(texts.t(kind, s.lang))


def _is_demo(answer: str, ctx: IntakeContext) -> bool:
    verdict = validate(Field.COUPON, answer, ctx.coupon_pattern)
    return is_demo_answer(answer) or (isinstance(verdict, Valid) and verdict.note == COUPON_DEMO)


def _several_sites(s: Conversation, sites: list[str], head: list[str]) -> None:
    """4.2.3 asks for one site: the first named is the request's, the others go to the agent."""
    others = [site for site in sites[1:] if site]
    if not others:
        return
    listed = ", ".join(sites)
    set_notes(s.notes, NoteKind.SITES, [agent_note("sites_several", sites=listed)])
    site = _shown(s, Field.SITE_URL)
    head.append(texts.t("sites_several", s.lang, site=site, others=", ".join(others)))


def _held_back(
    s: Conversation, text: str, now: datetime, ctx: IntakeContext, head: list[str]
) -> Turn | None:
    """4.8.11: a message with insults or obscene words waits until the customer rephrases it
    or confirms it as it is ("keep"); nothing of it is taken before that."""
    if Gate.PROFANITY in s.gates or not contains_profanity(text):
        s.held_text = None
        return None
    s.held_text = text
    # The site, edition, coupon and e-mail are not the wording: taken now, not asked again.
    values = extract_fields(text[: MAX_DESCRIPTION * 2], ctx.coupon_pattern).values
    for f in FIELD_ORDER:
        if f in values and f not in PROSE_FIELDS and f not in s.fields:
            _accept_field(s, f, values[f], now, ctx, head)
    notice = "\n".join([*head, profanity_notice(s.lang), texts.t("profanity_keep", s.lang)])
    return Turn(s, (Reply(notice, (Option("keep", texts.choice_label("keep", s.lang)),)),))


def keeps_held(text: str, lang: str) -> bool:
    """Whether `text` is the "send it as it is" answer to a held message (4.8.11)."""
    return typed_option(text, (Option("keep", texts.choice_label("keep", lang)),)) is not None


def _keep_held(s: Conversation, now: datetime, ctx: IntakeContext) -> Turn:
    """The customer sends the held message as it is (4.8.11)."""
    text, s.held_text = s.held_text or "", None
    s.gates.append(Gate.PROFANITY)
    return _text(s, text, now, ctx)


def _coupon_accepted(
    s: Conversation, coupon: str, now: datetime, ctx: IntakeContext, head: list[str]
) -> bool:
    """4.2.5 with the registry: unknown → asked once more, then accepted with a note for agents;
    expired → the 4.8.5 explanation, accepted; edition and product pre-filled from the record."""
    stated = s.fields.get(Field.EDITION)
    known = stated if stated and stated != UNKNOWN else None
    verdict = ctx.coupon_check(coupon, known, now.date())
    set_notes(s.notes, NoteKind.COUPON, [])
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
    registry = [agent_note("coupon_registry", note=note) for note in verdict.notes]
    set_notes(s.notes, NoteKind.COUPON, registry)
    if verdict.edition and Field.EDITION not in s.fields:
        s.fields[Field.EDITION] = verdict.edition
    return True


def _check_version(s: Conversation, version: str, ctx: IntakeContext, head: list[str]) -> None:
    """4.8.2: an outdated version may have to be updated before support can help."""
    set_notes(s.notes, NoteKind.VERSION, [])
    stated, current = version_tuple(version), version_tuple(ctx.current_version)
    if version == UNKNOWN or stated is None or current is None or stated >= current:
        return
    head.append(texts.t("version_old", s.lang, version=version, current=ctx.current_version))
    note = agent_note("version_old", version=version, current=ctx.current_version)
    set_notes(s.notes, NoteKind.VERSION, [note])


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _shown(s: Conversation, f: Field) -> str:
    value = s.displays.get(f) or s.fields.get(f, "")
    if f is Field.EDITION:
        value = edition_name(value, s.lang)
    # Listed between "; ": a value's own closing full stop would read as ".;".
    return _cut(" ".join(value.split()), 60).rstrip(".;,")


def _missing_fields(s: Conversation) -> list[Field]:
    """The 4.2 fields still needed. Steps to reproduce are asked "where possible" (4.2.1): not
    for a site that is down, nor for a question or a request for work (there is no problem to
    reproduce), and only once — a customer who answers the other questions without them has
    none to give."""
    missing = [f for f in FIELD_ORDER if f not in s.fields]
    if Field.STEPS in missing and (
        _site_down(s) or _nothing_to_reproduce(s) or Field.STEPS.value in s.asked
    ):
        missing.remove(Field.STEPS)
    return missing


def _nothing_to_reproduce(s: Conversation) -> bool:
    """A question or a request for work, not a malfunction: the customer chose the category of
    questions (3.6, "theory"), the classifier read the request so with confidence, or its wording
    asks how to do something or for work and reports no malfunction (`nothing_to_reproduce`)."""
    if s.category == QUESTION_CATEGORY:
        return True
    c = s.classification or {}
    if not s.category and c.get("category") == QUESTION_CATEGORY and not c.get("unsure"):
        return True
    return nothing_to_reproduce(s.fields.get(Field.DESCRIPTION, ""))


def _site_down(s: Conversation) -> bool:
    """2.2 as far as it is known: the customer's answer, else the classifier's reading of the
    request (the verdict kept for its current text)."""
    if s.critical is not None:
        return s.critical
    return bool(s.classification and s.classification.get("critical"))


def _missing(s: Conversation) -> Field | None:
    missing = _missing_fields(s)
    return missing[0] if missing else None


# --- gates and the summary --------------------------------------------------------------------


def _advance(
    s: Conversation, now: datetime, ctx: IntakeContext, head: list[str], answered: bool = True
) -> Turn:
    """Confirm a site that is down, ask for the missing fields all at once, pass the next
    gate, or show the summary.

    `answered` is False when the message did not settle the field being asked; during an edit from
    the summary that field is asked again even though its old value is still kept.
    """
    if s.step is Step.ASK and s.return_to_confirm and s.asking and not answered:
        return Turn(s, _prompt(s, ctx, head))
    s.return_to_confirm = False
    if Field.DESCRIPTION in s.fields:
        _tell_scope_early(s, ctx, head)
        if s.critical is None and _classify(s, ctx).critical and _missing_fields(s):
            # 2.2: first, before anything else is asked. With nothing else to ask it is the
            # summary's choice instead (send as critical, or the site works): no turn of its own.
            s.step, s.asking = Step.CRITICAL, None
            return Turn(s, _prompt(s, ctx, head))
    missing = _missing_fields(s)
    if missing:
        s.step, s.asking = Step.ASK, missing[0].value
    else:
        s.asking = None
        s.step = _next_gate(s, ctx)
    return Turn(s, _prompt(s, ctx, head))


def _next_gate(s: Conversation, ctx: IntakeContext) -> Step:
    """The first check still to pass once the 4.2 fields are in (sets what that step shows)."""
    description = s.fields[Field.DESCRIPTION]
    if Gate.SPLIT not in s.gates and len(ctx.split_problems(description)) > 1:
        return Step.SPLIT
    c = _classify(s, ctx)
    if Gate.SIMILAR not in s.gates:
        s.similar_to = ctx.find_similar(description, ctx.open_tickets)
        if s.similar_to:
            return Step.SIMILAR
        s.gates.append(Gate.SIMILAR)
    hits = [] if c.critical else ctx.suggest_docs(_request_text(s, ctx), c.category, s.lang)
    s.docs = [asdict(h) for h in hits]
    return Step.CONFIRM


def _tell_scope_early(s: Conversation, ctx: IntakeContext, head: list[str]) -> None:
    """Section 3: a request the regulation leaves out is said so as soon as it is described,
    not after the customer has typed the version and the coupon. Checked once."""
    if Field.DESCRIPTION not in s.fields or Gate.SCOPE_EARLY in s.gates:
        return
    s.gates.append(Gate.SCOPE_EARLY)
    c = _classify(s, ctx)
    if c.surely_out_of_scope and not c.unsure:
        explain = ctx.scope_explanation(c.clause, s.lang)
        head.append(texts.t("out_of_scope_early", s.lang, clause=c.clause, explain=explain))


def _pending_details(s: Conversation, ctx: IntakeContext) -> list[Question]:
    """4.2.6: the few optional questions that matter for this request and that nothing the
    customer said answers yet (at most three: the rest the agent asks if needed)."""
    said = [s.fields.get(Field.DESCRIPTION, ""), s.fields.get(Field.STEPS, "")]
    category = _classify(s, ctx).category
    pending = pending_questions(
        category, said, s.details, ctx.questions, has_screenshot=bool(s.attachments)
    )
    return pending[:MAX_DETAIL_QUESTIONS]


def _question_by_id(question_id: str | None, ctx: IntakeContext) -> Question | None:
    return next((q for qs in ctx.questions.values() for q in qs if q.id == question_id), None)


def _courtesy_reply(s: Conversation, text: str) -> Reply | None:
    """A reply to thanks or an acknowledgement when no request is being written, or to a
    "Отправить" typed after the request has gone (not mailed to support as an addition)."""
    filed = s.step is Step.FILED and s.ticket_id
    if filed and is_send_again(text):
        return Reply(texts.t("already_sent", s.lang, id=s.ticket_id))
    if not is_courtesy(text):
        return None
    if filed:
        return Reply(texts.t("courtesy_filed", s.lang, id=s.ticket_id))
    nothing_yet = not s.fields and not s.attachments and s.asking == Field.DESCRIPTION.value
    if s.step is Step.IDLE or (s.step is Step.ASK and nothing_yet):
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
    """Pure and asked for more than once per update: computed once."""
    return extract_fields(text, coupon_pattern).rest or text


def _classify(s: Conversation, ctx: IntakeContext) -> Classification:
    """The classifier's verdict, asked once per change of the request's text, with the
    customer's own answers (category, critical) put over it."""
    text = _request_text(s, ctx)
    if s.classified_text != text or s.classification is None:
        s.classified_text, s.classification = text, asdict(ctx.classify(text))
    result = Classification(**s.classification)
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
    lines += [f"• {texts.field_label(f, lang)}: {_summary_value(s, f, ctx)}" for f in FIELD_ORDER]
    for question_id, answer in s.details.items():
        if answer != SKIPPED:
            lines.append(f"• {_detail_label(question_id, lang, ctx)}: {_cut(answer, 200)}")
    c = _classify(s, ctx)
    scope = texts.t("summary_out_of_scope", lang) if c.surely_out_of_scope else ""
    lines.append(
        texts.t("summary_category", lang, category=texts.category_name(c.category, lang),
                clause=c.clause, scope=scope)
    )  # fmt: skip
    if c.unsure and s.category is None:
        lines.append(texts.t("summary_category_guess", lang))
    if s.closed_ticket:
        lines.append(texts.t("summary_after_closed", lang, id=s.closed_ticket))
    if c.critical and s.critical is None:
        lines.append(texts.t("summary_critical_guess", lang))
    elif c.critical:
        lines.append(texts.t("summary_critical", lang))
    if s.attachments:
        names = ", ".join(a["name"] for a in s.attachments)
        lines.append(texts.t("summary_attachments", lang, names=names))
    if c.surely_out_of_scope:
        explain = ctx.scope_explanation(c.clause, lang)
        lines.append("\n" + texts.t("out_of_scope_note", lang, clause=c.clause, explain=explain))
    if s.docs:
        items = "\n".join(f"• {d['title']} — {d['url']}" for d in s.docs)
        lines.append("\n" + texts.t("summary_docs", lang, items=items))
    pending = _pending_details(s, ctx)
    if pending:
        items = "\n".join(f"• {q.text(lang)}" for q in pending)
        lines.append("\n" + texts.t("summary_details", lang, items=items))
    lines.append("\n" + texts.t("summary_question", lang))
    return "\n".join(lines)


def _detail_label(question_id: str, lang: str, ctx: IntakeContext) -> str:
    if question_id == MORE_DETAILS:
        return texts.t("more_details_label", lang)
    q = _question_by_id(question_id, ctx)
    return q.label(lang) if q else question_id


def _summary_value(s: Conversation, f: Field, ctx: IntakeContext) -> str:
    value = s.displays.get(f) or s.fields.get(f, "")
    if not value:
        if f is Field.STEPS and _classify(s, ctx).critical:
            return texts.t("steps_not_needed", s.lang)
        if f is Field.STEPS and _nothing_to_reproduce(s):
            return texts.t("steps_nothing_to_reproduce", s.lang)
        return texts.t("not_given", s.lang)
    if value == UNKNOWN:
        return texts.choice_label("unknown", s.lang)
    if f is Field.EDITION:
        return edition_name(value, s.lang)
    return _cut(value, 500) if f in (Field.DESCRIPTION, Field.STEPS) else value


def _product_of(edition: str) -> str:
    """The product line an edition belongs to («Корпоративный портал» is Битрикс24); the
    site manager when the edition is not known or is sold in both lines."""
    products = edition_products(edition)
    return products[0] if len(products) == 1 else DEFAULT_PRODUCT


def _file(s: Conversation, now: datetime, ctx: IntakeContext) -> Turn:
    if _missing(s) is not None:
        return _advance(s, now, ctx, [])
    c = _classify(s, ctx)
    is_open, next_opening = ctx.working_hours(now)
    if s.docs:
        set_notes(s.notes, NoteKind.DOCS, [agent_note("docs_shown")])
    if s.category and NoteKind.CATEGORY not in s.notes:
        set_notes(s.notes, NoteKind.CATEGORY, [agent_note("category_chosen")])
    elif not s.category and c.unsure:
        set_notes(s.notes, NoteKind.CATEGORY, [agent_note("category_guessed")])
    if c.surely_out_of_scope:
        set_notes(s.notes, NoteKind.SCOPE, [agent_note("out_of_scope", clause=c.clause)])
    elif not c.in_scope:  # not said to the customer: too uncertain (section 3)
        set_notes(s.notes, NoteKind.SCOPE, [agent_note("scope_undecided", clause=c.clause)])
    not_asked = Field.STEPS not in s.fields and not c.critical and _nothing_to_reproduce(s)
    set_notes(s.notes, NoteKind.STEPS, [agent_note("steps_not_asked")] if not_asked else [])
    details = {k: v for k, v in s.details.items() if v != SKIPPED}
    ticket = Ticket(
        channel=ctx.channel,
        customer_id="",  # the desk fills in who the customer is
        lang=s.lang,
        description=s.fields[Field.DESCRIPTION],
        steps=s.fields.get(Field.STEPS, ""),
        site_url=s.fields[Field.SITE_URL],
        product=_product_of(s.fields.get(Field.EDITION, "")),
        edition=s.fields.get(Field.EDITION, ""),
        version=s.fields.get(Field.VERSION, ""),
        coupon=s.fields.get(Field.COUPON, ""),
        contact_email=s.fields[Field.CONTACT_EMAIL],
        classification=c,
        created_at=now,
        attachments=s.attachment_refs(),
        working_hours_open=is_open,
        next_opening=next_opening,
        details=details,
        detail_labels={k: _detail_label(k, "ru", ctx) for k in details},
        original_text=s.original_text,
        suggested_docs=[DocLink(d["title"], d["url"]) for d in s.docs],
        notes=note_lines(s.notes),
    )
    return Turn(s, (), (FileTicket(ticket),))
