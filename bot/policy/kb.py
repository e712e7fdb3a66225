"""Documentation first (regulation 1.3, 4.7): suggest knowledge-base articles for a request.

Before filing, the customer is offered the official documentation pages that answer the most
common questions (``data/kb.json``). Retrieval is TF-IDF over character n-grams of each entry's
title, keywords and answer (both languages), ranked by cosine similarity; the index is built once
in :meth:`KnowledgeBase.load` and :meth:`KnowledgeBase.suggest` is a single sparse product.

    kb = KnowledgeBase.load()
    for hit in kb.suggest("после обновления белый экран", category="error"):
        print(hit.title("ru"), hit.url)

Text that matches no entry well enough returns an empty list: nothing is better than noise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.tickets.model import DocLink

CATEGORIES = ("install", "performance", "update", "error", "development", "theory")
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "kb.json"
MIN_ENTRIES = 40
# Cosine similarity below which a hit is noise (tuned on tests/test_policy_kb.py: realistic
# requests score 0.2-0.5 against their entry, unrelated text stays under 0.1).
DEFAULT_MIN_SCORE = 0.16
# The classifier's category only breaks near-ties: entries of that category are ranked as if
# their score were this much higher; other categories remain eligible (the classifier may err).
CATEGORY_BOOST = 1.15
# Hits scoring under this share of the best hit are dropped: one clear answer beats three guesses.
RELATIVE_CUTOFF = 0.5

_REQUIRED = ("id", "category", "title_ru", "title_en", "answer_ru", "answer_en", "url", "keywords")
_URL_RE = re.compile(r"https?://\S+|\b[\w.-]+@[\w-]+\.[\w.]+")
_SPACE_RE = re.compile(r"\s+")


class KbError(ValueError):
    """The knowledge-base file is missing or malformed."""


@dataclass(frozen=True)
class KbEntry:
    id: str
    category: str
    title_ru: str
    title_en: str
    answer_ru: str
    answer_en: str
    url: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class KbHit:
    """One suggested article; ``score`` is the cosine similarity in [0, 1]."""

    id: str
    category: str
    title_ru: str
    title_en: str
    answer_ru: str
    answer_en: str
    url: str
    score: float

    def title(self, lang: str) -> str:
        return self.title_en if lang.lower().startswith("en") else self.title_ru

    def answer(self, lang: str) -> str:
        return self.answer_en if lang.lower().startswith("en") else self.answer_ru

    def doc_link(self, lang: str = "ru") -> DocLink:
        """For ``Ticket.suggested_docs`` (the ticket shows what the customer was offered)."""
        return DocLink(title=self.title(lang), url=self.url)


def normalize(text: str) -> str:
    """Lower case, ``ё`` → ``е``, URLs and e-mail addresses dropped, whitespace collapsed."""
    text = _URL_RE.sub(" ", text.lower().replace("ё", "е"))
    return _SPACE_RE.sub(" ", text).strip()


def validate(data: Any) -> list[KbEntry]:
    """Entries of a parsed ``kb.json``; raises :class:`KbError` on any contract violation."""
    raw = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(raw, list):
        raise KbError("kb.json: expected a list of entries or {'entries': [...]}")
    entries: list[KbEntry] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise KbError(f"kb.json entry {i}: not an object")
        missing = [k for k in _REQUIRED if not item.get(k)]
        if missing:
            raise KbError(f"kb.json entry {i}: missing {', '.join(missing)}")
        if item["id"] in seen:
            raise KbError(f"kb.json: duplicate id {item['id']!r}")
        seen.add(item["id"])
        if item["category"] not in CATEGORIES:
            raise KbError(f"kb.json {item['id']}: unknown category {item['category']!r}")
        if not str(item["url"]).startswith("https://"):
            raise KbError(f"kb.json {item['id']}: url must be https")
        keywords = item["keywords"]
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise KbError(f"kb.json {item['id']}: keywords must be a list of strings")
        entries.append(
            KbEntry(
                id=str(item["id"]),
                category=str(item["category"]),
                title_ru=str(item["title_ru"]),
                title_en=str(item["title_en"]),
                answer_ru=str(item["answer_ru"]),
                answer_en=str(item["answer_en"]),
                url=str(item["url"]),
                keywords=tuple(keywords),
            )
        )
    return entries


def _document(entry: KbEntry) -> str:
    # Titles and keywords are what customers actually type: they count twice.
    head = " . ".join([entry.title_ru, entry.title_en, *entry.keywords])
    return normalize(f"{head} . {head} . {entry.answer_ru} . {entry.answer_en}")


class KnowledgeBase:
    """An immutable, in-memory index over the knowledge-base entries."""

    def __init__(self, entries: Sequence[KbEntry]) -> None:
        if not entries:
            raise KbError("knowledge base is empty")
        self.entries: tuple[KbEntry, ...] = tuple(entries)
        self._by_id = {e.id: e for e in self.entries}
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1
        )
        matrix = self._vectorizer.fit_transform([_document(e) for e in self.entries])
        # Rows are L2-normalised by TfidfVectorizer, so a dot product is the cosine.
        self._matrix_t: csr_matrix = csr_matrix(matrix.T)
        self._categories = np.array([e.category for e in self.entries])

    @classmethod
    def load(cls, path: Path | str | None = None) -> KnowledgeBase:
        """Read and validate ``data/kb.json`` (or ``path``) and build the index."""
        p = Path(path) if path is not None else DEFAULT_PATH
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise KbError(f"cannot read knowledge base {p}: {exc}") from exc
        return cls(validate(data))

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> KbEntry | None:
        return self._by_id.get(entry_id)

    def scores(self, text: str) -> NDArray[np.float64]:
        """Cosine similarity of ``text`` to every entry, in file order."""
        normalized = normalize(text)
        if not normalized:
            return np.zeros(len(self.entries))
        vec = self._vectorizer.transform([normalized])
        return np.asarray((vec @ self._matrix_t).todense(), dtype=np.float64).ravel()

    def suggest(
        self,
        text: str,
        category: str | None = None,
        limit: int = 3,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> list[KbHit]:
        """Up to ``limit`` entries relevant to ``text``, best first; ``[]`` when none is.

        ``category`` (the classifier's guess) favours entries of that category on near-ties.
        """
        if limit <= 0:
            return []
        scores = self.scores(text)
        ranking = scores.copy()
        if category in CATEGORIES:
            ranking[self._categories == category] *= CATEGORY_BOOST
        order = np.argsort(-ranking, kind="stable")
        floor = max(min_score, float(scores[order[0]]) * RELATIVE_CUTOFF)
        hits: list[KbHit] = []
        for i in order[:limit]:
            score = float(scores[i])
            if score < floor:
                continue
            e = self.entries[int(i)]
            hits.append(
                KbHit(
                    id=e.id,
                    category=e.category,
                    title_ru=e.title_ru,
                    title_en=e.title_en,
                    answer_ru=e.answer_ru,
                    answer_en=e.answer_en,
                    url=e.url,
                    score=round(score, 4),
                )
            )
        return hits
