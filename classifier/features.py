"""Features: TF-IDF word uni/bi-grams and character n-grams within word boundaries, optionally
on lemmas, and optionally the text's mean pretrained word vector (`classifier.vectors`).

Training fits scikit-learn `TfidfVectorizer`s with the analyzers below; the fitted vocabulary
and idf weights are then held by `Featurizer`, which turns one text into the same sparse
vector in pure Python far faster than `TfidfVectorizer.transform` does for a single message.
The word vector is a dense block after the sparse columns.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from classifier.text import PLACEHOLDERS

if TYPE_CHECKING:  # scikit-learn is imported only to train
    from sklearn.feature_extraction.text import TfidfVectorizer

    from classifier.vectors import Lemmatizer, WordVectors

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
CHAR_RANGE = (2, 5)


Lemmas = Callable[[list[str]], list[str]]


def word_ngrams(text: str, lemmas: Lemmas | None = None) -> list[str]:
    """Word unigrams and bigrams of a normalised text (of its lemmas when `lemmas` is given)."""
    tokens = _TOKEN.findall(text)
    if lemmas is not None:
        tokens = lemmas(tokens)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


@dataclass(frozen=True, slots=True)
class FeatureOptions:
    """Which features a model uses; recorded in its metadata, so prediction builds the same."""

    lemmas: bool = False  # word n-grams of lemmas instead of word forms
    vector_weight: float = 0.0  # scale of the mean word vector block; 0: no vectors

    def to_json(self) -> dict[str, object]:
        return {"lemmas": self.lemmas, "vector_weight": self.vector_weight}

    @classmethod
    def from_json(cls, raw: object) -> FeatureOptions:
        if not isinstance(raw, dict):
            return cls()
        return cls(bool(raw.get("lemmas", False)), float(raw.get("vector_weight", 0.0)))


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character `low`..`high`-grams inside space-padded words, exactly as scikit-learn's
    `analyzer="char_wb"` makes them from an already lower-cased text."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            grams.extend(padded[i : i + n] for i in range(max(size - n + 1, 1)))
            if size <= n:  # a short word counts once, as scikit-learn does
                break
    return grams


def char_ngrams(text: str) -> list[str]:
    """Character n-grams inside space-padded words (like scikit-learn's `char_wb`)."""
    return char_wb_ngrams(text, *CHAR_RANGE)


def sublinear_unit_vector(grams: list[str]) -> dict[str, float]:
    """Term -> (1 + ln count), L2-normalised: a sublinear TF vector without IDF."""
    weights = {g: 1.0 + math.log(c) for g, c in Counter(grams).items()}
    norm = math.sqrt(sum(v * v for v in weights.values()))
    return {g: v / norm for g, v in weights.items()} if norm else {}


def vectorizers(lemmas: Lemmas | None = None) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    """Unfitted vectorizers for training (texts are normalised beforehand)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    def analyzer(text: str) -> list[str]:
        return word_ngrams(text, lemmas)

    word = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float64)
    char = TfidfVectorizer(
        analyzer=char_ngrams, min_df=2, max_features=40_000, sublinear_tf=True, dtype=np.float64
    )
    return word, char


class _Block:
    """One fitted vectorizer: term -> column and idf, L2-normalised on its own."""

    def __init__(self, terms: list[str], idf: NDArray[np.float64], offset: int) -> None:
        self.index = {t: i + offset for i, t in enumerate(terms)}
        self.idf = {i + offset: float(w) for i, w in enumerate(idf)}

    def add(self, grams: list[str], out: dict[int, float]) -> None:
        weights = {}
        for gram, count in Counter(grams).items():
            col = self.index.get(gram)
            if col is not None:
                weights[col] = (1.0 + math.log(count)) * self.idf[col]
        norm = math.sqrt(sum(v * v for v in weights.values()))
        if norm:
            out.update((c, v / norm) for c, v in weights.items())


class Featurizer:
    """The combined [word | char] TF-IDF vector of one normalised text, and with word vectors
    the dense block that follows it."""

    def __init__(
        self,
        word_terms: list[str],
        word_idf: NDArray[np.float64],
        char_terms: list[str],
        char_idf: NDArray[np.float64],
        *,
        lemmatizer: Lemmatizer | None = None,
        lemma_words: bool = False,
        vectors: WordVectors | None = None,
        vector_weight: float = 0.0,
    ) -> None:
        self.word_terms = word_terms
        self.char_terms = char_terms
        self._word = _Block(word_terms, word_idf, 0)
        self._char = _Block(char_terms, char_idf, len(word_terms))
        self.n_sparse = len(word_terms) + len(char_terms)
        self._lemmas = lemmatizer.lemmas if lemmatizer is not None and lemma_words else None
        self._lemmatizer = lemmatizer
        self._vectors = vectors if vector_weight > 0 else None
        self.vector_weight = vector_weight
        self.n_dense = self._vectors.dim if self._vectors is not None else 0
        self.n_features = self.n_sparse + self.n_dense

    @classmethod
    def from_vectorizers(
        cls,
        word: TfidfVectorizer,
        char: TfidfVectorizer,
        **extras: object,
    ) -> Featurizer:
        """Take vocabulary and idf from fitted vectorizers (`extras`: the dense options)."""
        return cls(
            list(word.get_feature_names_out()),
            np.asarray(word.idf_, dtype=np.float64),
            list(char.get_feature_names_out()),
            np.asarray(char.idf_, dtype=np.float64),
            **extras,  # type: ignore[arg-type]
        )

    def sparse(self, text: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Column indices and values of the TF-IDF part."""
        out: dict[int, float] = {}
        self._word.add(word_ngrams(text, self._lemmas), out)
        self._char.add(char_ngrams(text), out)
        idx = np.fromiter(out.keys(), dtype=np.int64, count=len(out))
        val = np.fromiter(out.values(), dtype=np.float64, count=len(out))
        return idx, val

    def dense(self, text: str) -> NDArray[np.float64] | None:
        """The weighted mean word vector (None without vectors). A word the vectors lack is
        looked up by its lemma."""
        if self._vectors is None:
            return None
        known = self._vectors
        tokens = [t for t in _TOKEN.findall(text) if t not in PLACEHOLDERS]
        if self._lemmatizer is not None:
            lemma = self._lemmatizer.lemma
            tokens = [t if t in known else lemma(t) for t in tokens]
        return known.mean(tokens) * self.vector_weight

    def dense_rows(self, texts: list[str]) -> NDArray[np.float64]:
        """The dense block of many texts (training), one row each."""
        rows = [self.dense(t) for t in texts]
        return np.vstack([r if r is not None else np.zeros(0) for r in rows])
