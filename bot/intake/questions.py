"""Category-specific follow-up questions (4.2.6), defined in `data/questions.json`.

Clause 4.2.6 lets support ask for server software settings and versions and for the client
software (browser). The desk asks a few of these questions up front, per category, so the agent
does not have to ask by e-mail later. Every question is optional: the customer may skip it
(`is_skip`).

No question is asked twice: each carries regular expressions that find its answer in what the
customer already wrote (`answered_in`), and `pending_questions` returns only what is neither
answered nor found.

Typical use in the dialog, once the category is known::

    questions = load_questions()                     # once, at start-up (validates the file)
    found = found_answers(category, texts, questions)  # -> ticket.details, keyed by question id
    for q in pending_questions(category, texts, answered, questions, has_screenshot=...):
        ask(q.text(lang)); answered[q.id] = SKIPPED if is_skip(reply) else reply
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.intake.fields import clean_text
from classifier import load_categories

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
QUESTIONS_FILE = DATA_DIR / "questions.json"
FORMAT = 1
# Every category of data/scope.json (read through the classifier) has its list of questions.
CATEGORIES: tuple[str, ...] = tuple(load_categories())

# What to store for a question the customer skipped (so that it is not asked again).
SKIPPED = "—"
MAX_ANSWER = 500  # characters kept of an answer found in free text

_FLAGS = re.IGNORECASE | re.MULTILINE
_ID_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")

_SKIP_WORDS = frozenset(
    {
        "пропустить",
        "пропусти",
        "пропуск",
        "пропускаю",
        "дальше",
        "далее",
        "следующий",
        "не знаю",
        "незнаю",
        "не помню",
        "не могу сказать",
        "неизвестно",
        "нет информации",
        "без понятия",
        "хз",
        "-",
        "—",
        "–",
        "skip",
        "skip it",
        "next",
        "pass",
        "don't know",
        "dont know",
        "i don't know",
        "i dont know",
        "not sure",
        "no idea",
        "unknown",
        "n/a",
        "na",
    }
)


class QuestionsFileError(ValueError):
    """The questions file is missing, not JSON, or malformed; the message says where."""


@dataclass(frozen=True)
class Question:
    """One optional question of a category.

    `id` is the key of the answer in `Ticket.details`; `label_ru`/`label_en` name it in the ticket
    e-mail. `patterns` are regular expressions (IGNORECASE | MULTILINE) finding the answer in free
    text; a named group `answer` selects the answer, otherwise the whole match is the answer.
    `screenshot_answers`: a screenshot the customer sent counts as the answer ("exact error text").
    """

    id: str
    category: str
    ru: str
    en: str
    patterns: tuple[str, ...] = ()
    label_ru: str = ""
    label_en: str = ""
    screenshot_answers: bool = False
    _compiled: tuple[re.Pattern[str], ...] = field(
        default=(), init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(re.compile(p, _FLAGS) for p in self.patterns))

    def text(self, lang: str) -> str:
        """The question in the customer's language (Russian unless `lang` is "en")."""
        return self.en if lang == "en" else self.ru

    def label(self, lang: str = "ru") -> str:
        """A short name of the answer, for the ticket e-mail (falls back to the id)."""
        return (self.label_en if lang == "en" else self.label_ru) or self.id


