"""The IMAP watcher never sleeps on mail that is already in the mailbox (real Dovecot).

The poll interval and the IDLE renewal are set to an hour here: every message must come through
IDLE notices and the re-checks after each batch, never through the safety-net poll.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.mail.imap import ImapWatcher, UidState
from tests.integration.test_imap import WAIT, Recorder, msg, watching
from tests.servers.mail import MailServers

LONG = 3600.0  # a stall would last this long: far beyond every wait below
PROMPT = 15.0  # generous for a noisy machine; the watcher needs about a second


class SlowRecorder(Recorder):
    """Blocks on chosen messages until the test lets them go, to deliver mail meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.busy: dict[str, asyncio.Event] = {}  # subject → set while its handler is blocked
        self.release: dict[str, asyncio.Event] = {}

    def hold(self, subject: str) -> None:
        self.busy[subject] = asyncio.Event()
        self.release[subject] = asyncio.Event()

    async def __call__(self, raw: bytes) -> None:
        for subject, busy in self.busy.items():
            if f"Subject: {subject}\n".encode() in raw.replace(b"\r\n", b"\n"):
                busy.set()
                await self.release[subject].wait()
        await super().__call__(raw)


async def test_mail_arriving_while_the_handler_is_busy_is_handled_at_once(
    mail_servers: MailServers, tmp_path
) -> None:
    rec = SlowRecorder()
    rec.hold("message 1")
    rec.hold("message 3")
    # Given two messages in the mailbox when the watcher starts
    mail_servers.deliver(msg(1))
    mail_servers.deliver(msg(2))
    async with watching(
        mail_servers, tmp_path / "s.json", rec, poll_interval=LONG, idle_renew=LONG
    ) as watcher:
        # When more arrive while the handler is busy with the first
        await asyncio.wait_for(rec.busy["message 1"].wait(), WAIT)
        mail_servers.deliver(msg(3))
        mail_servers.deliver(msg(4))
        rec.release["message 1"].set()
        # and again while it is busy with a later one
        await asyncio.wait_for(rec.busy["message 3"].wait(), WAIT)
        mail_servers.deliver(msg(5))
        rec.release["message 3"].set()
        # Then all are handled promptly, in order, without waiting for a poll
        assert await rec.wait_count(5, PROMPT) == [f"message {n}" for n in range(1, 6)]
        # And mail arriving while it idles still comes through the IDLE notice
        await asyncio.wait_for(watcher.idling.wait(), WAIT)
        for n in (6, 7):
            mail_servers.deliver(msg(n))
        assert (await rec.wait_count(7, PROMPT))[5:] == ["message 6", "message 7"]
        assert watcher.connects == 1


async def test_a_burst_with_a_slow_handler_is_handled_without_stalls(
    mail_servers: MailServers, tmp_path
) -> None:
    class Slow(Recorder):
        async def __call__(self, raw: bytes) -> None:
            await asyncio.sleep(0.05)  # slow enough for mail to land during most handlers
            await super().__call__(raw)

    rec = Slow()
    async with watching(
        mail_servers, tmp_path / "s.json", rec, poll_interval=LONG, idle_renew=LONG
    ):
        # When twenty messages arrive one after another while the watcher works
        for n in range(1, 21):
            mail_servers.deliver(msg(n))
            await asyncio.sleep(0.02)
        # Then every one is handled promptly, once, in order
        assert await rec.wait_count(20, PROMPT) == [f"message {n}" for n in range(1, 21)]


async def test_first_start_leaves_mail_already_read_alone(mail_servers: MailServers, tmp_path):
    # Given a mailbox whose two messages were read (here: by an earlier watcher) and no state
    state = tmp_path / "s.json"
    mail_servers.deliver(msg(1))
    mail_servers.deliver(msg(2))
    async with watching(mail_servers, state, Recorder()) as watcher:
        await asyncio.wait_for(watcher.idling.wait(), WAIT)
    state.unlink()
    rec = Recorder()
    async with watching(mail_servers, state, rec, poll_interval=LONG, idle_renew=LONG) as watcher:
        await asyncio.wait_for(watcher.idling.wait(), WAIT)
        # When a new message arrives
        mail_servers.deliver(msg(3))
        # Then only that one is handled: the first start took the read ones as done
        assert await rec.wait_count(1, PROMPT) == ["message 3"]
        mail_servers.deliver(msg(4))
        assert await rec.wait_count(2, PROMPT) == ["message 3", "message 4"]
    assert UidState.load(state).last_uid == 4


async def test_cancelling_finishes_the_message_in_hand(mail_servers: MailServers, tmp_path):
    state = tmp_path / "s.json"
    rec = SlowRecorder()
    rec.hold("message 1")
    mail_servers.deliver(msg(1))
    mail_servers.deliver(msg(2))
    watcher = ImapWatcher(
        host=mail_servers.imap_host,
        port=mail_servers.imap_port,
        user="frontdesk",
        password=mail_servers.password,
        handler=rec,
        state_path=state,
        timeout=5.0,
    )
    task = asyncio.create_task(watcher.run())
    # Given the handler is busy with message 1
    await asyncio.wait_for(rec.busy["message 1"].wait(), WAIT)
    # When the watcher is cancelled (the desk stops), and the handler then finishes
    task.cancel()
    await asyncio.sleep(0)
    rec.release["message 1"].set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, WAIT)
    # Then message 1 was finished and recorded, message 2 not started
    assert rec.subjects == ["message 1"]
    assert UidState.load(state).last_uid == 1
    # And the next run takes message 2 only
    rec2 = Recorder()
    async with watching(mail_servers, state, rec2):
        assert await rec2.wait_count(1) == ["message 2"]
