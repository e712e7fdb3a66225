"""The mail timings are settings (FRONTDESK_*), wired into the outbox and the IMAP watcher."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.mail.imap import ImapWatcher
from bot.mail.outbox import Outbox
from bot.mail.transport import EmlTransport
from bot.tickets.store import Store

ROOT = Path(__file__).resolve().parents[2]
TIMINGS = {
    "FRONTDESK_OUTBOX_CONFIRM_WAIT": ("outbox_confirm_wait", 10.0),
    "FRONTDESK_OUTBOX_RETRY_BASE": ("outbox_retry_base", 1.0),
    "FRONTDESK_OUTBOX_RETRY_MAX": ("outbox_retry_max", 300.0),
    "FRONTDESK_IMAP_POLL_INTERVAL": ("imap_poll_interval", 60.0),
    "FRONTDESK_IMAP_IDLE_RENEW": ("imap_idle_renew", 60.0),
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("FRONTDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


@pytest.fixture
async def store(clean_env: Path) -> AsyncIterator[Store]:
    store = await Store.open(clean_env / "db.sqlite3")
    yield store
    await store.close()


def test_defaults_are_the_former_constants(clean_env: Path) -> None:
    settings = Settings()
    for attribute, default in TIMINGS.values():
        assert getattr(settings, attribute) == default


async def test_environment_reaches_the_outbox_and_the_watcher(
    clean_env: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n, name in enumerate(TIMINGS, start=2):
        monkeypatch.setenv(name, str(n))
    monkeypatch.setenv("FRONTDESK_IMAP_HOST", "127.0.0.1")
    settings = Settings()
    outbox = Outbox.from_settings(store, EmlTransport(clean_env / "out"), settings)
    assert (outbox.confirm_grace, outbox.base_delay, outbox.max_delay) == (2.0, 3.0, 4.0)

    async def handler(raw: bytes) -> None:
        return None

    watcher = ImapWatcher.from_settings(settings, handler)
    assert (watcher.poll_interval, watcher.idle_renew) == (5.0, 6.0)
    # Explicit options (tests, benchmarks) still win
    fast = Outbox.from_settings(store, EmlTransport(clean_env), settings, base_delay=0.01)
    assert fast.base_delay == 0.01
    assert ImapWatcher.from_settings(settings, handler, poll_interval=1.0).poll_interval == 1.0


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_timing_must_be_positive(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("FRONTDESK_OUTBOX_RETRY_MAX", value)
    with pytest.raises(ValidationError):
        Settings()


def test_readme_lists_every_timing() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in TIMINGS:
        assert name in readme
