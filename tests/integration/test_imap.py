"""The IMAP watcher against a real Dovecot: IDLE, polling, restarts, UIDVALIDITY, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.mail.imap import ImapWatcher, UidState, message_key
from tests.helpers import wait_until

WAIT = 30.0
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"


def msg(n: int, message_id: bool = True) -> EmailMessage:
    m = EmailMessage()
    m["From"] = f"customer{n}@shop.example"
    m["To"] = "frontdesk@whatasoft.test"
    m["Subject"] = f"message {n}"
    if message_id:
        m["Message-ID"] = f"<m{n}@shop.example>"
    m.set_content(f"body {n}")
    return m


def kick(mail_servers, user: str) -> None:
    """Make Dovecot drop `user`'s connections (server side), as a restart does."""
    conf = str(mail_servers.dovecot.conf_path)
    subprocess.run([DOVEADM, "-c", conf, "kick", user], check=True, capture_output=True)


def failed_sessions(caplog: pytest.LogCaptureFixture, reason: str = "") -> int:
    """How many times a watcher logged a session that failed (with `reason` in the message)
    before trying again: its public trace of every refused login or lost connection."""
    return sum(
        "reconnecting in" in text and reason in text
        for text in (r.getMessage() for r in caplog.records if r.name == "bot.mail.imap")
    )


class Recorder:
    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.changed = asyncio.Event()
        self.fail: Callable[[bytes], bool] = lambda raw: False

    async def __call__(self, raw: bytes) -> None:
        if self.fail(raw):
            raise RuntimeError("handler failure")
        subject = next(
            line.split(b":", 1)[1].strip().decode()
            for line in raw.splitlines()
            if line.lower().startswith(b"subject:")
        )
        self.subjects.append(subject)
        self.changed.set()

    async def wait_count(self, n: int, wait: float = WAIT) -> list[str]:
        async def until() -> None:
            while len(self.subjects) < n:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), wait)
        return self.subjects


@contextlib.asynccontextmanager
async def watching(mail_servers, state: Path, rec: Recorder, **kw) -> AsyncIterator[ImapWatcher]:
    tls = kw.pop("tls", False)
    watcher = ImapWatcher(
        host=mail_servers.imap_host,
        port=mail_servers.imaps_port if tls else mail_servers.imap_port,
        user="frontdesk",
        password=mail_servers.password,
        handler=rec,
        state_path=state,
        tls="tls" if tls else "none",
        ssl_context=mail_servers.client_ssl_context() if tls else None,
        backoff_initial=0.1,
        backoff_max=1.0,
        timeout=kw.pop("timeout", 5.0),
        **kw,
    )
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.connected.wait(), WAIT)
        yield watcher
    finally:
        watcher.stop()
        await asyncio.wait_for(task, WAIT)


async def test_first_start_takes_unseen_then_idle_pushes_new_ones(mail_servers, tmp_path):
    # Given two messages already waiting in the front-desk mailbox
    state = tmp_path / "imap-state.json"
    mail_servers.deliver(msg(1))
    mail_servers.deliver(msg(2))
    rec = Recorder()
    async with watching(mail_servers, state, rec) as watcher:
        # Then both are handled at start
        assert await rec.wait_count(2) == ["message 1", "message 2"]
        # When a third arrives while the watcher idles
        await asyncio.wait_for(watcher.idling.wait(), WAIT)
        mail_servers.deliver(msg(3))
        # Then the IDLE push brings it
        assert await rec.wait_count(3) == ["message 1", "message 2", "message 3"]
        assert watcher.connects == 1
    saved = json.loads(state.read_text())
    assert saved["last_uid"] == 3
    assert saved["seen"] == ["<m1@shop.example>", "<m2@shop.example>", "<m3@shop.example>"]


async def test_restart_of_the_watcher_neither_repeats_nor_skips(mail_servers, tmp_path):
    state = tmp_path / "state.json"
    rec = Recorder()
    mail_servers.deliver(msg(1))
    async with watching(mail_servers, state, rec):
        await rec.wait_count(1)
    # While the desk is down, two more arrive
    mail_servers.deliver(msg(2))
    mail_servers.deliver(msg(3))
    rec2 = Recorder()
    async with watching(mail_servers, state, rec2) as watcher:
        assert await rec2.wait_count(2) == ["message 2", "message 3"]
        # IDLE starts once the mailbox is drained: anything repeated would have come by then
        await asyncio.wait_for(watcher.idling.wait(), WAIT)
    assert rec2.subjects == ["message 2", "message 3"]