def _require(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise QuestionsFileError(f"{where}: {message}")


def _str_field(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = obj.get(key, "")
    _require(isinstance(value, str), where, f"'{key}' must be a string")
    _require(not required or bool(value.strip()), where, f"'{key}' is required, not empty")
    return str(value)


def parse_questions(doc: Any, source: str = "questions.json") -> dict[str, tuple[Question, ...]]:
    """Validate a parsed questions document and build the questions by category.

    Raises `QuestionsFileError` naming the offending entry (bad regex, unknown question id, …).
    """
    _require(isinstance(doc, dict), source, "the top level must be an object")
    _require(doc.get("format") == FORMAT, source, f"'format' must be {FORMAT}")
    defs = doc.get("questions")
    cats = doc.get("categories")
    _require(
        isinstance(defs, dict) and bool(defs), source, "'questions' must be a non-empty object"
    )
    _require(isinstance(cats, dict), source, "'categories' must be an object")
    assert isinstance(defs, dict) and isinstance(cats, dict)  # for mypy
    unknown = sorted(set(cats) - set(CATEGORIES))
    _require(not unknown, source, f"unknown categories {unknown}; known: {list(CATEGORIES)}")
    missing = sorted(set(CATEGORIES) - set(cats))
    _require(not missing, source, f"categories missing: {missing}")

    for qid, spec in defs.items():
        where = f"{source}: questions.{qid}"
        _require(bool(_ID_RE.fullmatch(qid)), where, "ids are lowercase letters, digits and _")
        _require(isinstance(spec, dict), where, "must be an object")
        extra = sorted(
            set(spec) - {"ru", "en", "patterns", "label_ru", "label_en", "screenshot_answers"}
        )
        _require(not extra, where, f"unknown keys {extra}")
        for key in ("ru", "en"):
            _str_field(spec, key, where)
        for key in ("label_ru", "label_en"):
            _str_field(spec, key, where, required=False)
        patterns = spec.get("patterns", [])
        _require(
            isinstance(patterns, list) and all(isinstance(p, str) and p for p in patterns),
            where,
            "'patterns' must be a list of non-empty strings",
        )
        for n, pattern in enumerate(patterns):
            try:
                compiled = re.compile(pattern, _FLAGS)
            except re.error as exc:
                message = f"{where}.patterns[{n}]: bad regular expression: {exc}"
                raise QuestionsFileError(message) from exc
            _require(
                compiled.search("") is None,
                f"{where}.patterns[{n}]",
                "matches the empty string (would answer every question)",
            )
        _require(
            isinstance(spec.get("screenshot_answers", False), bool),
            where,
            "'screenshot_answers' must be true or false",
        )

    result: dict[str, tuple[Question, ...]] = {}
    for category in CATEGORIES:
        ids = cats[category]
        where = f"{source}: categories.{category}"
        _require(
            isinstance(ids, list) and all(isinstance(i, str) for i in ids),
            where,
            "must be a list of question ids",
        )
        _require(len(set(ids)) == len(ids), where, "a question is listed twice")
        result[category] = tuple(
            _build(qid, category, defs.get(qid), f"{where}: unknown question id '{qid}'")
            for qid in ids
        )
    return result


def _build(qid: str, category: str, spec: Any, error: str) -> Question:
    if not isinstance(spec, dict):
        raise QuestionsFileError(error)
    return Question(
        id=qid,
        category=category,
        ru=spec["ru"].strip(),
        en=spec["en"].strip(),
        patterns=tuple(spec.get("patterns", ())),
        label_ru=spec.get("label_ru", ""),
        label_en=spec.get("label_en", ""),
        screenshot_answers=bool(spec.get("screenshot_answers", False)),
    )


def load_questions(path: Path | None = None) -> dict[str, tuple[Question, ...]]:
    """Load and validate the questions file (default `data/questions.json`), by category id.

    Every category of section 3 is present (possibly with no questions). Raises
    `QuestionsFileError` with the file name and the offending entry when the file is unreadable or
    malformed.
    """
    if path is None:
        return _default_questions()
    return _load(path)


@lru_cache(maxsize=1)
def _default_questions() -> dict[str, tuple[Question, ...]]:
    return _load(QUESTIONS_FILE)


def _load(path: Path) -> dict[str, tuple[Question, ...]]:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise QuestionsFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise QuestionsFileError(f"{path}: not valid JSON: {exc}") from exc
    return parse_questions(doc, str(path))


def answered_in(question: Question, text: str) -> str | None:
    """The answer to `question` found in the customer's `text`, or None.

    The first pattern (in file order) that matches wins; the answer is its `answer` group or the
    whole match, whitespace-collapsed, e.g. "PHP 8.1" for the PHP version or "BitrixVM 9".
    """
    text = clean_text(text)
    if not text:
        return None
    for pattern in question._compiled:
        match = pattern.search(text)
        if match is None:
            continue
        group = match.groupdict().get("answer")
        answer = " ".join((group if group is not None else match.group(0)).split())
        answer = answer.strip(" .,;:")
        if answer:
            return answer[:MAX_ANSWER]
    return None


def found_answers(
    category: str,
    texts: Sequence[str],
    questions: Mapping[str, Sequence[Question]] | None = None,
) -> dict[str, str]:
    """Answers to the category's questions found in the customer's texts, by question id.

    Meant for `Ticket.details`, so that the agent sees what the customer already said.
    """
    questions = load_questions() if questions is None else questions
    found: dict[str, str] = {}
    for q in questions.get(category, ()):
        for text in texts:
            answer = answered_in(q, text)
            if answer is not None:
                found[q.id] = answer
                break
    return found


def pending_questions(
    category: str,
    texts: Sequence[str],
    answered: Mapping[str, str],
    questions: Mapping[str, Sequence[Question]] | None = None,
    *,
    has_screenshot: bool = False,
) -> list[Question]:
    """The category's questions still to ask, in order.

    A question is left out when its id is a key of `answered` (whatever the value: a skipped
    question is stored as `SKIPPED` and not asked again), when one of `texts` already answers it,
    or, for questions with `screenshot_answers`, when the customer sent a screenshot. Unknown
    categories have no questions.
    """
    questions = load_questions() if questions is None else questions
    pending = []
    for q in questions.get(category, ()):
        if q.id in answered:
            continue
        if has_screenshot and q.screenshot_answers:
            continue
        if any(answered_in(q, text) is not None for text in texts):
            continue
        pending.append(q)
    return pending


def is_skip(text: str) -> bool:
    """True when the reply means "skip this question" ("Пропустить", "skip", "-", "не знаю")."""
    key = " ".join(clean_text(text).lower().replace("ё", "е").replace("’", "'").split())
    return key.strip(" .!,") in _SKIP_WORDS or key in _SKIP_WORDS
