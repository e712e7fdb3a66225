"""Pretrained Russian word vectors and lemmas: how the model reads words it was not trained on.

The vectors are navec's news embeddings (250 000 lower-cased words of Russian news, with the
common English technical words, 300 dimensions, product-quantised to 100 bytes a word). The file
ships inside the `natasha` wheel; it is found through the package's installed-file list, so
natasha itself (and its heavy models) is never imported. The file is read here directly, not
through the navec package: navec precomputes tables for similarity search that cost 100 MB more
than a classifier needs.

A text becomes the mean of its words' vectors, L2-normalised: words a customer uses that no
training phrase had still land near the words they resemble ("тормозит" near "медленно").
A word the vectors lack is looked up by its lemma (pymorphy3), so a rare inflection still counts.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from classifier.errors import ModelNotFoundError

VECTORS_PACKAGE = "natasha"
VECTORS_FILE_PREFIX = "navec_news_v1"
LEMMA_CACHE = 50_000  # distinct word forms whose lemma is kept


def vectors_path() -> Path:
    """The navec news embeddings inside the installed natasha wheel."""
    try:
        files = metadata.files(VECTORS_PACKAGE) or []
    except metadata.PackageNotFoundError as exc:
        raise ModelNotFoundError(
            f"the word vectors come with the {VECTORS_PACKAGE!r} package: pip install natasha"
        ) from exc
    for file in files:
        if file.name.startswith(VECTORS_FILE_PREFIX) and file.name.endswith(".tar"):
            return Path(str(file.locate()))
    raise ModelNotFoundError(f"no {VECTORS_FILE_PREFIX}*.tar in the {VECTORS_PACKAGE} package")


class WordVectors:
    """Word -> quantised vector; a text's mean vector."""

    def __init__(
        self, words: list[str], counts: list[int], indexes: NDArray[np.uint8], codes: Any
    ) -> None:
        # Texts are normalised with ё folded to е: fold the vocabulary the same way, the more
        # frequent spelling winning where both exist ("еще" / "ещё").
        index: dict[str, int] = {}
        best: dict[str, int] = {}
        for i, (word, count) in enumerate(zip(words, counts, strict=True)):
            key = word.replace("ё", "е")
            if count > best.get(key, -1):
                index[key], best[key] = i, count
        self._index = index
        self._indexes = indexes  # words x sub-vectors, the centroid of each
        self._codes: NDArray[np.float32] = np.asarray(codes, dtype=np.float32)  # sub x cent x d
        self._subs = np.arange(self._codes.shape[0])
        self.dim = int(self._codes.shape[0] * self._codes.shape[2])

    @classmethod
    def load(cls, path: Path | None = None) -> WordVectors:
        """Read the navec archive: a gzipped vocabulary and the product-quantised table."""
        source = path or vectors_path()
        with tarfile.open(source) as tar:
            members = {m.name: m for m in tar.getmembers()}

            def read(name: str) -> bytes:
                handle = tar.extractfile(members[name])
                if handle is None:
                    raise ModelNotFoundError(f"{source} lacks {name}")
                return handle.read()

            json.loads(read("meta.json"))  # a navec archive: fail early on anything else
            vocab = gzip.GzipFile(fileobj=io.BytesIO(read("vocab.bin"))).read()
            table = read("pq.bin")
        (size,) = np.frombuffer(vocab[:4], np.uint32)
        counts = np.frombuffer(vocab[4 : 4 + 4 * int(size)], np.uint32).tolist()
        words = vocab[4 + 4 * int(size) :].decode("utf-8").split("\n")
        header = np.frombuffer(table[:16], np.uint32)
        n_vectors, dim, n_subs, n_centroids = (int(v) for v in header)
        end = 16 + n_vectors * n_subs
        indexes = np.frombuffer(table[16:end], np.uint8).reshape(n_vectors, n_subs)
        codes = np.frombuffer(table[end:], np.float32).reshape(n_subs, n_centroids, -1)
        if codes.shape[0] * codes.shape[2] != dim or len(words) != n_vectors:
            raise ModelNotFoundError(f"{source} is not a navec archive this code can read")
        return cls(words, counts, indexes, codes)

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def mean(self, tokens: Iterable[str]) -> NDArray[np.float64]:
        """The L2-normalised mean vector of the known tokens (zeros when none is known)."""
        ids = [i for i in map(self._index.get, tokens) if i is not None]
        if not ids:
            return np.zeros(self.dim)
        parts = self._codes[self._subs, self._indexes[ids]]  # tokens x sub-vectors x d
        total = parts.sum(axis=0, dtype=np.float64).reshape(self.dim)
        norm = float(np.linalg.norm(total))
        return total / norm if norm else total  # type: ignore[no-any-return]


class Lemmatizer:
    """Russian words to their dictionary form (pymorphy3), cached; other words unchanged."""

    def __init__(self) -> None:
        import pymorphy3

        self._morph = pymorphy3.MorphAnalyzer()
        self.lemma = lru_cache(maxsize=LEMMA_CACHE)(self._lemma)

    def _lemma(self, word: str) -> str:
        if not ("а" <= word[0] <= "я"):
            return word
        return str(self._morph.parse(word)[0].normal_form).replace("ё", "е")

    def lemmas(self, tokens: Iterable[str]) -> list[str]:
        return [self.lemma(t) for t in tokens]


@lru_cache(maxsize=1)
def shared_vectors() -> WordVectors:
    """One copy of the vectors per process, whatever number of models use them."""
    return WordVectors.load()


@lru_cache(maxsize=1)
def shared_lemmatizer() -> Lemmatizer:
    return Lemmatizer()
