"""Leader election on a Redis lease: one replica runs a job, the others stand by.

Every replica calls `Leadership.run(job)`. The one that takes the lease (bot/replicas/locks.py)
starts `job()` and renews the lease every third of its TTL; the others try to take it every
`poll` seconds. So when the leader dies without a word (kill -9, a lost machine) its lease
expires after at most `ttl` seconds and a follower starts the job within `ttl + poll`; when it
stops cleanly it releases the lease once the job has ended, and a follower starts at its next
poll.

Overlap is avoided on both sides of the hand-over:
- the leader counts its lease as ending `ttl` after it *sent* its last successful renewal (the
  key cannot expire in Redis earlier than that), and cancels the job a margin before that moment
  when renewals have not got through (Redis unreachable, a partition): it stops leading before
  anybody else can start;
- a leader that is being stopped keeps renewing while its job finishes the work in hand (the
  IMAP watcher finishes the message being handled and saves its position), and only then
  releases: the next leader starts from the saved position.

What is left is a job cancelled for a lost lease that takes longer to stop than the margin (a
handler that is slow to end while Redis is away): the IMAP watcher's handler is idempotent for
that (the e-mail channel records every message it handled with its effects).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.replicas.locks import REDIS_FAILURES, RedisLease, stopped

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Leadership"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class Leadership:
    """Runs a job on exactly one replica at a time (see the module doc).

    `on_change(True)` when this replica becomes the leader, `on_change(False)` when it stops
    being it (for the metrics). `is_leader` says the same.
    """

    def __init__(
        self,
        redis: Redis,
        key: str,
        *,
        ttl: float = 5.0,
        poll: float = 1.0,
        on_change: Callable[[bool], None] = lambda _leading: None,
        name: str | None = None,
    ) -> None:
        if ttl <= 0 or poll <= 0:
            raise ValueError("ttl and poll must be positive")
        self.redis = redis
        self.key = key
        self.ttl = ttl
        self.poll = poll
        self.margin = ttl / 4  # stop leading this long before the lease could expire
        self.name = name or f"{socket.gethostname()}:{id(self):x}"
        self.is_leader = False
        self.terms = 0  # how many times this replica became the leader
        self._on_change = on_change

    async def run(self, job: Callable[[], Awaitable[T]]) -> T:
        """Wait for the lease, run `job()` while it is held; again after a lost lease. Returns
        (or raises) what the job does when it ends by itself; cancelling stops the job first,
        then releases the lease."""
        unreachable = False
        while True:
            lease = RedisLease(self.redis, self.key, self.ttl)
            sent = asyncio.get_running_loop().time()
            try:
                taken = await lease.acquire()
                unreachable = False
            except REDIS_FAILURES as exc:
                if not unreachable:  # once per outage, not at every poll
                    log.warning("leadership %s: Redis unreachable (%s); standing by",
                                self.key, exc)  # fmt: skip
                unreachable, taken = True, False
            if not taken:
                await asyncio.sleep(self.poll)
                continue
            log.info("leadership %s: %s is the leader now", self.key, self.name)
            self._set(True)
            try:
                ended, result = await self._lead(lease, sent, job)
            finally:
                self._set(False)
            if ended:
                return result  # type: ignore[return-value]
            log.warning("leadership %s: %s lost the lease; standing by", self.key, self.name)

    async def _lead(
        self, lease: RedisLease, sent: float, job: Callable[[], Awaitable[T]]
    ) -> tuple[bool, T | None]:
        """(True, result) when the job ended by itself; (False, None) when the lease was lost
        (the job has been stopped)."""

        async def work() -> T:
            return await job()

        task = asyncio.create_task(work(), name=f"leader {self.key}")
        done = asyncio.Event()  # stops the keeper (never cancelled: see locks.stopped)
        keeper = asyncio.create_task(self._keep(lease, sent, done), name=f"lease {self.key}")
        try:
            await asyncio.wait({task, keeper}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # Stopping: the job finishes what it has in hand while the lease is still renewed.
            await self._stop_job(task)
            await self._give_up(keeper, done, lease)
            raise
        if task.done():
            await self._give_up(keeper, done, lease)
            return True, task.result()
        # The lease is lost (or about to be): stop the job before anybody else starts it.
        await self._stop_job(task)
        await self._give_up(keeper, done, lease)
        return False, None

    async def _stop_job(self, task: asyncio.Task[T]) -> None:
        task.cancel()
        await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.error("leadership %s: the job failed while stopping", self.key,
                      exc_info=task.exception())  # fmt: skip

    async def _keep(self, lease: RedisLease, sent: float, done: asyncio.Event) -> None:
        """Renew until the lease is lost or `done`; returns then (see the module doc for the
        deadline)."""
        loop = asyncio.get_running_loop()
        expires = sent + self.ttl  # the key cannot expire in Redis before this moment
        while True:
            pause = min(self.ttl / 3, max(0.0, expires - self.margin - loop.time()))
            if await stopped(done, pause):
                return
            if loop.time() >= expires - self.margin:
                log.error("leadership %s: no renewal got through in time", self.key)
                return
            attempt = loop.time()
            try:
                async with asyncio.timeout(max(0.01, expires - self.margin - attempt)):
                    renewed = await lease.renew()
            except REDIS_FAILURES as exc:
                log.warning("leadership %s: renewal failed (%s)", self.key, exc)
                continue
            if not renewed:
                log.error("leadership %s: the lease was taken by another replica", self.key)
                return
            expires = attempt + self.ttl

    async def _give_up(
        self, keeper: asyncio.Task[None], done: asyncio.Event, lease: RedisLease
    ) -> None:
        done.set()
        await keeper
        try:
            await lease.release()
        except REDIS_FAILURES as exc:
            log.warning("leadership %s: lease not released (%s); it expires by itself",
                        self.key, exc)  # fmt: skip

    def _set(self, leading: bool) -> None:
        if leading:
            self.terms += 1
        self.is_leader = leading
        self._on_change(leading)
