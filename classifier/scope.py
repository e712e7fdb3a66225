"""Scope items transcribed from the regulation (sections 1.4, 1.5 and 3) in data/scope.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from classifier.errors import DataError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SCOPE_FILE = "scope.json"

# One category per subsection of section 3.
CATEGORIES: tuple[str, ...] = (
    "install",  # 3.1
    "performance",  # 3.2
    "update",  # 3.3
    "error",  # 3.4
    "development",  # 3.5
    "theory",  # 3.6
)


@dataclass(frozen=True, slots=True)
class ScopeItem:
    """One clause of the regulation: what it covers and what to tell the customer."""

    clause: str
    category: str
    in_scope: bool
    wording: str
    explain_ru: str
    explain_en: str


def _item(raw: dict[str, Any]) -> ScopeItem:
    try:
        item = ScopeItem(
            clause=str(raw["clause"]),
            category=str(raw["category"]),
            in_scope=bool(raw["in_scope"]),
            wording=str(raw["wording"]),
            explain_ru=str(raw["explain_ru"]),
            explain_en=str(raw["explain_en"]),
        )
    except KeyError as exc:
        raise DataError(f"scope item {raw!r} lacks {exc}") from exc
    if item.category not in CATEGORIES:
        raise DataError(f"scope item {item.clause}: unknown category {item.category!r}")
    return item


@lru_cache(maxsize=8)
def _load(path: Path) -> tuple[ScopeItem, ...]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read scope items from {path}: {exc}") from exc
    return tuple(_item(raw) for raw in doc["items"])


def load_scope(data_dir: Path | None = None) -> dict[str, ScopeItem]:
    """Scope items by clause id ("3.1.2.1", "1.4", ...), in the order of the file."""
    path = (data_dir or DATA_DIR) / SCOPE_FILE
    return {item.clause: item for item in _load(path.resolve())}
