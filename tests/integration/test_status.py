"""`frontdesk status` on a real database written by the store, and against the real Dovecot."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.config import Settings
from bot.mail.imap import UidState, state_path
from bot.status import duration
from bot.tickets.store import Store
from tests.helpers import make_ticket, renderer
from tests.integration.test_imap import Recorder, msg, watching
from tests.servers.mail import MailServers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """FRONTDESK_* cleared, a data dir that does not exist yet; cwd without a .env."""
    for name in list(os.environ):
        if name.startswith("FRONTDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "var"
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(data))
    yield data


def status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["status", *args])
    return code, capsys.readouterr().out


def status_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out = status(capsys, "--json", *args)
    return code, json.loads(out)


async def desk_database(settings: Settings) -> dict[str, Any]:
    """Five tickets through the real store: delivered, failed, retrying, in doubt, new."""
    store = await Store.open(settings.database_path)
    start = datetime.now(UTC) - timedelta(hours=2)
    for i in range(5):
        await store.create_ticket(
            make_ticket(i + 1), renderer(settings), start + timedelta(minutes=i)
        )
    rows = {
        r.ticket_id: r.id for r in await store.due_messages(datetime.now(UTC) + timedelta(days=1))
    }
    delivered_at = datetime.now(UTC) - timedelta(minutes=30)
    await store.mark_sending(rows["WAS-000001"], delivered_at)
    await store.mark_sent(rows["WAS-000001"], delivered_at)
    await store.mark_failed(rows["WAS-000002"], "SMTP DATA refused: 550 5.7.1 no such user")
    retry_at = datetime.now(UTC) + timedelta(minutes=4)
    await store.mark_retry(rows["WAS-000003"], "SMTP connect failed: refused", retry_at)
    await store.mark_sending(rows["WAS-000004"], datetime.now(UTC))  # a crash left it in doubt
    await store.close()
    return {
        "oldest": start + timedelta(minutes=2),
        "delivered_at": delivered_at,
        "retry_at": retry_at,
    }


def test_no_database_is_said_and_nothing_is_created(env: Path, capsys) -> None:
    code, out = status(capsys, "--no-imap")
    assert code == 1
    assert f"database: none at {env / 'frontdesk.sqlite3'}" in out
    assert "nothing was created" in out
    code, report = status_json(capsys)
    assert (code, report["database_found"], report["outbox"]) == (1, False, None)
    assert not env.exists()


def test_the_installed_command_reads_a_missing_database_without_creating_it(env: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "status", "--json"],
        cwd=env.parent, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["database_found"] is False
    assert not env.exists()


async def test_figures_of_a_real_database_read_only(env: Path, capsys) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    moments = await desk_database(settings)
    UidState(state_path(settings), 1732526400, 57, ["<a@b>"]).save()
    db = settings.database_path
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}

    code, report = await asyncio.to_thread(status_json, capsys)

    assert code == 0
    outbox = report["outbox"]
    assert outbox["depth"] == 3 and outbox["queued"] == 2 and outbox["sending"] == 1
    assert (outbox["sent"], outbox["failed"]) == (1, 1)
    assert outbox["oldest_waiting_at"] == moments["oldest"].isoformat(timespec="seconds")
    assert 2 * 3600 - 300 < outbox["oldest_waiting_age_seconds"] < 2 * 3600 + 60
    assert outbox["last_delivery_at"] == moments["delivered_at"].isoformat(timespec="seconds")
    assert outbox["next_attempt_at"] is not None
    assert outbox["last_error"] == "SMTP connect failed: refused"
    imap = report["imap"]
    assert (imap["configured"], imap["uidvalidity"], imap["last_uid"]) == (False, 1732526400, 57)
    assert imap["lag"] is None
    # Read only: the directory holds the same files with the same bytes (no WAL, no -shm)
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == before

    code, out = await asyncio.to_thread(status, capsys)
    assert code == 0
    assert "queue:          3 waiting (2 queued, 1 being sent, or being confirmed" in out
    assert "oldest waiting: " in out and ("(1 h 58 min ago)" in out or "(1 h 59 min ago)" in out)
    assert "next attempt:   due now" in out  # the newest ticket is due since it was filed
    assert "last error:     SMTP connect failed: refused" in out
    assert "last delivery:  " in out and "(30 min ago)" in out
    assert "failed:         1 (refused for good" in out
    assert "position:       UIDVALIDITY 1732526400, last UID 57" in out


async def test_reads_while_the_desk_has_the_database_open(env: Path, capsys) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    await desk_database(settings)
    store = await Store.open(settings.database_path)  # the running desk: WAL in use
    try:
        await store.create_ticket(make_ticket(9), renderer(settings), datetime.now(UTC))
        code, report = await asyncio.to_thread(status_json, capsys, "--no-imap")
    finally:
        await store.close()
    assert code == 0
    assert report["outbox"]["depth"] == 4


async def test_imap_lag_from_the_real_mailbox(
    mail_servers: MailServers,
    mail_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys,
) -> None:
    for name in list(os.environ):
        if name.startswith("FRONTDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "DATA_DIR": mail_settings.data_dir,
        "IMAP_HOST": mail_settings.imap_host,
        "IMAP_PORT": mail_settings.imap_port,
        "IMAP_USER": "frontdesk",
        "IMAP_PASSWORD": mail_servers.password,
    }.items():
        monkeypatch.setenv(f"FRONTDESK_{key}", str(value))
    await desk_database(mail_settings)
    # Given the watcher handled the first message, and two more arrived after it stopped
    mail_servers.deliver(msg(1))
    rec = Recorder()
    async with watching(mail_servers, state_path(mail_settings), rec):
        await rec.wait_count(1)
    mail_servers.deliver(msg(2))
    mail_servers.deliver(msg(3))
    # Then status reports the stored position and the two messages waiting
    code, report = await asyncio.to_thread(status_json, capsys)
    assert code == 0
    imap = report["imap"]
    assert imap["last_uid"] == 1
    lag = imap["lag"]
    assert lag["error"] is None and lag["checked"]
    assert lag["uidvalidity"] == imap["uidvalidity"]
    assert lag["unhandled"] == 2
    assert lag["lag_seconds"] is not None and lag["lag_seconds"] >= 0
    code, out = await asyncio.to_thread(status, capsys)
    assert "lag:            2 message(s) not handled yet" in out
    # And with the watcher caught up there is no lag
    async with watching(mail_servers, state_path(mail_settings), rec):
        await rec.wait_count(3)
    code, report = await asyncio.to_thread(status_json, capsys)
    assert report["imap"]["lag"]["unhandled"] == 0


async def test_imap_unreachable_is_reported_not_fatal(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from tests.servers.mail import free_port

    monkeypatch.setenv("FRONTDESK_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("FRONTDESK_IMAP_PORT", str(free_port()))  # nothing listens there
    await desk_database(Settings(_env_file=None))  # type: ignore[call-arg]
    code, out = await asyncio.to_thread(status, capsys)
    assert code == 0
    assert "lag:            unknown: mailbox not reachable: " in out


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (5, "5 s"),
        (125, "2 min"),
        (3 * 3600 + 300, "3 h 05 min"),
        (2 * 86400, "2 d 0 h"),
    ],
)
def test_duration(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text
