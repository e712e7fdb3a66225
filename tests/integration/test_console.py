"""The console channel end to end: `frontdesk chat` as a customer would run it."""

from __future__ import annotations

import asyncio
import codecs
import email
import email.policy
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.app import build_app
from bot.channels.console import PASTE_GAP, ConsoleChannel
from bot.config import Settings
from bot.tickets.store import Store
from classifier import Classifier
from tests.servers.mail import MailServers

EVERYTHING = (
    "После обновления на 25.1.0 сайт готовый-сайт-для-бизнеса.рф показывает белый экран на всех "
    "страницах. Редакция Бизнес, купон SM6-NS-ABCD12345, ответ на ivan+bx@mail.ru"
)
# Answers to whatever gates come (numbered choices: 1 = send / yes / skip / first option)
ANSWERS = ["не знаю"] + ["1"] * 8
# An error report copied from the browser: six lines, one of them starting like a command.
PASTE = [
    "После обновления «Интернет-магазина» до 24.0.100 не оформляется ни один заказ.",
    "При нажатии «Оформить заказ» открывается страница с текстом:",
    "Fatal error: Uncaught Error: Call to a member function getField() on null in",
    "/home/bitrix/www/bitrix/modules/sale/lib/order.php:412",
    "Stack trace:",
    "#0 /home/bitrix/www/bitrix/components/bitrix/sale.order.ajax/class.php(2150)",
]
WAIT = 120.0  # seconds: machines here are noisy
# Output that has not grown for this long is taken for a whole answer (it is printed line by
# line); longer than the time a paste may take to arrive, so that pacing never joins messages.
QUIET = 1.5 * PASTE_GAP


class Chat:
    """`frontdesk chat` as a person uses it: messages reach it while it runs, each written when
    the test says so (not all before it starts), and its output is collected as it comes."""

    def __init__(self, data_dir: Path, model_dir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        env.update(FRONTDESK_DATA_DIR=str(data_dir), FRONTDESK_MODEL_DIR=str(model_dir))
        self.data_dir = data_dir
        self._stderr = (data_dir.parent / "chat-stderr.txt").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            cwd=data_dir.parent,
        )  # fmt: skip
        self._output = ""
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def __enter__(self) -> Chat:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process.poll() is None:  # a test failed half-way: do not leave it running
            self._process.kill()
            self._process.wait()
        self._reader.join(WAIT)
        for stream in (self._process.stdin, self._process.stdout, self._stderr):
            if stream is not None and not stream.closed:
                stream.close()

    def _read(self) -> None:
        assert self._process.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        fd = self._process.stdout.fileno()
        while chunk := os.read(fd, 65536):
            with self._changed:
                self._output += decoder.decode(chunk)
                self._changed.notify_all()
        with self._changed:
            self._output += decoder.decode(b"", final=True)
            self._ended = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return self._output

    def wait_for_output(self, longer_than: int = 0) -> None:
        """Until the chat has printed more than `longer_than` characters."""
        with self._changed:
            grew = self._changed.wait_for(
                lambda: len(self._output) > longer_than or self._ended, WAIT
            )
        assert grew and len(self.output) > longer_than, f"no answer; so far: {self.output!r}"

    def write(self, *lines: str) -> None:
        """The lines in one write, as a terminal hands over a paste."""
        assert self._process.stdin is not None
        self._process.stdin.write(("\n".join(lines) + "\n").encode())
        self._process.stdin.flush()

    def settle(self) -> None:
        """Until the chat has printed nothing for QUIET seconds: its last answer is complete."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with self._changed:
                seen = len(self._output)
                grew = self._changed.wait_for(
                    lambda seen=seen: len(self._output) != seen or self._ended, QUIET
                )
            if not grew or self._ended:
                return
        raise AssertionError("the chat never stopped printing")

    def say(self, message: str) -> None:
        """One message as a person sends it: after reading the whole last answer, and then
        waiting for the answer to this one to begin. The console starts answering only once a
        message is complete, so what is written next is never taken for a part of this one."""
        self.settle()
        before = len(self.output)
        self.write(message)
        self.wait_for_output(before)

    def close(self) -> str:
        """End of input (Ctrl-D): the chat answers what is left and exits; its whole output."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        code = self._process.wait(WAIT)
        self._reader.join(WAIT)
        errors = (self.data_dir.parent / "chat-stderr.txt").read_text("utf-8", "replace")
        assert code == 0, errors[-2000:]
        return self.output


def marker(line: str) -> str:
    """The line's longest word: what survives whatever tidying the desk does to a value."""
    return max(re.findall(r"[^\W\d_]+", line), key=len)


def last_answer(output: str) -> str:
    """The last paragraph the chat printed (a question, with its numbered choices)."""
    return output.strip().split("\n\n")[-1]


def start_chat(tmp_path: Path, model_dir: Path) -> Chat:
    """A chat that has greeted the customer (so it is reading its input)."""
    chat = Chat(tmp_path / "var", model_dir)
    chat.wait_for_output()
    return chat


