"""Documentation first (regulation 1.3, 4.7): suggest knowledge-base articles for a request.

Before filing, the customer is offered the official documentation pages that answer the most
common questions (``data/kb.json``). Retrieval is TF-IDF over character n-grams of each entry's
title, keywords and answer (both languages), ranked by cosine similarity; the index is built once
in :meth:`KnowledgeBase.load` and :meth:`KnowledgeBase.suggest` is a single sparse product. The
weights are scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5),
sublinear_tf=True)`` computed in plain Python and numpy (as the classifier's featurizer does), so
the bot does not import scikit-learn or SciPy at run time.

    kb = KnowledgeBase.load()
    for hit in kb.suggest("после обновления белый экран", category="error"):
        print(hit.title("ru"), hit.url)

Text that matches no entry well enough returns an empty list: nothing is better than noise.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.tickets.model import DocLink
from classifier import char_wb_ngrams, load_categories

# The category ids of data/scope.json (read through the classifier): every entry has one.
CATEGORIES: tuple[str, ...] = tuple(load_categories())
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "kb.json"
MIN_ENTRIES = 40
# Cosine similarity below which a hit is noise (tuned on tests/unit/test_policy_kb.py: realistic
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
NGRAMS = (3, 5)


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
        self._build_index([_document(e) for e in self.entries])
        self._categories = np.array([e.category for e in self.entries])

    def _build_index(self, documents: list[str]) -> None:
        """TF-IDF (smooth idf, sublinear tf, L2 rows) as an inverted index: for each n-gram,
        the entries holding it and its weight there (CSC: `_starts`, `_rows`, `_weights`)."""
        counts = [Counter(char_wb_ngrams(d, *NGRAMS)) for d in documents]
        df = Counter(g for c in counts for g in c)
        n = len(documents)
        terms = sorted(df)
        self._columns = {t: i for i, t in enumerate(terms)}
        self._idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in terms])
        postings: list[list[tuple[int, float]]] = [[] for _ in terms]
        for row, c in enumerate(counts):
            weights = {
                self._columns[g]: (1.0 + math.log(k)) * self._idf[self._columns[g]]
                for g, k in c.items()
            }
            norm = math.sqrt(sum(v * v for v in weights.values()))
            for col, v in weights.items():
                postings[col].append((row, v / norm if norm else 0.0))
        lengths = np.array([len(p) for p in postings], dtype=np.int64)
        self._starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        self._rows = np.fromiter((r for p in postings for r, _ in p), dtype=np.int32)
        self._weights = np.fromiter((v for p in postings for _, v in p), dtype=np.float64)

    def _query(self, normalized: str) -> dict[int, float]:
        """The text's TF-IDF vector over the index's n-grams (unknown n-grams are ignored)."""
        weights: dict[int, float] = {}
        for gram, count in Counter(char_wb_ngrams(normalized, *NGRAMS)).items():
            col = self._columns.get(gram)
            if col is not None:
                weights[col] = (1.0 + math.log(count)) * float(self._idf[col])
        norm = math.sqrt(sum(v * v for v in weights.values()))
        return {c: v / norm for c, v in weights.items()} if norm else {}

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
        query = self._query(normalized) if normalized else {}
        if not query:
            return np.zeros(len(self.entries))
        cols = np.fromiter(query, dtype=np.int64, count=len(query))
        starts, lengths = self._starts[cols], self._starts[cols + 1] - self._starts[cols]
        # Every (entry, weight) of every query n-gram, gathered at once, summed per entry.
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        picked = np.arange(int(lengths.sum())) + offsets
        values = self._weights[picked] * np.repeat(
            np.fromiter(query.values(), dtype=np.float64, count=len(query)), lengths
        )
        scores = np.bincount(self._rows[picked], weights=values, minlength=len(self.entries))
        return scores.astype(np.float64, copy=False)

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
