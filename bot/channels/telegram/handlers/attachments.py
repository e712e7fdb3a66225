"""Photos and documents: checked (4.6) before downloading, stored, then given to the desk."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.channels.telegram.dialog import converse
from bot.channels.telegram.filters import Magic, private_chat
from bot.channels.telegram.ports import CHANNEL, DeskPort
from bot.channels.telegram.sender import ReplySender
from bot.intake.attachments import receive_attachment
from bot.intake.events import AttachmentEvent, Reply, TextEvent
from bot.intake.texts import pick_lang
from bot.text import clean

log = logging.getLogger(__name__)


def build() -> Router:
    router = Router(name=__name__)
    router.message.filter(private_chat())
    router.message.register(on_file, Magic(F.photo | F.document))
    return router


async def on_file(
    message: Message, desk: DeskPort, sender: ReplySender, bot: Bot, data_dir: Path
) -> None:
    user = message.from_user
    assert user is not None
    lang = pick_lang(user.language_code)
    if message.photo:
        photo = message.photo[-1]  # Telegram lists sizes smallest first
        file_id, size = photo.file_id, photo.file_size or 0
        name, content_type = f"photo_{photo.file_unique_id}.jpg", "image/jpeg"
    else:
        document = message.document
        assert document is not None
        file_id, size = document.file_id, document.file_size or 0
        # The name is shown back and stored: one clean line.
        name = clean(document.file_name or "", multiline=False)
        name = name or f"file_{document.file_unique_id}"
        content_type = document.mime_type or ""

    async def download() -> bytes:  # only once the file passed the check
        buffer = io.BytesIO()
        await bot.download(file_id, destination=buffer)
        return buffer.getvalue()

    ref, note = await receive_attachment(
        data_dir, f"{CHANNEL}:{user.id}", name, content_type, size, download, lang
    )
    notes = (Reply(note),) if note else ()
    if ref is None:  # refused by its name, type or size, or by its content
        await sender.send(bot, message.chat.id, user.id, list(notes))
        return
    log.info("telegram: user %s attached %s (%d bytes)", user.id, ref.name, ref.size)
    if not message.caption:
        event = AttachmentEvent(ref)
        await converse(desk, sender, bot, user, message.chat.id, event, before=notes)
        return
    # A caption is the customer's words about the file: the file first, then the words. Only the
    # confirmation of the file is kept from the first answer, so the next question is asked once.
    attached = await desk.handle(CHANNEL, str(user.id), AttachmentEvent(ref), lang_hint=lang)
    await converse(
        desk,
        sender,
        bot,
        user,
        message.chat.id,
        TextEvent(clean(message.caption)),
        before=(*notes, *attached[:1]),
    )