async def test_dovecot_restart_during_watching_loses_nothing(mail_servers, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="bot.mail.imap")
    rec = Recorder()
    async with watching(mail_servers, tmp_path / "s.json", rec) as watcher:
        mail_servers.deliver(msg(1))
        await rec.wait_count(1)
        await asyncio.wait_for(watcher.idling.wait(), WAIT)
        # When Dovecot stops (its client processes too: the test instance's master leaves them
        # running, so they are kicked first, as a production restart does), mail arrives
        # meanwhile, and it comes back
        failed_before = failed_sessions(caplog)
        await asyncio.to_thread(kick, mail_servers, "frontdesk")
        await asyncio.to_thread(mail_servers.stop_dovecot)
        mail_servers.deliver(msg(2))
        # The watcher notices: the session is lost, and a reconnect fails while Dovecot is down
        await wait_until(lambda: failed_sessions(caplog) >= failed_before + 2, within=WAIT)
        await asyncio.to_thread(mail_servers.start_dovecot)
        mail_servers.deliver(msg(3))
        # Then everything is handled once, after a reconnect
        assert await rec.wait_count(3) == ["message 1", "message 2", "message 3"]
        # IDLE starts once the mailbox is drained: anything repeated would have come by then
        await asyncio.wait_for(watcher.idling.wait(), WAIT)
        assert rec.subjects == ["message 1", "message 2", "message 3"]
        assert watcher.connects >= 2


async def test_uidvalidity_change_rescans_without_repeating(mail_servers, tmp_path):
    state = tmp_path / "s.json"
    rec = Recorder()
    mail_servers.deliver(msg(1))
    mail_servers.deliver(msg(2, message_id=False))
    async with watching(mail_servers, state, rec):
        await rec.wait_count(2)
    old = UidState.load(state)
    # Dovecot's UIDVALIDITY is the mailbox's creation time in seconds: a new second, a new value
    await wait_until(lambda: time.time() >= old.uidvalidity + 1, within=WAIT)
    # Given the mailbox is recreated (new UIDVALIDITY) holding the same two messages and a new one
    mail_servers.dovecot.reset_mailbox("frontdesk")
    mail_servers.deliver(msg(1))
    mail_servers.deliver(msg(2, message_id=False))
    mail_servers.deliver(msg(4))
    rec2 = Recorder()
    async with watching(mail_servers, state, rec2) as watcher:
        assert await rec2.wait_count(1) == ["message 4"]
        # IDLE starts once the rescan is done: a repeated message 1 or 2 would have come by then
        await asyncio.wait_for(watcher.idling.wait(), WAIT)
    assert rec2.subjects == ["message 4"]
    assert UidState.load(state).uidvalidity != old.uidvalidity


async def test_polling_fallback_without_idle(mail_servers, tmp_path):
    rec = Recorder()
    async with watching(mail_servers, tmp_path / "s.json", rec, use_idle=False, poll_interval=0.2):
        mail_servers.deliver(msg(1))
        assert await rec.wait_count(1) == ["message 1"]


async def test_imaps_tls_mode(mail_servers, tmp_path):
    rec = Recorder()
    mail_servers.deliver(msg(1))
    async with watching(mail_servers, tmp_path / "s.json", rec, tls=True):
        assert await rec.wait_count(1) == ["message 1"]


async def test_failing_handler_is_retried_then_skipped(mail_servers, tmp_path):
    rec = Recorder()
    calls: list[bytes] = []

    def fail(raw: bytes) -> bool:
        calls.append(raw)
        return b"message 1" in raw

    rec.fail = fail
    mail_servers.deliver(msg(1))
    mail_servers.deliver(msg(2))
    async with watching(mail_servers, tmp_path / "s.json", rec, max_attempts=2) as watcher:
        assert await rec.wait_count(1) == ["message 2"]
        assert sum(b"message 1" in c for c in calls) == 2
        assert watcher.processed == 2


async def test_wrong_password_keeps_retrying_until_stopped(mail_servers, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="bot.mail.imap")
    watcher = ImapWatcher(
        host=mail_servers.imap_host,
        port=mail_servers.imap_port,
        user="frontdesk",
        password="wrong",
        handler=Recorder(),
        state_path=tmp_path / "s.json",
        backoff_initial=0.05,
        backoff_max=0.1,
    )
    task = asyncio.create_task(watcher.run())
    # Several refused logins, each followed by a backoff, and never a session
    await wait_until(lambda: failed_sessions(caplog, "refused") >= 3, within=WAIT)
    assert not watcher.connected.is_set() and watcher.connects == 0
    watcher.stop()
    await asyncio.wait_for(task, WAIT)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"Message-ID: <a@b>\r\nSubject: x\r\n\r\nbody", "<a@b>"),
        (b"message-id:   <a@b>\n\nbody", "<a@b>"),
        (b"Subject: x\r\n\r\nMessage-ID: <in@body>\r\n", None),
    ],
)
def test_message_key(raw: bytes, key: str | None):
    got = message_key(raw)
    assert got == key if key else got.startswith("sha256:")


def test_state_file_corrupt_starts_afresh(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("{not json", encoding="utf-8")
    st = UidState.load(path)
    assert (st.uidvalidity, st.last_uid, st.seen) == (None, 0, [])
    st.uidvalidity = 5
    st.mark(7, "<k@x>")
    assert UidState.load(path) == UidState(path, 5, 7, ["<k@x>"])