def stored_fields(data_dir: Path) -> dict[str, str]:
    """The 4.2 fields the desk keeps for the console customer's conversation."""

    async def load() -> dict[str, Any] | None:
        settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
        store = await Store.open(settings.database_path)
        try:
            return await store.load_conversation("console", "local")
        finally:
            await store.close()

    conversation = asyncio.run(load())
    assert conversation is not None
    return dict(conversation["fields"])


def test_console_chat_files_a_ticket_as_an_eml_file(
    tmp_path: Path, model_dir: Path, trained_classifier: Classifier
) -> None:
    with start_chat(tmp_path, model_dir) as chat:
        for message in [EVERYTHING, *ANSWERS]:
            if "WAS-000001" in chat.output:
                break
            chat.say(message)
        out = chat.close()
    assert "WAS-000001" in out
    eml = tmp_path / "var" / "outbox" / "WAS-000001.eml"
    assert f"{eml.relative_to(tmp_path)}" in out or str(eml) in out
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"].startswith("[КРИТИЧНО] [WAS-000001] ") or message[
        "Subject"
    ].startswith("[WAS-000001] ")
    assert message["To"] == "support@whatasoft.net"
    assert "ivan+bx@mail.ru" in message["Cc"]
    (attachment,) = [p for p in message.iter_attachments() if p.get_filename() == "ticket.json"]
    data = json.loads(attachment.get_content())
    assert data["id"] == "WAS-000001"
    assert data["site_url"].startswith("http://xn--")
    assert data["coupon"] == "SM6-NS-ABCD12345"
    assert data["channel"] == "console"


def test_console_restart_resumes_the_same_step(
    tmp_path: Path, model_dir: Path, trained_classifier: Classifier
) -> None:
    steps = "1. Открыть корзину покупателя 2. Нажать Оформить"
    # Given a customer who stops after describing the problem
    with start_chat(tmp_path, model_dir) as chat:
        chat.say("Не работает оформление заказа в корзине")
        question = last_answer(chat.close())
    # When the desk is started again
    with start_chat(tmp_path, model_dir) as chat:
        chat.settle()
        greeting = chat.output
        chat.say(steps)
        chat.close()
    # Then it asks the same question again and takes the answer where it left off
    assert question in greeting
    fields = stored_fields(tmp_path / "var")
    assert fields["description"] == "Не работает оформление заказа в корзине"
    assert any(marker(steps) in value for name, value in fields.items() if name != "description")


def test_a_pasted_error_report_is_one_message(
    tmp_path: Path, model_dir: Path, trained_classifier: Classifier
) -> None:
    # Given a chat that has greeted the customer
    with start_chat(tmp_path, model_dir) as chat:
        greeting = len(chat.output)
        # When six lines are pasted at once
        chat.write(*PASTE)
        chat.wait_for_output(greeting)
        out = chat.close()
    # Then the desk got them as one message: the whole report is the description, and no line
    # of it was taken as the answer to the question that followed (the steps)
    fields = stored_fields(tmp_path / "var")
    assert all(marker(line) in fields["description"] for line in PASTE)
    assert "steps" not in fields
    assert len(out) > greeting  # and the customer got its answer


def test_lines_typed_a_second_apart_are_two_messages(
    tmp_path: Path, model_dir: Path, trained_classifier: Classifier
) -> None:
    description = "Не оформляется заказ: после нажатия «Оформить» открывается пустая страница"
    steps = "1. Положить товар в корзину 2. Нажать «Оформить заказ»"
    # Given a chat that has greeted the customer
    with start_chat(tmp_path, model_dir) as chat:
        # When a person types a line, presses Enter, and types the next one a second later
        chat.write(description)
        time.sleep(1.0)
        chat.write(steps)
        chat.close()
    # Then each line is a message of its own: the second answers the question after the first
    fields = stored_fields(tmp_path / "var")
    assert fields["description"] == description
    assert any(marker(steps) in value for name, value in fields.items() if name != "description")


async def test_console_with_smtp_files_into_the_support_mailbox(
    mail_servers: MailServers, mail_settings: Settings, trained_classifier: Classifier
) -> None:
    settings = mail_settings.model_copy(update={"imap_host": None})  # SMTP only
    app = await build_app(settings, classifier=trained_classifier)
    out = io.StringIO()
    try:
        # An in-memory script: each of its lines is a message
        stdin = io.StringIO("\n".join([EVERYTHING, *ANSWERS]) + "\n")
        await ConsoleChannel(app.desk, settings.data_dir, stdin, out).run()
        assert await app.drain_outbox(30)
    finally:
        await app.close()
    ticket = (await mail_servers.wait_for(1, "support"))[0]
    assert "[WAS-000001]" in ticket["Subject"]
    assert ticket["X-Priority"] is None or ticket["X-Priority"].startswith("1")
    text = out.getvalue()
    queued = text.index("поставлено в очередь")
    filed = text.index("официально зарегистрировано")
    assert queued < filed  # the customer is told "filed" only after the server accepted it
