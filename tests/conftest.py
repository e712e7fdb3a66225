"""Shared fixtures. Real local servers live in tests/servers/ (see ../shared/TESTING.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

import bot.channels.telegram  # noqa: F401  (aiogram imported as the bot imports it: lazy_types.py)
from bot.app import intake_context, load_classifier
from bot.config import Settings
from bot.intake.machine import IntakeContext
from bot.policy.schedule import Schedule
from classifier import Classifier

# In CI the property and fuzz tests draw the same examples every run: a submission lands or not
# on its own merits. Locally they explore new examples each run (and keep failing ones).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

pytest_plugins = [
    "tests.servers.mail",
    "tests.servers.botapi",
    "tests.servers.redis",
    "tests.servers.postgres",
]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model")


@pytest.fixture(scope="session")
def trained_classifier(model_dir: Path) -> Classifier:
    """The real model, trained once per test session from data/ (a few seconds)."""
    return load_classifier(model_dir)


@pytest.fixture(scope="session")
def schedule() -> Schedule:
    return Schedule.from_settings(Settings())


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings on embedded defaults with a private data dir; no .env or FRONTDESK_* leaks in."""
    for name in list(__import__("os").environ):
        if name.startswith("FRONTDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield Settings(data_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def context(trained_classifier: Classifier, schedule: Schedule) -> IntakeContext:
    return intake_context(Settings(), trained_classifier, schedule, channel="test")
