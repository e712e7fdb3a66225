"""Console channel: the customer's lines on stdin, the desk's replies on stdout.

Choices are printed numbered and accepted by number or by their text. `/attach PATH` attaches a
screenshot; other `/commands` are the same as in Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import shlex
from pathlib import Path
from typing import TextIO

from bot.desk import Desk
from bot.intake import texts
from bot.intake.attachments import receive_attachment
from bot.intake.events import (
    AttachmentEvent,
    ChoiceEvent,
    CommandEvent,
    Event,
    Option,
    Reply,
    TextEvent,
    typed_option,
)
from bot.text import clean
from bot.tickets.model import TICKET_ID_RE

CHANNEL = "console"
log = logging.getLogger(__name__)


class ConsoleChannel:
    def __init__(
        self,
        desk: Desk,
        data_dir: Path,
        stdin: TextIO,
        stdout: TextIO,
        user_id: str = "local",
        eml_dir: Path | None = None,
    ) -> None:
        self._desk = desk
        self._eml_dir = eml_dir  # without SMTP the ticket e-mail is a file: say where it is
        self._data_dir = data_dir
        self._in = stdin
        self._out = stdout
        self._user = user_id
        self._options: tuple[Option, ...] = ()
        self._lang = texts.DEFAULT_LANG  # until the desk has a conversation to tell
        desk.subscribe(CHANNEL, self._notice)

    def _print(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def show(self, reply: Reply) -> None:
        if reply.text:
            self._print(reply.text)
        if reply.options:
            self._options = reply.options
            for n, option in enumerate(reply.options, start=1):
                self._print(f"  {n}. {option.label}")
        self._print("")

    async def _notice(self, user_id: str, reply: Reply) -> None:
        self._print("")
        self.show(reply)
        if self._eml_dir is not None:
            for ticket_id in dict.fromkeys(TICKET_ID_RE.findall(reply.text)):
                path = self._eml_dir / f"{ticket_id}.eml"
                if path.exists():
                    self._print(f"Письмо обращения / ticket e-mail: {path}\n")

    async def to_event(self, line: str) -> Event | Reply:
        """Turn one input line into an event (or a reply when a file cannot be taken)."""
        if line.strip().startswith("/attach"):
            # The path as typed: a file name that is not UTF-8 still opens (surrogate escapes).
            return await self._attach(line.strip().removeprefix("/attach").strip())
        line = clean(line)  # invalid UTF-8 arrives as lone surrogates: U+FFFD from here on
        stripped = line.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            name, _, arg = stripped[1:].partition(" ")
            return CommandEvent(name.lower(), arg.strip())
        value = typed_option(stripped, self._options)  # the options are printed numbered
        return ChoiceEvent(value) if value is not None else TextEvent(line)

    async def _attach(self, argument: str) -> AttachmentEvent | Reply:
        parts = shlex.split(argument) if argument else []
        if not parts:
            return Reply("/attach ПУТЬ_К_ФАЙЛУ")
        path = Path(parts[0])
        if not await asyncio.to_thread(path.is_file):
            return Reply(f"Файл не найден: {clean(str(path), multiline=False)}")
        size = (await asyncio.to_thread(path.stat)).st_size
        name = clean(path.name, multiline=False)  # the file is opened by `path`, named by `name`
        ref, note = await receive_attachment(
            self._data_dir,
            f"{CHANNEL}:{self._user}",
            name,
            None,
            size,
            lambda: asyncio.to_thread(path.read_bytes),
            self._lang,
        )
        if ref is None:
            return Reply(note or "")
        if note:
            self.show(Reply(note))
        return AttachmentEvent(ref)

    async def run(self) -> None:
        if isinstance(self._in, io.TextIOWrapper):
            # Invalid UTF-8 typed in a strict terminal would end the chat with UnicodeDecodeError:
            # read it as surrogate escapes instead, which `clean` turns into U+FFFD.
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                self._in.reconfigure(errors="surrogateescape")
        for reply in await self._desk.handle(CHANNEL, self._user, CommandEvent("start")):
            self.show(reply)
        while True:
            line = await asyncio.to_thread(self._in.readline)
            if not line:
                return
            if not line.strip():
                continue
            try:
                event = await self.to_event(line.rstrip("\n"))
            except (OSError, ValueError):  # an unreadable file, an unclosed quote in /attach
                log.exception("console: line not understood")
                event = Reply(texts.t("error", self._lang))
            if isinstance(event, Reply):
                self.show(event)
                continue
            self._options = ()
            try:
                replies = await self._desk.handle(CHANNEL, self._user, event)
            except Exception:  # a broken turn never ends the chat; the state is kept
                log.exception("console: event failed")
                replies = [Reply(texts.t("error", self._lang))]
            for reply in replies:
                self.show(reply)
            conversation = await self._desk.conversation(CHANNEL, self._user)
            if conversation is not None:
                self._lang = conversation.lang
