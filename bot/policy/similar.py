"""Already filed (regulation 2.5): is the new request the same problem as an open ticket?

A customer who writes again about a problem that is already being handled should add to that
ticket rather than file a new one (2.5: a new request does not speed things up).
:func:`most_similar` compares the new text with the customer's open tickets by cosine similarity
of character n-gram TF vectors; URLs, e-mails and numbers are dropped first, so two different
problems on the same site do not look alike. (The vectors are scikit-learn's
``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, use_idf=False)``,
computed in plain Python: the bot does not import scikit-learn at run time.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from classifier import char_wb_ngrams, sublinear_unit_vector

# Rephrasings of one problem score 0.45-0.95; other problems on the same site stay under 0.25.
DEFAULT_THRESHOLD = 0.35
# URLs, addresses, domains, versions and long numbers: shared by every ticket of one customer.
# Short numbers stay: "500" or "404" is part of the problem.
_NOISE = re.compile(
    r"https?://\S+|www\.\S+|\b[\w.-]+@[\w-]+\.[\w.]+|\b[\w-]+\.(?:ru|рф|com|net|org)\b"
    r"|\d+(?:\.\d+)+|\d{4,}"
)
_SPACE = re.compile(r"\s+")


def _normalize(text: str) -> str:
    text = _NOISE.sub(" ", text.lower().replace("ё", "е"))
    return _SPACE.sub(" ", text).strip()


def similarities(text: str, descriptions: Sequence[str]) -> list[float]:
    """Cosine similarity of ``text`` to each description (0.0 for empty texts)."""
    docs = [_normalize(text), *(_normalize(d) for d in descriptions)]
    if not descriptions or not docs[0] or not any(docs[1:]):
        return [0.0] * len(descriptions)
    # No IDF: with a handful of open tickets it is noise, and a pair's score should not depend on
    # which other tickets happen to be open.
    query = sublinear_unit_vector(char_wb_ngrams(docs[0], 3, 5))
    sims = []
    for doc in docs[1:]:
        vector = sublinear_unit_vector(char_wb_ngrams(doc, 3, 5))
        sims.append(sum(w * vector.get(g, 0.0) for g, w in query.items()))
    return [min(max(s, 0.0), 1.0) for s in sims]


def most_similar(
    text: str,
    open_tickets: Sequence[tuple[str, str]],
    threshold: float = DEFAULT_THRESHOLD,
) -> str | None:
    """Id of the open ticket ``(id, description)`` describing the same problem, else ``None``."""
    if not open_tickets:
        return None
    sims = similarities(text, [description for _, description in open_tickets])
    best = sims.index(max(sims))
    return open_tickets[best][0] if sims[best] >= threshold else None
