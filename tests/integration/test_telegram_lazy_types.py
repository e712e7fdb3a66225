"""aiogram's Telegram types are built on first use (bot/channels/telegram/lazy_types.py)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import resource, sys
from bot.channels.telegram.lazy_types import import_aiogram
import_aiogram()
import aiogram.types as t
from aiogram.types import Update
names = [n for n in t.__all__ if hasattr(getattr(t, n), "model_rebuild")]
deferred = [n for n in names if not getattr(t, n).__pydantic_complete__]
print("deferred", len(deferred), "of", len(names), "update", Update.__pydantic_complete__)
for n in names:
    getattr(t, n).model_rebuild()
print("incomplete", [n for n in names if not getattr(t, n).__pydantic_complete__])
u = Update.model_validate({"update_id": 1, "callback_query": {"id": "q", "chat_instance": "c",
    "from": {"id": 7, "is_bot": False, "first_name": "A"}, "data": "d",
    "message": {"message_id": 3, "date": 1, "chat": {"id": 7, "type": "private"},
    "text": "?", "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}}}})
print("button", u.callback_query.message.reply_markup.inline_keyboard[0][0].callback_data)
sticker = t.Sticker.model_validate({"file_id": "f", "file_unique_id": "u", "type": "regular",
    "width": 1, "height": 1, "is_animated": False, "is_video": False})
print("sticker", sticker.file_id)
"""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_types_are_deferred_at_import_and_every_one_builds_later() -> None:
    out = _run(CHECK).splitlines()
    deferred, total = int(out[0].split()[1]), int(out[0].split()[3])
    assert total > 300
    # Only Update's closure is built at start-up; rarer types wait until they are met.
    assert 0 < deferred < total and out[0].endswith("update True")
    assert out[1] == "incomplete []"  # every name resolves when the type is built later
    assert out[2:] == ["button b", "sticker f"]


def test_an_earlier_aiogram_import_is_left_alone() -> None:
    out = _run(
        "import aiogram.types as t\n"
        "from bot.channels.telegram.lazy_types import import_aiogram\n"
        "import_aiogram()\n"
        "print(t.Sticker.__pydantic_complete__)\n"
    )
    assert out.strip() == "True"
