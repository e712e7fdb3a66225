"""One problem per ticket (regulation 2.6): split a request that describes several problems.

    split_problems("1) не работает корзина 2) не приходят письма")
    # ["не работает корзина", "не приходят письма"]
    split_problems("1. открыть корзину 2. нажать «Оформить» 3. видим ошибку 500")
    # [the whole text]: steps to reproduce one problem, not three problems

Signals, in order: enumerations ("1) … 2) …", "1. …", bullets, "во-первых … во-вторых"),
connectors ("и ещё", "ещё одна проблема", "кроме того", "also", "another problem"), and, when a
``category_probabilities`` function is given, sentences that confidently belong to different
categories. A part counts as a problem when it *states* one ("не работает", "ошибка", "медленно",
"how to", a question) and is not an imperative step ("открыть", "нажать", "click"). Fewer than two
problem parts means one problem: the text is returned whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable

ProbabilityFn = Callable[[str], dict[str, float]]

# Probability a sentence needs in its category, and the whole text's second-best category, to
# count as a separate problem when splitting by categories.
CATEGORY_CONFIDENCE = 0.6
SECOND_CATEGORY_MIN = 0.2

_PROBLEM = re.compile(
    r"не\s+(?:работа\w*|открыва\w*|загружа\w*|отправля\w*|приход\w*|сохраня\w*|отобража\w*|"
    r"получа\w*|удаётся|удается|могу|может|проходит|выгружа\w*|обновля\w*|грузит\w*|видн\w*|"
    r"активир\w*|индексир\w*|запуска\w*|выполня\w*|срабатыва\w*)"
    r"|ошибк\w*|ошибочн\w*|сбо[йи]\w*|слома\w*|упал\w*|пада\w*|завис\w*|медленн\w*|медленно|"
    r"тормоз\w*|долго|пропал\w*|пропада\w*|исчез\w*|белый\s+экран|пустая\s+страниц\w*|"
    r"\b(?:500|502|503|504|404|403)\b|как\s+(?:сделать|настроить|подключить|включить|"
    r"отключить|изменить|добавить|убрать|перенести|обновить|восстановить)|подскажите|"
    r"проблем\w*|вопрос\w*|неправильно|некорректно|\?"
    r"|\b(?:error|errors|broken|fails?|failed|failing|crash\w*|slow|slowly|"
    r"doesn't|does\s+not|don't|not\s+working|can't|cannot|unable|how\s+(?:to|do|can)|"
    r"problem|issue|question|wrong)\b",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    r"^\s*(?:открыть|откройте|открываем|зайти|зайдите|заходим|перейти|перейдите|переходим|"
    r"нажать|нажмите|нажимаем|кликнуть|кликаем|выбрать|выберите|выбираем|ввести|введите|"
    r"вводим|добавить|добавьте|добавляем|заполнить|заполните|заполняем|указать|укажите|"
    r"авторизоваться|авторизуйтесь|войти|войдите|оформить|отправить|отправьте|сохранить|"
    r"сохраните|загрузить|загрузите|запустить|запустите|дождаться|подождать|"
    r"open|click|go\s+to|navigate|select|choose|enter|type|add|fill|log\s*in|submit|press|"
    r"wait|upload|save)\b",
    re.IGNORECASE,
)
# Result lines of a reproduction ("видим ошибку", "в результате ...") belong to the steps.
_RESULT = re.compile(
    r"^\s*(?:видим|видно|получаем|появляется|появилась|выдаёт|выдает|в\s+результате|"
    r"результат|ожидаемо|ожидается|фактически|then|result|expected|actual|you\s+see|"
    r"it\s+shows|we\s+get)\b",
    re.IGNORECASE,
)
_ENUM_LINE = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[-–—•*●▪]|[a-zа-я]\))\s+", re.IGNORECASE | re.M)
_ENUM_INLINE = re.compile(r"(?:(?<=\s)|^)\(?\d{1,2}\)\s+|(?:(?<=[\s.;,])|^)\d{1,2}\.\s+(?=\D)")
_ORDINALS = re.compile(
    r"(?:^|(?<=[\s.;,:]))(?:во-первых|во-вторых|в-третьих|в-четвёртых|в-четвертых|"
    r"first(?:ly)?,|second(?:ly)?,|third(?:ly)?,)",
    re.IGNORECASE,
)
_CONNECTORS = re.compile(
    r"(?:^|(?<=[\s.;,!?]))(?:и\s+ещё|и\s+еще|а\s+ещё|а\s+еще|ещё\s+одн\w+\s+\w+|еще\s+одн\w+\s+\w+|"
    r"ещё\s+(?:вопрос|проблема)|еще\s+(?:вопрос|проблема)|кроме\s+того|помимо\s+этого|"
    r"отдельный\s+вопрос|также\s+(?=не\s)|"
    r"also,?|another\s+(?:problem|issue|question)|one\s+more\s+(?:thing|problem|issue|question)|"
    r"additionally,?|besides(?:\s+that)?,?|separately,?)(?=\s|$|[:,])",
    re.IGNORECASE,
)
# A sentence about the steps to reproduce ("Шагов воспроизведения нет") is a detail of the
# problem before it, never a problem of its own.
_ABOUT_STEPS = re.compile(r"шаг|воспроизв|\bsteps?\b|reproduc", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZА-ЯЁ0-9])")


def is_problem_statement(text: str) -> bool:
    """Does ``text`` state a problem or a question, rather than a step to reproduce one?"""
    if _IMPERATIVE.match(text) or _RESULT.match(text):
        return False
    return _PROBLEM.search(text) is not None


def _clean(part: str) -> str:
    return part.strip(" \t\n\r,;:.-–—").strip()


def _split_at(text: str, pattern: re.Pattern[str]) -> tuple[str, list[str]]:
    """(text before the first marker, parts after each marker)."""
    marks = list(pattern.finditer(text))
    if not marks:
        return text, []
    head = text[: marks[0].start()]
    parts = [
        text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        for i, m in enumerate(marks)
    ]
    return head, [p for p in (_clean(p) for p in parts) if p]


def _problems(parts: list[str]) -> list[str]:
    """Group parts into problems: a non-problem part (a step, a detail) joins its neighbour."""
    groups: list[list[str]] = []
    pending: list[str] = []
    for part in parts:
        if is_problem_statement(part):
            groups.append([*pending, part])
            pending = []
        elif groups:
            groups[-1].append(part)
        else:
            pending.append(part)
    if len(groups) < 2:
        return []
    return [" ".join(g) for g in groups]


def _by_markers(text: str) -> list[str]:
    for pattern in (_ENUM_LINE, _ORDINALS, _ENUM_INLINE):
        head, parts = _split_at(text, pattern)
        if len(parts) >= 2:
            problems = _problems(parts)
            if problems:
                return problems
            return []  # an enumeration of steps or details: one problem
    head, parts = _split_at(text, _CONNECTORS)
    if parts:
        return _problems([p for p in [_clean(head), *parts] if p])
    return []


def _by_categories(text: str, probabilities: ProbabilityFn) -> list[str]:
    overall = sorted(probabilities(text).values(), reverse=True)
    if len(overall) < 2 or overall[1] < SECOND_CATEGORY_MIN:
        return []
    groups: dict[str, list[str]] = {}
    order: list[str] = []
    last: str | None = None
    for sentence in (_clean(s) for s in _SENTENCE.split(text)):
        if not sentence:
            continue
        probs = probabilities(sentence)
        category, p = max(probs.items(), key=lambda kv: kv[1]) if probs else ("", 0.0)
        if (
            p < CATEGORY_CONFIDENCE
            or not is_problem_statement(sentence)
            or _ABOUT_STEPS.search(sentence)
        ):
            category = last or category  # a detail belongs to the problem it follows
        if not category:
            continue
        if category not in groups:
            groups[category] = []
            order.append(category)
        groups[category].append(sentence)
        last = category
    if len(order) < 2:
        return []
    problems = [" ".join(groups[c]) for c in order]
    return problems if sum(is_problem_statement(p) for p in problems) >= 2 else []


def split_problems(text: str, category_probabilities: ProbabilityFn | None = None) -> list[str]:
    """The separate problems described in ``text`` (one element when there is only one).

    ``category_probabilities`` is e.g. ``Classifier.category_probabilities``; without it only
    explicit markers (enumerations, "во-первых", "и ещё", "also") are used.
    """
    stripped = text.strip()
    if not stripped:
        return []
    problems = _by_markers(stripped)
    if not problems and category_probabilities is not None:
        problems = _by_categories(stripped, category_probabilities)
    return problems or [stripped]
