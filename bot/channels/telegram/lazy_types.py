"""Import aiogram with its Telegram types built on first use instead of all at import.

aiogram declares every Telegram type with pydantic's `defer_build=True`, then ends
`aiogram/types/__init__.py` by calling `model_rebuild()` on all ~450 of them to resolve their
forward references ("Message" inside Update, ...), which builds every validator at once: about
60 MB of resident memory and a second of start-up for types this bot never sees (stickers,
giveaways, business accounts, ...). While aiogram is imported here, that call only publishes the
names into the type's own module, which is where pydantic looks when it builds a deferred model
on first use; the result is the same validators, built for the types the bot really meets.

`Update` (whose closure is almost every type) is built right after the import, so a name that
failed to resolve would fail at start-up, never in the middle of a customer's update.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

_AIOGRAM_TYPES = "aiogram."


def import_aiogram() -> None:
    """Import aiogram lazily (a no-op when something imported it already)."""
    if "aiogram" in sys.modules:
        return
    eager = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]

    def publish_names(
        cls: type[BaseModel], *, _types_namespace: dict[str, Any] | None = None, **kwargs: Any
    ) -> bool | None:
        if _types_namespace is None or not cls.__module__.startswith(_AIOGRAM_TYPES):
            return eager(cls, _types_namespace=_types_namespace, **kwargs)  # type: ignore[no-any-return]
        module = vars(sys.modules[cls.__module__])
        for name, value in _types_namespace.items():
            module.setdefault(name, value)
        return None

    BaseModel.model_rebuild = classmethod(publish_names)  # type: ignore[method-assign,assignment,arg-type]
    try:
        import aiogram  # noqa: F401
    finally:
        BaseModel.model_rebuild = classmethod(eager)  # type: ignore[method-assign,assignment]
    from aiogram.types import Update

    Update.model_rebuild()
