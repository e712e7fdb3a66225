"""Training phrases (data/training/*.txt) and labelled request files (*.jsonl).

Training file format, one request per line:

    # comment
    == 3.1.1.1          starts the block of clause 3.1.1.1
    как поставить битрикс на vps
    ! сайт лежит, 500 на всех страницах      a leading "!" marks a critical request (2.2)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from classifier.errors import DataError
from classifier.scope import DATA_DIR, SCOPE_FILE, ScopeItem, load_scope

TRAINING_DIR = "training"
CLAUSE_MARK = "=="
CRITICAL_MARK = "!"


@dataclass(frozen=True, slots=True)
class Example:
    """A customer request with its labels."""

    text: str
    category: str
    in_scope: bool
    critical: bool
    clause: str | None = None
    # Labels of real requests (eval files labelled by support leads; see LABELLING.md there):
    # the categories both leads accept, whether they agreed on scope, critical for either.
    acceptable: tuple[str, ...] = ()
    scope_agreed: bool | None = None
    critical_any: bool | None = None
    # Where the real question a row was modelled on was published (rows of real requests).
    source: str | None = None


def training_files(data_dir: Path | None = None) -> list[Path]:
    """The training files, sorted so that hashing is stable: hand-written phrases (*.txt) and
    requests modelled on real published questions (*.jsonl, with their sources)."""
    folder = (data_dir or DATA_DIR) / TRAINING_DIR
    files = sorted([*folder.glob("*.txt"), *folder.glob("*.jsonl")])
    if not files:
        raise DataError(f"no training files in {folder}")
    return files


def _parse(path: Path, scope: dict[str, ScopeItem]) -> Iterable[Example]:
    item: ScopeItem | None = None
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(CLAUSE_MARK):
            clause = line[len(CLAUSE_MARK) :].strip()
            if clause not in scope:
                raise DataError(f"{path}:{lineno}: unknown clause {clause!r}")
            item = scope[clause]
            continue
        if item is None:
            raise DataError(f"{path}:{lineno}: phrase before any '{CLAUSE_MARK} clause' line")
        critical = line.startswith(CRITICAL_MARK)
        text = line[1:].strip() if critical else line
        yield Example(text, item.category, item.in_scope, critical, item.clause)


def _real_rows(path: Path, scope: dict[str, ScopeItem]) -> list[Example]:
    """Rows of real requests; each names a clause that agrees with its category and scope."""
    rows = load_jsonl(path)
    for lineno, ex in enumerate(rows, 1):
        item = scope.get(ex.clause or "")
        if item is None or item.in_scope != ex.in_scope or ex.source is None:
            raise DataError(f"{path}: row {lineno}: clause {ex.clause!r} unknown or against "
                            "its in_scope, or no source")  # fmt: skip
    return rows


def load_training(data_dir: Path | None = None) -> list[Example]:
    """All training rows, each tied to its clause."""
    scope = load_scope(data_dir)
    return [
        ex
        for path in training_files(data_dir)
        for ex in (_real_rows(path, scope) if path.suffix == ".jsonl" else _parse(path, scope))
    ]


def load_jsonl(path: Path) -> list[Example]:
    """Labelled requests: one JSON object a line with text, category, in_scope, critical."""
    examples = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            examples.append(
                Example(
                    text=str(obj["text"]),
                    category=str(obj["category"]),
                    in_scope=bool(obj["in_scope"]),
                    critical=bool(obj["critical"]),
                    clause=obj.get("clause"),
                    acceptable=tuple(str(c) for c in obj.get("acceptable") or ()),
                    # Our own real-request rows say whether the scope call is clear-cut.
                    scope_agreed=_optional_bool(obj.get("scope_agreed", obj.get("scope_clear"))),
                    critical_any=_optional_bool(obj.get("critical_any")),
                    source=obj.get("source"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{path}:{lineno}: {exc!r}") from exc
    return examples


def _optional_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def data_hash(data_dir: Path | None = None) -> str:
    """SHA-256 over the scope items and every training file (names and contents)."""
    base = data_dir or DATA_DIR
    digest = hashlib.sha256()
    for path in [base / SCOPE_FILE, *training_files(data_dir)]:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
