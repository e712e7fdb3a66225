"""Console channel: the customer's messages on stdin, the desk's replies on stdout.

Choices are printed numbered and accepted by number or by their text. `/attach PATH` attaches a
screenshot; other `/commands` are the same as in Telegram.

A terminal hands a pasted text over line by line, exactly as if each line had been typed and
sent. The lines of a paste, though, arrive together, while a person who types a line and presses
Enter needs far longer than PASTE_GAP before the next one: lines that follow each other within
PASTE_GAP are one message. A command line (`/status`, `/attach PATH`) is always a message of its
own. An in-memory stream (a test, a program driving the chat) has no arrival times: each of its
lines is a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import shlex
import threading
import time
from dataclasses import dataclass
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

# Seconds between two lines of one message. A paste reaches the console in one burst (a local
# terminal writes it at once; over SSH its packets follow each other within milliseconds), while
# typing the next line and pressing Enter takes a person a second or more. 0.2 s is far from both,
# and a reply that waits that long after the last line is not noticed.
PASTE_GAP = 0.2
_COMMAND_LINE = re.compile(r"\s*/[A-Za-z]\w*(?:\s|$)")  # "/status", "/attach x" (not "/home/x")


@dataclass(frozen=True)
class _Line:
    text: str
    arrived: float  # time.monotonic() when it was read


def is_command_line(line: str) -> bool:
    return _COMMAND_LINE.match(line) is not None


class LineReader:
    """Reads a text stream on a thread of its own, noting when each line arrived, and hands out
    messages: a line together with the lines that followed it within `gap` seconds each."""

    def __init__(self, stream: TextIO, gap: float) -> None:
        self._stream = stream
        self._gap = gap
        self._lines: asyncio.Queue[_Line | None] = asyncio.Queue()  # None: end of input
        self._held: _Line | None = None  # read ahead: it starts the next message
        self._ended = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # A daemon: a thread blocked on a terminal must not keep the process alive at exit.
        threading.Thread(target=self._read, name="console-stdin", daemon=True).start()

    def _read(self) -> None:
        try:
            for text in iter(self._stream.readline, ""):
                self._hand_over(_Line(text, time.monotonic()))
        except (OSError, ValueError):  # the stream was closed under us: that is the end
            log.exception("console: reading stdin failed")
        finally:
            self._hand_over(None)

    def _hand_over(self, line: _Line | None) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is reading any more
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    async def message(self) -> str | None:
        """The next message (its lines joined), or None at the end of input."""
        first = await self._next()
        if first is None:
            return None
        lines = [first]
        while self._gap > 0 and not is_command_line(lines[-1].text):
            line = await self._next(deadline=lines[-1].arrived + self._gap)
            if line is None:
                break
            if line.arrived - lines[-1].arrived > self._gap or is_command_line(line.text):
                self._held = line
                break
            lines.append(line)
        return "".join(line.text for line in lines)

    async def _next(self, deadline: float | None = None) -> _Line | None:
        """The next line; None at the end of input, or when `deadline` passes with none read."""
        held, self._held = self._held, None
        if held is not None or self._ended:
            return held
        line: _Line | None
        try:
            if deadline is None or not self._lines.empty():
                line = await self._lines.get()
            else:
                timeout = max(0.0, deadline - time.monotonic())
                line = await asyncio.wait_for(self._lines.get(), timeout)
        except TimeoutError:
            return None
        self._ended = line is None
        return line


def _has_arrival_times(stream: TextIO) -> bool:
    """Whether lines reach `stream` from outside over time (a terminal, a pipe, a file) rather
    than all being there already (an in-memory stream)."""
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return False
    return True


class ConsoleChannel:
    def __init__(
        self,
        desk: Desk,
        data_dir: Path,
        stdin: TextIO,
        stdout: TextIO,
        user_id: str = "local",
        eml_dir: Path | None = None,
        paste_gap: float = PASTE_GAP,
    ) -> None:
        self._desk = desk
        self._eml_dir = eml_dir  # without SMTP the ticket e-mail is a file: say where it is
        self._data_dir = data_dir
        self._in = stdin
        self._out = stdout
        self._user = user_id
        self._options: tuple[Option, ...] = ()
        self._lang = texts.DEFAULT_LANG  # until the desk has a conversation to tell
        self._paste_gap = paste_gap if _has_arrival_times(stdin) else 0.0
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
        """Turn one input message into an event (or a reply when a file cannot be taken). A
        message of several lines (a paste) is text: commands and numbered choices are one line."""
        if "\n" in line.strip():
            return TextEvent(clean(line.strip("\n")))
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
        reader = LineReader(self._in, self._paste_gap)
        reader.start()
        for reply in await self._desk.handle(CHANNEL, self._user, CommandEvent("start")):
            self.show(reply)
        while True:
            message = await reader.message()
            if message is None:
                return
            if not message.strip():
                continue
            self._desk.metrics.update_received(CHANNEL)
            try:
                event = await self.to_event(message.rstrip("\n"))
            except (OSError, ValueError):  # an unreadable file, an unclosed quote in /attach
                log.exception("console: message not understood")
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
