"""A fixed classifier for the intake core's unit tests: a short keyword table, not the model.

This is a fake on purpose. The dialog tests check the core (what is asked and in which order,
which gate comes, what reaches the ticket), not the classifier: with the trained model behind
them, retraining it changed dialog tests. Here every verdict follows from the table below, so a
test's text says by its words which verdict it gets. What the trained model says about a phrase
is tested in tests/integration/test_classifier.py.

The stub has the call shape the core uses (`IntakeContext.classify`: text -> Classification) and,
for `bot.app.intake_context`, the two methods of `classifier.Classifier` that the wiring calls
(`predict`, `category_probabilities`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.tickets.model import Classification
from classifier import CATEGORIES, load_scope


@dataclass(frozen=True)
class Rule:
    """Texts with any of `words` (lowercase substrings) belong to `clause` of `category`."""

    words: tuple[str, ...]
    category: str
    clause: str  # in scope or not is what data/scope.json says of this clause


# First match wins.
RULES = (
    # The customer asks support to install the product for them: 3.1.2.1, out of scope.
    Rule(("установите",), "install", "3.1.2.1"),
    # Caching and speed advice: 3.2.1.3 and 3.2.1.2.
    Rule(("композитн",), "performance", "3.2.1.3"),
    Rule(("медленно", "slow"), "performance", "3.2.1.2"),
    # Something broke after an update: 3.3.1.3.
    Rule(("после обновления", "after the update"), "update", "3.3.1.3"),
    # A malfunction of the product: 3.4.1.1.
    Rule(("ошибк", "error", "не работает", "не открывается", "broken"), "error", "3.4.1.1"),
    # How to do something with the system: a consultation, 3.6.1.1.
    Rule(("как настроить", "how do i set up"), "theory", "3.6.1.1"),
)
# 2.2: words that say the whole site is down (checked whatever the category).
SITE_DOWN = ("белый экран", "на всех страницах", "сайт не открывается", "сайт лежит")
CONFIDENT = 0.9
# No rule matches: the verdict the model gives a text it cannot place (the customer is then
# asked to pick the category).
UNSURE_CATEGORY, UNSURE_CLAUSE, UNSURE_CONFIDENCE = "theory", "3.6.1.1", 0.2


class KeywordClassifier:
    """Classifies by `RULES` and `SITE_DOWN`; unsure when no rule matches."""

    def __init__(self) -> None:
        scope = load_scope()
        unknown = [r.clause for r in RULES if r.clause not in scope]
        if unknown:
            raise ValueError(f"clauses not in data/scope.json: {unknown}")
        self._in_scope = {clause: item.in_scope for clause, item in scope.items()}

    def __call__(self, text: str) -> Classification:
        lowered = text.lower()
        critical = any(word in lowered for word in SITE_DOWN)
        rule = self._rule(lowered)
        if rule is None:
            return Classification(
                UNSURE_CATEGORY, True, UNSURE_CLAUSE, critical, UNSURE_CONFIDENCE, unsure=True
            )
        in_scope = self._in_scope[rule.clause]
        return Classification(rule.category, in_scope, rule.clause, critical, CONFIDENT)

    predict = __call__  # the trained classifier's name for the same call

    def category_probabilities(self, text: str) -> dict[str, float]:
        """All weight on the rule's category, uniform without one: never two likely
        categories, so only explicit markers ("1) … 2) …") split a text into problems (2.6)."""
        rule = self._rule(text.lower())
        if rule is None:
            return dict.fromkeys(CATEGORIES, 1.0 / len(CATEGORIES))
        return {c: 1.0 if c == rule.category else 0.0 for c in CATEGORIES}

    @staticmethod
    def _rule(lowered: str) -> Rule | None:
        return next((r for r in RULES if any(word in lowered for word in r.words)), None)
