"""Which store the settings choose, and the refusal to mix PostgreSQL with per-replica data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.tickets.backends import NotOnPostgres, not_on_postgres, open_store
from bot.tickets.store import Store

URL = "postgresql://fd@127.0.0.1:1/none"  # never reached: the refusal comes first


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


async def test_without_a_database_url_the_store_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    store = await open_store(settings(tmp_path))
    try:
        assert isinstance(store, Store)
        assert (tmp_path / "frontdesk.sqlite3").is_file()
    finally:
        await store.close()


def test_only_postgresql_urls_are_accepted(tmp_path: Path) -> None:
    assert settings(tmp_path, database_url=URL).database_url == URL
    with pytest.raises(ValueError, match="database_url"):
        settings(tmp_path, database_url="mysql://x@y/z")


def test_every_channel_keeps_its_data_in_the_shared_database(tmp_path: Path) -> None:
    chosen = settings(tmp_path, database_url=URL, imap_host="127.0.0.1", web_port=8099)
    assert not_on_postgres(chosen) == []


async def test_an_existing_sqlite_database_is_not_left_behind_silently(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "frontdesk.sqlite3")
    await store.close()
    parts = not_on_postgres(settings(tmp_path, database_url=URL))
    assert len(parts) == 1 and "frontdesk.sqlite3" in parts[0]
    with pytest.raises(NotOnPostgres):
        await open_store(settings(tmp_path, database_url=URL))
