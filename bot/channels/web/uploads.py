"""Screenshots uploaded with the web form (4.6), judged by their content, never by their name.

A browser says whatever the file's name and type say; the bytes decide. The size is enforced
while the upload is read, so an oversized file is never held in memory whole. What is kept and
how (JPG/GIF/PNG as they are, BMP zipped, anything else refused with the reason) is the core's
rule (bot/intake/attachments.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bot.intake.attachments import MAX_ATTACHMENT_BYTES, check_attachment, store_attachment
from bot.tickets.model import AttachmentRef

__all__ = ["MAX_FILES", "read_limited", "take_upload"]

MAX_FILES = 5  # per post; more screenshots can come with the next one


class Chunked(Protocol):
    async def read_chunk(self, size: int = ...) -> bytes: ...


async def read_limited(part: Chunked, limit: int = MAX_ATTACHMENT_BYTES) -> tuple[bytes, int]:
    """The part's bytes up to `limit`, and its whole size (read on and dropped beyond it)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    return (b"".join(chunks) if size <= limit else b""), size


async def take_upload(
    data_dir: Path, customer_key: str, name: str, data: bytes, size: int, lang: str
) -> tuple[AttachmentRef | None, str | None]:
    """Keep one uploaded file for the customer: (ref, note), as the core's other channels do.
    Too big: refused with the size limit; otherwise the content decides (a PNG named .txt is a
    PNG, an .exe named .png is refused)."""
    if size > MAX_ATTACHMENT_BYTES:
        return None, check_attachment(name, None, size, lang)
    return await store_attachment(data_dir, customer_key, name, data, lang)
