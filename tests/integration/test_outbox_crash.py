"""The process is killed (SIGKILL) at the worst moments; a new outbox still delivers exactly once.

The child process is this module run as
``python -m tests.integration.test_outbox_crash MODE CONFIG``:
- ``queue``: files tickets (outbox rows committed) and dies before any delivery;
- ``marked``: marks the row 'sending' and dies before talking to the SMTP server;
- ``accepted``: the SMTP server accepts the ticket, and the process dies before ``mark_sent``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.mail.outbox import Outbox
from bot.mail.transport import SmtpTransport, transport_from_settings
from bot.tickets.store import OutboxRow, Store
from tests.helpers import Recorder, make_ticket, renderer, wait_until
from tests.servers.mail import MailServers

ROOT = Path(__file__).resolve().parents[2]
FAST = {"base_delay": 0.02, "max_delay": 0.3, "poll_interval": 0.2, "confirm_grace": 0.2}


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _DieAfterAccept(SmtpTransport):
    async def send(self, row: OutboxRow) -> None:
        await super().send(row)
        _die()  # the server has accepted; mark_sent never runs


async def _child(mode: str, config: dict[str, object]) -> None:
    settings = Settings(_env_file=None, **config)  # type: ignore[call-arg, arg-type]
    store = await Store.open(settings.database_path)
    count = 5 if mode == "queue" else 1
    for i in range(count):
        await store.create_ticket(make_ticket(i + 1), renderer(settings), datetime.now(UTC))
    if mode == "queue":
        _die()
    (row,) = await store.due_messages(datetime.now(UTC))
    if mode == "marked":
        await store.mark_sending(row.id, datetime.now(UTC))
        _die()
    transport = _DieAfterAccept(settings, copy_to=settings.from_address)
    await Outbox(store, transport).deliver_due()
    raise AssertionError("the child should have been killed")


def run_child(mode: str, settings: Settings) -> None:
    config = json.loads(
        settings.model_dump_json(
            include={"smtp_host", "smtp_port", "support_address", "from_address", "data_dir"}
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "tests.integration.test_outbox_crash", mode, json.dumps(config)],
        cwd=ROOT, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode(errors="replace")


@pytest.fixture
async def reopen(mail_settings: Settings) -> AsyncIterator[list[Store]]:
    stores: list[Store] = []
    yield stores
    for store in stores:
        await store.close()


@pytest.mark.parametrize(("mode", "tickets"), [("queue", 5), ("marked", 1), ("accepted", 1)])
async def test_killed_process_then_restart_delivers_exactly_once(
    mail_servers: MailServers,
    mail_settings: Settings,
    reopen: list[Store],
    mode: str,
    tickets: int,
) -> None:
    # Given a process killed at `mode`
    await asyncio.to_thread(run_child, mode, mail_settings)
    already = mail_servers.count("support")
    assert already == (1 if mode == "accepted" else 0)
    # When the desk restarts with a new outbox
    store = await Store.open(mail_settings.database_path)
    reopen.append(store)
    rec = Recorder()
    outbox = Outbox(store, transport_from_settings(mail_settings), rec.notify, **FAST)  # type: ignore[arg-type]
    outbox.start()

    async def all_filed() -> bool:
        return len(rec.delivered) == tickets

    await wait_until(all_filed)
    await outbox.stop()
    # Then every ticket is in the support mailbox exactly once, and the customers were told
    msgs = await mail_servers.fetch_all()
    ids = sorted(m["Message-ID"] for m in msgs)
    assert ids == sorted(f"<WAS-{n:06d}.ticket@whatasoft.test>" for n in range(1, tickets + 1))
    assert outbox.stats["confirmed"] == (1 if mode == "accepted" else 0)
    for n in range(1, tickets + 1):
        ticket = await store.get_ticket(f"WAS-{n:06d}")
        assert ticket is not None and ticket.status == "filed"


if __name__ == "__main__":
    asyncio.run(_child(sys.argv[1], json.loads(sys.argv[2])))
