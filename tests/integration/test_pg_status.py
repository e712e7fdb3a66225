"""`frontdesk status` with FRONTDESK_DATABASE_URL: the outbox figures of the shared database."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.__main__ import main
from bot.config import Settings
from bot.tickets.pg.store import PgStore, without_password
from tests.helpers import make_ticket, renderer


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str) -> str:
    for name in list(os.environ):
        if name.startswith("FRONTDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", pg_url)
    return pg_url


def status_json(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["status", "--json", "--no-imap"])
    return code, json.loads(capsys.readouterr().out)


def test_a_database_the_desk_never_migrated_is_said_and_left_alone(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = status_json(capsys)
    assert (code, report["database_found"], report["outbox"]) == (1, False, None)
    assert report["database"] == env
    with psycopg.connect(env) as conn:
        assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)


async def test_figures_of_the_shared_database(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    store = await PgStore.open(env)
    start = datetime.now(UTC) - timedelta(hours=1)
    for n in range(1, 4):
        await store.create_ticket(make_ticket(n), renderer(settings), start + timedelta(minutes=n))
    first, second, _ = await store.due_messages(datetime.now(UTC))
    await store.mark_sending(first.id, datetime.now(UTC))
    await store.mark_sent(first.id, datetime.now(UTC))
    await store.mark_retry(second.id, "SMTP connect failed: refused", datetime.now(UTC))
    await store.close()

    code, report = await asyncio.to_thread(status_json, capsys)

    assert code == 0 and report["database_found"] is True
    outbox = report["outbox"]
    assert isinstance(outbox, dict)
    assert (outbox["queued"], outbox["sent"], outbox["failed"]) == (2, 1, 0)
    expected = (start + timedelta(minutes=2)).isoformat(timespec="seconds")
    assert outbox["oldest_waiting_at"] == expected
    assert outbox["last_error"] == "SMTP connect failed: refused"


def test_the_password_is_not_shown() -> None:
    url = "postgresql://fd:s3cret@db.example:5433/frontdesk?sslmode=require"
    assert without_password(url) == "postgresql://fd@db.example:5433/frontdesk?sslmode=require"
