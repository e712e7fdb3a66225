"""What a posted web form says, read into plain values (multipart or urlencoded alike), and the
guided page's answers written as the form lines the core's form mode reads back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from bot.channels.web.uploads import MAX_FILES, read_limited
from bot.intake.fields import FIELD_ORDER, Field
from bot.intake.form import CATEGORY_LABEL, CRITICAL_LABEL
from bot.intake.form_reply import FormGuide
from bot.intake.texts import form_label
from bot.text import clean

__all__ = ["Posted", "Upload", "answers_text", "read_posted"]

_MAX_TEXT = 40_000  # characters of one text field; the core keeps less (MAX_DESCRIPTION)
_PROSE = (Field.STEPS, Field.DESCRIPTION)  # written last: each runs on until the next label
_YES_NO = {"ru": ("да", "нет"), "en": ("yes", "no")}


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    size: int


@dataclass
class Posted:
    values: dict[str, str] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.values.get(name, "")


async def read_posted(request: web.Request) -> Posted:
    """The form's text fields (cleaned of control characters) and its files (at most
    MAX_FILES, each read up to the size limit)."""
    posted = Posted()
    if not request.content_type.startswith("multipart/"):
        for name, value in (await request.post()).items():
            if isinstance(value, str):
                posted.values[name] = clean(value[:_MAX_TEXT])
        return posted
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        if part.filename is not None:
            data, size = await read_limited(part)
            if part.filename and size and len(posted.files) < MAX_FILES:
                posted.files.append(Upload(part.filename, data, size))
            continue
        text = (await part.read(decode=True)).decode("utf-8", "replace")
        posted.values[part.name] = clean(text[:_MAX_TEXT])
    return posted


def answers_text(values: Mapping[str, str], guide: FormGuide | None, lang: str) -> str:
    """The guided page's answers as form lines: each 4.2 field the customer filled in or
    changed (`f_<field>`, shown value in `o_<field>`), the 2.2 and category answers, and the
    optional questions (`d_<id>`) under their labels."""
    lines: list[str] = []
    order = [f for f in FIELD_ORDER if f not in _PROSE] + list(_PROSE)
    for f in order:
        value = values.get(f"f_{f.value}", "").strip()
        shown = values.get(f"o_{f.value}")
        if value and value != (shown or "").strip():
            lines.append(f"{form_label(f, lang)}: {value}")
    critical = values.get("critical", "")
    if critical in ("yes", "no"):
        yes, no = _YES_NO.get(lang, _YES_NO["ru"])
        lines.insert(0, f"{CRITICAL_LABEL.get(lang, CRITICAL_LABEL['ru'])}: "
                        f"{yes if critical == 'yes' else no}")  # fmt: skip
    category = values.get("category", "").strip()
    if category:
        lines.insert(0, f"{CATEGORY_LABEL.get(lang, CATEGORY_LABEL['ru'])}: {category}")
    for item in guide.details if guide else ():
        answer = " ".join(values.get(f"d_{item.key}", "").split())
        if answer:
            lines.insert(0, f"{item.label}: {answer}")
    return "\n".join(lines)
