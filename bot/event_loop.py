"""The event loop the desk runs on: uvloop where it is installed, asyncio's own elsewhere.

Most of a replica's CPU per update is spent waiting on sockets (the Bot API, PostgreSQL, Redis,
the mail server) and in the loop's own bookkeeping; uvloop does that bookkeeping in C. A Redis
round trip costs about a third less CPU on it. It exists for Linux and macOS only, so a machine
without it runs the standard loop, which behaves the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, on uvloop when it is available."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
