"""SIGTERM stops the real `frontdesk run` cleanly, against the real mail servers.

The desk runs as a child process with FRONTDESK_SMTP_*/FRONTDESK_IMAP_* pointing at the test
servers (tests/servers/mail.py). `python -m tests.integration.test_sigterm slow` runs the same
entry point (`bot.__main__.main(["run"])`) with a handler that takes a while per message, so
that SIGTERM lands while a message is in hand.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.config import Settings
from bot.mail.imap import UidState, state_path
from bot.tickets.render import POLICY
from tests.integration.test_email_channel import COMPLETE
from tests.servers.mail import MailServers

ROOT = Path(__file__).resolve().parents[2]
FRONTDESK = Path(sys.executable).with_name("frontdesk")
WAIT = 120.0  # the child loads the classifier (and trains it, the first time) before it runs
SLOW = 3.0  # seconds the slowed handler holds each message


def request(n: int) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = f"Клиент {n} <client{n}@shop{n}.example>"
    msg["To"] = "frontdesk@whatasoft.test"
    msg["Subject"] = f"Не работает корзина {n}"
    msg["Message-ID"] = f"<sigterm-{n}@shop{n}.example>"
    msg.set_content(COMPLETE.replace("https://shop.example", f"https://shop{n}.example"))
    return msg


class Desk:
    """One `frontdesk run` child process; its log (stderr) goes to a file."""

    def __init__(self, settings: Settings, log: Path, *, slow: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        env.update(_env_of(settings))
        env["PYTHONUNBUFFERED"] = "1"
        command = (
            [sys.executable, "-m", "tests.integration.test_sigterm", "slow"]
            if slow
            else [str(FRONTDESK) if FRONTDESK.exists() else sys.executable, "run"]
        )
        if not slow and not FRONTDESK.exists():
            command = [sys.executable, "-m", "bot", "run"]
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            command, cwd=ROOT if slow else settings.data_dir.parent, env=env,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_log(self, text: str, wait: float = WAIT) -> None:
        deadline = time.monotonic() + wait
        while text not in self.log:
            if self.proc.poll() is not None:
                raise AssertionError(f"the desk exited ({self.proc.returncode}):\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in the log after {wait}s:\n{self.log}")
            await asyncio.sleep(0.05)

    async def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(self.proc.wait, WAIT)
        self._log.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _env_of(settings: Settings) -> dict[str, str]:
    data = json.loads(settings.model_dump_json())
    data["imap_password"] = settings.imap_password.get_secret_value()  # type: ignore[union-attr]
    keys = (
        "smtp_host", "smtp_port", "smtp_tls", "imap_host", "imap_port", "imap_user",
        "imap_password", "imap_tls", "support_address", "from_address", "data_dir",
    )  # fmt: skip
    return {f"FRONTDESK_{k.upper()}": str(data[k]) for k in keys}


@pytest.fixture
def desks() -> Iterator[list[Desk]]:
    started: list[Desk] = []
    yield started
    for desk in started:
        desk.kill()


async def replies_by_request(servers: MailServers, n: int, wait: float = WAIT) -> dict[str, int]:
    """The desk's answers in the customers' mailbox, counted per request they answer, once `n`
    requests have one each (or `wait` s passed)."""
    deadline = time.monotonic() + wait
    while True:
        counts: dict[str, int] = {}
        for raw in servers.raw_messages("customer"):
            answered = str(_headers(raw).get("In-Reply-To", ""))
            if answered.startswith("<sigterm-"):
                counts[answered] = counts.get(answered, 0) + 1
        if len(counts) >= n or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.05)


def handled(log: str, n: int) -> int:
    """How often the e-mail channel reported handling request `n` in `log`."""
    return log.count(f"e-mail <sigterm-{n}@shop{n}.example> from ")


def _headers(raw: bytes) -> EmailMessage:
    from email import message_from_bytes

    return message_from_bytes(raw, policy=POLICY)  # type: ignore[return-value]


async def test_sigterm_stops_the_running_desk_cleanly(
    mail_servers: MailServers, mail_settings: Settings, desks: list[Desk], tmp_path: Path
) -> None:
    # Given the real `frontdesk run` watching the front-desk mailbox
    desk = Desk(mail_settings, tmp_path / "run1.log")
    desks.append(desk)
    await desk.wait_log("IMAP INBOX: first start")
    # When three requests arrive and SIGTERM comes as soon as the first one is handled
    for n in (1, 2, 3):
        mail_servers.deliver(request(n))
    await desk.wait_log("e-mail <sigterm-1@")
    code = await desk.terminate()
    # Then it stopped cleanly
    assert code == 0, desk.log
    assert "frontdesk stopped" in desk.log
    assert "outbox stopped" in desk.log
    assert "Traceback" not in desk.log, desk.log
    # And after a restart every request is answered exactly once: nothing in hand was lost
    again = Desk(mail_settings, tmp_path / "run2.log")
    desks.append(again)
    await again.wait_log("frontdesk running")
    counts = await replies_by_request(mail_servers, 3)
    assert await again.terminate() == 0, again.log
    assert counts == {f"<sigterm-{n}@shop{n}.example>": 1 for n in (1, 2, 3)}
    assert [handled(desk.log + again.log, n) for n in (1, 2, 3)] == [1, 1, 1]


async def test_sigterm_while_a_message_is_in_hand_finishes_it_first(
    mail_servers: MailServers, mail_settings: Settings, desks: list[Desk], tmp_path: Path
) -> None:
    # Given the desk, with a handler that takes SLOW seconds per message
    desk = Desk(mail_settings, tmp_path / "slow.log", slow=True)
    desks.append(desk)
    await desk.wait_log("IMAP INBOX: first start")
    mail_servers.deliver(request(1))
    mail_servers.deliver(request(2))
    # When SIGTERM arrives while the first message is in hand
    await desk.wait_log("handling <sigterm-1@shop1.example>")
    code = await desk.terminate()
    # Then the desk finished that message, saved its position, and stopped cleanly
    assert code == 0, desk.log
    assert "IMAP: stopping; finishing UID 1 (<sigterm-1@shop1.example>) first" in desk.log
    assert "handled <sigterm-1@shop1.example>" in desk.log
    assert handled(desk.log, 1) == 1
    assert "handling <sigterm-2@shop2.example>" not in desk.log
    assert "frontdesk stopped" in desk.log
    assert UidState.load(state_path(mail_settings)).last_uid == 1
    # And the next start answers the second one; each request is answered exactly once
    again = Desk(mail_settings, tmp_path / "run2.log")
    desks.append(again)
    await again.wait_log("frontdesk running")
    counts = await replies_by_request(mail_servers, 2)
    assert await again.terminate() == 0, again.log
    assert counts == {"<sigterm-1@shop1.example>": 1, "<sigterm-2@shop2.example>": 1}
    assert (handled(again.log, 1), handled(again.log, 2)) == (0, 1)
    assert UidState.load(state_path(mail_settings)).last_uid >= 2


def _slow_main() -> int:
    """`frontdesk run` with a handler that announces each message and holds it SLOW seconds."""
    import logging

    from bot.__main__ import main
    from bot.channels.email.channel import EmailChannel
    from bot.mail.imap import message_key

    handle = EmailChannel.handle_raw
    log = logging.getLogger("tests.sigterm")

    async def slow(self: EmailChannel, raw: bytes) -> None:
        key = message_key(raw)
        log.info("handling %s", key)
        await asyncio.sleep(SLOW)
        await handle(self, raw)
        log.info("handled %s", key)

    EmailChannel.handle_raw = slow  # type: ignore[method-assign]
    return main(["run"])


if __name__ == "__main__" and sys.argv[1:] == ["slow"]:
    sys.exit(_slow_main())
