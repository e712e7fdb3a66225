"""Fixtures of the unit tests: no servers, no subprocesses, no trained model (seconds in all)."""

from __future__ import annotations

import pytest

from bot.intake.machine import IntakeContext
from tests.helpers import keyword_context


@pytest.fixture
def context() -> IntakeContext:
    """The intake core's context: here with the keyword classifier stub (tests/helpers.py
    `keyword_context`), not the trained model that tests/conftest.py's `context` loads."""
    return keyword_context()


@pytest.fixture
def trained_classifier() -> None:
    """Training the model takes seconds: a test that needs its verdicts is an integration test."""
    pytest.fail("unit tests do not use the trained model: move the test to tests/integration")
