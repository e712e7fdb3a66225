"""Update middlewares: a flood limit per user (one polite warning), in-order handling of each user
(across replicas too), and the count of updates received (bot/ops/metrics.py).

With several replicas both the turn and the flood limit's buckets are in Redis
(bot/replicas/): a customer gets the same burst whichever replicas their updates reach."""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import Chat, TelegramObject, Update, User

from bot.channels.telegram.ports import CHANNEL
from bot.channels.telegram.texts import FLOOD_WARNING
from bot.ops.metrics import Metrics
from bot.replicas.buckets import RedisBuckets
from bot.replicas.locks import ChatLocks, LocalLocks

log = logging.getLogger(__name__)

PROJECT = str(Path(__file__).resolve().parents[2])  # the bot package's folder
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class InFlight(BaseMiddleware):
    """Counts the updates being handled, from arrival (before any wait for the chat's turn) to
    the last reply, so that a webhook server that stops can let them finish: in webhook mode
    Telegram counts an update as delivered once it was answered 200, before it is handled, and a
    replica stopped for a deploy would otherwise drop what it had in hand."""

    def __init__(self) -> None:
        self._handling: dict[asyncio.Task[Any], int] = {}  # task -> update id
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return len(self._handling)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        task = asyncio.current_task()
        assert task is not None
        self._handling[task] = event.update_id if isinstance(event, Update) else 0
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            del self._handling[task]
            if not self._handling:
                self._idle.set()

    async def drained(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until no update is being handled (at most `timeout` seconds); True when so."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def finish(self, timeout: float) -> None:  # noqa: ASYNC109
        """At shutdown: let the updates in hand finish (at most `timeout` seconds); log those
        that did not, each with where it waits (what an operator needs to find why)."""
        if not await self.drained(timeout):
            log.error(
                "telegram: %s updates unfinished at shutdown: %s",
                self.count,
                "; ".join(self.stuck()),
            )

    def stuck(self) -> list[str]:
        """Each update still in hand with where it waits (the innermost awaiting line)."""
        return [f"update {update}: {awaiting(task)}" for task, update in self._handling.items()]


def awaiting(task: asyncio.Task[Any]) -> str:
    """Where `task` is suspended: the innermost `file:line in function` of the project's code
    and the innermost of all (a library's wait)."""
    awaited: Any = task.get_coro()
    frames: list[str] = []
    for _ in range(100):  # a chain of awaits is short; the bound only guards against a cycle
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
        if frame is not None:
            frames.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
            continue
        # `async with` on an async generator awaits a step object of that generator, which
        # refers to it only through the garbage collector's view.
        inner = [r for r in gc.get_referents(awaited) if inspect.isasyncgen(r)]
        if not inner:
            break
        awaited = inner[0]
    ours = [f for f in frames if f.startswith(PROJECT)]
    shown = dict.fromkeys(ours[-1:] + frames[-1:])  # the two, once when they are the same
    return " > ".join(shown) or "unknown"


class UpdateCounter(BaseMiddleware):
    """Counts every update as it arrives, before any is skipped or fails."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self.metrics.update_received(CHANNEL)
        return await handler(event, data)


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class RateLimitMiddleware(BaseMiddleware):
    """A token bucket per user: `burst` updates at once, then `rate` per second.

    Updates over the limit are skipped; the first skipped one of a flood gets a single polite
    warning. Other users are not affected: nothing here waits. The buckets are in this process,
    or in Redis when `shared` is given (several replicas).
    """

    def __init__(
        self,
        burst: int = 10,
        rate: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        shared: RedisBuckets | None = None,
    ) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.shared = shared
        self._buckets: dict[int, _Bucket] = {}

    def _allow(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, warn now)."""
        now = self.clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.tokens >= self.burst / 2:
                bucket.warned = False
            return True, False
        warn = not bucket.warned
        bucket.warned = True
        return False, warn

    def _forget_idle(self, now: float) -> None:
        full = self.burst / self.rate
        for user_id in [u for u, b in self._buckets.items() if now - b.updated > full]:
            del self._buckets[user_id]

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        if self.shared is None:
            allowed, warn = self._allow(user.id)
        else:
            allowed, warn = await self.shared.take(f"{CHANNEL}:{user.id}", self.burst, self.rate)
        if allowed:
            return await handler(event, data)
        chat: Chat | None = data.get("event_chat")
        bot: Bot | None = data.get("bot")
        log.info("telegram: flood from user %s, update skipped", user.id)
        if warn and chat is not None and bot is not None:
            await bot.send_message(chat.id, FLOOD_WARNING)
        return None


class PerUserOrderMiddleware(BaseMiddleware):
    """Handles one update at a time per user, so replies keep the order of the messages and a
    fast customer cannot race their own conversation.

    Updates of different users still run concurrently (aiogram handles each update as a task).
    With one process the turn is an in-process lock; with several replicas it is a lock in
    Redis (bot/replicas/locks.py), so an update of the same chat that reached another replica
    waits too. The whole update is inside it: the desk's answer and the replies it sends.
    """

    def __init__(self, locks: ChatLocks | None = None) -> None:
        self.locks: ChatLocks = locks if locks is not None else LocalLocks()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        # Telegram numbers updates in the order they happened: the oldest waiting goes first.
        order = event.update_id if isinstance(event, Update) else None
        async with self.hold(user.id, order):
            return await handler(event, data)

    def hold(self, user_id: int, order: int | None = None) -> AbstractAsyncContextManager[None]:
        """The user's turn: also taken by notices from the desk, so that "filed officially"
        never overtakes the replies of the update still being answered."""
        return self.locks.hold(f"{CHANNEL}:{user_id}", order)
