"""Blocked senders: the operator-edited list, re-read when it changes."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.policy.blocklist import DEFAULT_PATH, Blocklist, parse_blocklist

LIST = """\
# spammers
telegram:123456
telegram:777   # flooded the bot on 2026-11-20
email:Spam@Example.com
domain:spam.example.org
"""


def write(path: Path, text: str, mtime: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


@pytest.fixture
def blocklist(tmp_path: Path) -> Blocklist:
    path = tmp_path / "blocklist.txt"
    write(path, LIST, 1_700_000_000)
    return Blocklist(path)


@pytest.mark.parametrize(
    ("channel", "who", "blocked"),
    [
        ("telegram", "123456", True),
        ("telegram", "777", True),
        ("telegram", "1234567", False),
        ("telegram", "12345", False),
        ("email", "spam@example.com", True),
        ("email", "SPAM@EXAMPLE.COM", True),
        ("email", "Spammer <spam@example.com>", True),
        ("email", "ham@example.com", False),
        ("email", "anyone@spam.example.org", True),
        ("email", "anyone@mail.spam.example.org", True),  # subdomain
        ("email", "anyone@notspam.example.org", False),  # not a subdomain, only a suffix
        ("email", "anyone@example.org", False),  # the parent domain is not blocked
        ("email", "123456", False),
        ("console", "123456", False),
    ],
)
def test_matches(blocklist: Blocklist, channel: str, who: str, blocked: bool):
    assert blocklist.is_blocked(channel, who) is blocked


def test_comments_and_blank_lines_are_not_entries():
    entries = parse_blocklist("# telegram:1\n\n   # email:a@b.c\ntelegram:2 # telegram:3\n")
    assert entries.telegram == frozenset({"2"})
    assert not entries.emails and not entries.errors


def test_reloaded_when_the_file_changes(blocklist: Blocklist):
    assert blocklist.is_blocked("telegram", "123456")
    assert not blocklist.is_blocked("telegram", "555")
    # When the operator edits the file
    write(blocklist.path, "telegram:555\n", 1_700_000_100)
    # Then the next check sees the new list, without a restart
    assert blocklist.is_blocked("telegram", "555")
    assert not blocklist.is_blocked("telegram", "123456")
    # And deleting the file unblocks everyone
    blocklist.path.unlink()
    assert not blocklist.is_blocked("telegram", "555")
    write(blocklist.path, "domain:example.net\n", 1_700_000_200)
    assert blocklist.is_blocked("email", "x@sub.example.net")


def test_malformed_lines_are_logged_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = tmp_path / "blocklist.txt"
    write(
        path,
        "telegram:abc\nspam@example.com\nphone:+7999\ndomain:\nemail:not-an-address\n"
        "telegram:42\ndomain:bad..domain\n",
        1_700_000_000,
    )
    with caplog.at_level(logging.WARNING, logger="bot.policy.blocklist"):
        blocklist = Blocklist(path)
        # The good line still works
        assert blocklist.is_blocked("telegram", "42")
    assert len(blocklist.errors) == 6
    assert blocklist.errors[0].endswith(":1: not understood: 'telegram:abc'")
    assert sum("not understood" in r.getMessage() for r in caplog.records) == 6


def test_missing_file_blocks_nobody(tmp_path: Path):
    assert not Blocklist(tmp_path / "absent.txt").is_blocked("telegram", "1")


def test_internationalised_domains(tmp_path: Path):
    path = tmp_path / "blocklist.txt"
    write(path, "domain:спам.рф\n", 1_700_000_000)
    blocklist = Blocklist(path)
    assert blocklist.is_blocked("email", "a@почта.спам.рф")
    assert blocklist.is_blocked("email", "a@mx.xn--80ayhh.xn--p1ai")


def test_the_shipped_list_parses_cleanly():
    assert Blocklist(DEFAULT_PATH).errors == ()
