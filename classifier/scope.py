"""Scope items transcribed from the regulation (sections 1.4, 1.5 and 3) in data/scope.json.

The same file names the categories (one per subsection of section 3): their ids, section numbers
and the Russian and English names customers and agents see. It is the one place they are written;
the bot reads them through :func:`load_categories`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from classifier.errors import DataError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SCOPE_FILE = "scope.json"


@dataclass(frozen=True, slots=True)
class Category:
    """One subsection of section 3: the category id of the contract, its section and names.

    The Russian name is the one in a ticket's subject (`[WAS-000123] <name>: ...`).
    """

    id: str
    section: str  # "3.1"
    ru: str
    en: str

    def name(self, lang: str) -> str:
        """The name in the customer's language (Russian unless `lang` is "en")."""
        return self.en if lang == "en" else self.ru


@dataclass(frozen=True, slots=True)
class ScopeItem:
    """One clause of the regulation: what it covers and what to tell the customer."""

    clause: str
    category: str
    in_scope: bool
    wording: str
    explain_ru: str
    explain_en: str


@dataclass(frozen=True, slots=True)
class _ScopeFile:
    categories: tuple[Category, ...]
    items: tuple[ScopeItem, ...]


def _category(cid: str, raw: Any) -> Category:
    try:
        category = Category(
            id=str(cid), section=str(raw["section"]), ru=str(raw["ru"]), en=str(raw["en"])
        )
    except (KeyError, TypeError) as exc:
        raise DataError(f"category {cid!r} lacks {exc}") from exc
    if not (category.section and category.ru and category.en):
        raise DataError(f"category {cid!r}: section and names must not be empty")
    return category


def _item(raw: dict[str, Any], categories: tuple[Category, ...]) -> ScopeItem:
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
    if item.category not in {c.id for c in categories}:
        raise DataError(f"scope item {item.clause}: unknown category {item.category!r}")
    return item


@lru_cache(maxsize=8)
def _load(path: Path) -> _ScopeFile:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read scope items from {path}: {exc}") from exc
    raw_categories = doc.get("categories")
    if not isinstance(raw_categories, dict) or not raw_categories:
        raise DataError(f"{path}: 'categories' must be a non-empty object")
    categories = tuple(_category(cid, raw) for cid, raw in raw_categories.items())
    return _ScopeFile(categories, tuple(_item(raw, categories) for raw in doc["items"]))


def load_categories(data_dir: Path | None = None) -> dict[str, Category]:
    """The categories of section 3 by id ("install", ...), in the order of the file (3.1 first)."""
    path = (data_dir or DATA_DIR) / SCOPE_FILE
    return {c.id: c for c in _load(path.resolve()).categories}


def load_scope(data_dir: Path | None = None) -> dict[str, ScopeItem]:
    """Scope items by clause id ("3.1.2.1", "1.4", ...), in the order of the file."""
    path = (data_dir or DATA_DIR) / SCOPE_FILE
    return {item.clause: item for item in _load(path.resolve()).items}


# The category ids of data/scope.json, one per subsection of section 3 (install = 3.1 ...
# theory = 3.6), for code that needs only the ids.
CATEGORIES: tuple[str, ...] = tuple(load_categories())
