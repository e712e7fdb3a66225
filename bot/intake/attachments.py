"""Customer files (4.6): JPG, GIF and PNG screenshots are kept; BMP is zipped; others refused.

Channels take a file with `receive_attachment`: it checks the name, type and size
(`check_attachment`) before anything is downloaded, then keeps the bytes (`store_attachment`).
The type is decided from the file's content (magic bytes), not only from its name.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.intake.texts import DEFAULT_LANG, pick_lang
from bot.tickets.model import AttachmentRef

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # the Bot API download limit; the same for e-mail
ALLOWED_SUFFIXES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".png": "image/png",
}
_MAGIC = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"BM", ".bmp"),
)

_REFUSED = {
    "ru": (
        "Файл «{name}» не принят: по регламенту (п. 4.6) скриншоты принимаются в форматах JPG, "
        "GIF и PNG; BMP я сам упакую в ZIP. Сохраните изображение в одном из этих форматов и "
        "пришлите снова. Текст ошибки или лог можно вставить прямо в сообщение."
    ),
    "en": (
        "File “{name}” is not accepted: under the regulation (clause 4.6) screenshots "
        "are taken as "
        "JPG, GIF or PNG; a BMP I will zip myself. Please save the image in one of these formats "
        "and send it again. An error text or a log can be pasted right into a message."
    ),
}
_TOO_BIG = {
    "ru": "Файл «{name}» слишком большой ({size} МБ): можно не больше 20 МБ. Уменьшите его или "
    "пришлите часть.",
    "en": "File “{name}” is too big ({size} MB): the limit is 20 MB. Please reduce it or send a "
    "part.",
}
_ZIPPED = {
    "ru": "Скриншот «{name}» в формате BMP я упаковал в ZIP, как требует п. 4.6 регламента.",
    "en": "The BMP screenshot “{name}” is zipped, as clause 4.6 of the regulation requires.",
}


def _suffix(name: str) -> str:
    return Path(name).suffix.lower()


def check_attachment(name: str, content_type: str | None, size: int, lang: str) -> str | None:
    """None if the file may be downloaded and kept; otherwise a polite refusal (4.6)."""
    lang = pick_lang(lang)
    safe = safe_filename(name)
    if size > MAX_ATTACHMENT_BYTES:
        return _TOO_BIG[lang].format(name=safe, size=round(size / 1024 / 1024, 1))
    suffix = _suffix(name)
    ctype = (content_type or "").lower()
    if suffix in ALLOWED_SUFFIXES or suffix == ".bmp":
        return None
    if ctype in ("image/jpeg", "image/png", "image/gif", "image/bmp", "image/x-ms-bmp"):
        return None
    return _REFUSED[lang].format(name=safe)


def sniff(data: bytes) -> str | None:
    """The real type of an image by its first bytes: .jpg, .gif, .png, .bmp or None."""
    for magic, suffix in _MAGIC:
        if data.startswith(magic):
            return suffix
    return None


def safe_filename(name: str) -> str:
    """A file name that cannot escape a directory or carry control characters."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]", "_", base).strip(" .")
    return base[:120] or "file"


def _store_sync(directory: Path, name: str, data: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    return path


async def receive_attachment(
    data_dir: Path,
    customer_key: str,
    name: str,
    content_type: str | None,
    size: int,
    read: Callable[[], Awaitable[bytes]],
    lang: str = DEFAULT_LANG,
) -> tuple[AttachmentRef | None, str | None]:
    """Take a customer's file: checked (4.6) first, then `read` (a download, a file read) is
    awaited for its bytes, which are kept under the data dir. Returns (ref, note for the customer):
    without a ref the note says why the file was not taken; with one, a note says what was done
    to it (a BMP zipped)."""
    refusal = check_attachment(name, content_type, size, lang)
    if refusal is not None:
        return None, refusal
    return await store_attachment(data_dir, customer_key, name, await read(), lang)


async def store_attachment(
    data_dir: Path, customer_key: str, name: str, data: bytes, lang: str = DEFAULT_LANG
) -> tuple[AttachmentRef | None, str | None]:
    """Keep a checked file under the data dir. Returns (ref, note for the customer).

    The ref is None when the content is not an accepted image whatever its name says (a renamed
    .exe, say); the note then says why.
    """
    lang = pick_lang(lang)
    real = sniff(data)
    name = safe_filename(name)
    if real is None:
        return None, _REFUSED[lang].format(name=name)
    if len(data) > MAX_ATTACHMENT_BYTES:
        return None, _TOO_BIG[lang].format(name=name, size=round(len(data) / 1024 / 1024, 1))
    stem = Path(name).stem or "screenshot"
    digest = hashlib.sha256(data).hexdigest()[:12]
    user_dir = hashlib.sha256(customer_key.encode()).hexdigest()[:16]
    directory = data_dir / "attachments" / user_dir
    note = None
    if real == ".bmp":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stem}.bmp", data)
        data, final_name, ctype = buffer.getvalue(), f"{stem}.zip", "application/zip"
        note = _ZIPPED[lang].format(name=name)
    else:
        final_name, ctype = f"{stem}{real}", ALLOWED_SUFFIXES[real]
    path = await asyncio.to_thread(_store_sync, directory, f"{digest}-{final_name}", data)
    return AttachmentRef(name=final_name, path=str(path), content_type=ctype, size=len(data)), note
