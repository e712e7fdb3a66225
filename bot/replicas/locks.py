"""Leases and mutexes in Redis, shared by the replicas, and their in-process counterpart.

A lease is one key set with `SET key token NX PX ttl`: whoever set it holds it until it expires
or is released. The token is random per holder, and renewal and release are Lua scripts that
compare it first, atomically: a holder that stalled past its TTL (a long GC pause, a network
partition) can neither extend nor delete the lease that another replica has taken since. A
holder renews every third of the TTL, so the key outlives the holder by at most one TTL when the
holder dies without releasing (kill -9, power loss).

`RedisLocks.hold(key)` is a mutex on such a lease, renewed while the body runs: the Telegram
channel wraps the handling of one update in it, keyed by the chat, so two replicas never work on
one customer's conversation at once while different chats run in parallel. Inside one replica
the waiters of a key queue first on an in-process lock (`LocalLocks`), so they keep their order
and only one of them polls Redis at a time.

Waiters on different replicas are served in the order they give (`hold(key, order=update_id)`),
not in the order their polls happen to land: each waiter stands in a sorted set beside the lock
and may take it only when no older waiter stands before it. A waiter refreshes its place with
every poll; the place of one that died lapses after `WAITER_TTL` seconds and is skipped. Without
this, the replica that released the lock would usually win it again at once for its own next
update (its waiter is already running, the other replica's is sleeping between polls), and a
customer's messages could be answered out of order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "ChatLocks",
    "LocalLocks",
    "LockTimeout",
    "RedisLease",
    "RedisLocks",
    "connect",
    "customer_locks",
    "stopped",
]

log = logging.getLogger(__name__)

# Compare-and-delete and compare-and-extend: only the holder of the token may release or renew.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
# Take the lock in order (KEYS: lock, waiters zset, waiters' deadlines hash; ARGV: token, lock
# TTL ms, order, waiter TTL ms). Stands in the queue (or refreshes its place), drops waiters whose
# place lapsed, and takes the lock only at the head of the queue.
_ACQUIRE_IN_ORDER = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zadd', KEYS[2], 'NX', ARGV[3], ARGV[1])
redis.call('hset', KEYS[3], ARGV[1], now + tonumber(ARGV[4]))
redis.call('pexpire', KEYS[2], 10 * tonumber(ARGV[4]))
redis.call('pexpire', KEYS[3], 10 * tonumber(ARGV[4]))
while true do
    local head = redis.call('zrange', KEYS[2], 0, 0)[1]
    if head == ARGV[1] then
        break
    end
    if tonumber(redis.call('hget', KEYS[3], head) or '0') > now then
        return 0
    end
    redis.call('zrem', KEYS[2], head)
    redis.call('hdel', KEYS[3], head)
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    redis.call('zrem', KEYS[2], ARGV[1])
    redis.call('hdel', KEYS[3], ARGV[1])
    return 1
end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

# One customer's lock, `frontdesk:lock:<channel>:<user>`: the desk holds it while it works on
# the conversation, the Telegram channel for a whole update (so replies go out in order).
CUSTOMER_LOCK_PREFIX = "frontdesk:lock:"
# A replica killed while holding it blocks that customer this long. The IMAP watcher's lease
# too: a dead leader's lock ends with its term.
CUSTOMER_LOCK_TTL = 5.0

# Seconds any one Redis call may take (connecting included).
REDIS_TIMEOUT = 5.0

# Seconds a waiter's place in the queue outlives its last poll (it polls every `poll_max`).
WAITER_TTL = 2.0

# What a Redis call may raise when the server is away: redis-py's own errors, or the socket's.
REDIS_FAILURES = (RedisError, OSError, TimeoutError)


def connect(url: str) -> Redis:
    """A client for `FRONTDESK_REDIS_URL` (imported here only: it costs memory otherwise).

    Every call is bounded: a Redis that stops answering (a partition, not a refused connection)
    must fail a lock or a renewal in seconds, not hang the chat or keep a leader leading."""
    from redis.asyncio import Redis

    timeout = REDIS_TIMEOUT
    return Redis.from_url(
        url, decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout
    )


def customer_locks(redis: Redis) -> RedisLocks:
    """The customers' locks (see CUSTOMER_LOCK_PREFIX); any number of these objects share them."""
    return RedisLocks(redis, CUSTOMER_LOCK_PREFIX, ttl=CUSTOMER_LOCK_TTL)


async def stopped(done: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `done`; True when it is set.

    A task that renews a lease is stopped through such an event, never by cancelling it:
    redis-py's asyncio client can swallow a cancellation that arrives while a command is in
    flight (the command completes and the task runs on), so a cancelled renewer could keep a
    lease alive forever, and whoever awaits it would wait forever too."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), seconds)
    return done.is_set()


# The keys the running task holds, with the task (a task started inside a hold inherits this
# context, but not the lock: it is told apart by being another task).
_HELD: ContextVar[tuple[tuple[str, asyncio.Task[Any] | None], ...]] = ContextVar(
    "frontdesk_held_locks", default=()
)


class LockTimeout(TimeoutError):
    """A mutex was not obtained in time: its holder keeps renewing it (a handler that hangs)."""


class RedisLease:
    """One key held with a random token for `ttl` seconds at a time (see the module doc)."""

    def __init__(self, redis: Redis, key: str, ttl: float) -> None:
        self.redis = redis
        self.key = key
        self.ttl_ms = max(1, int(ttl * 1000))
        self.token = secrets.token_hex(16)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)
        self._in_order = redis.register_script(_ACQUIRE_IN_ORDER)

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it; True when it is ours now."""
        return bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    async def acquire_in_order(self, order: int, waiter_ttl: float = WAITER_TTL) -> bool:
        """Take the lease if nobody holds it and no live waiter with a lower `order` waits for
        it; else stand in the queue (see the module doc). True when it is ours now."""
        keys = [self.key, self.key + ":waiters", self.key + ":deadlines"]
        args: list[str | int] = [self.token, self.ttl_ms, order, max(1, int(waiter_ttl * 1000))]
        return bool(await self._in_order(keys=keys, args=args))

    async def leave_queue(self) -> None:
        """Give up waiting: our place is removed at once rather than left to lapse."""
        await self.redis.zrem(self.key + ":waiters", self.token)
        await self.redis.hdel(self.key + ":deadlines", self.token)

    async def renew(self) -> bool:
        """Extend our lease by a whole TTL; False when it is not ours (any more)."""
        return bool(await self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> bool:
        """Give the lease up; False when it was not ours (any more): nothing is deleted then."""
        return bool(await self._release(keys=[self.key], args=[self.token]))


class ChatLocks(Protocol):
    """Mutual exclusion per key (a chat): `async with locks.hold(key): ...`; waiters with an
    `order` (a Telegram update_id) are served lowest first, those without in any order."""

    def hold(self, key: str, order: int | None = None) -> AbstractAsyncContextManager[None]: ...


class LocalLocks:
    """One asyncio.Lock per key, in this process only (FIFO); a lock is dropped when unused."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str, order: int | None = None) -> AsyncIterator[None]:
        # One process: the waiters queue in the order they came, which is the updates' order.
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        """Keys held or waited for now (tests: nothing is left behind)."""
        return len(self._locks)


class RedisLocks:
    """Mutexes shared by every replica: a lease per key, renewed while held (module doc).

    `ttl` bounds how long a dead replica blocks a chat; `wait` how long a waiter tries before it
    gives up with `LockTimeout` (a holder alive but stuck keeps renewing).
    """

    def __init__(
        self,
        redis: Redis,
        prefix: str = "frontdesk:lock:",
        *,
        ttl: float = 10.0,
        wait: float = 120.0,
        poll_max: float = 0.05,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.wait = wait
        self.poll_max = poll_max
        self.local = LocalLocks()
        self.lost = 0  # leases found taken by another holder at renewal (should stay 0)

    @contextlib.asynccontextmanager
    async def hold(self, key: str, order: int | None = None) -> AsyncIterator[None]:
        """The mutex of `key`; re-entrant within one task: a hold of a key this task already
        holds (through any RedisLocks with the same prefix) waits for nothing and costs no round
        trip. The Telegram channel holds a chat for a whole update and the desk takes the same
        key for the conversation inside it. Tasks started inside a hold do not share it."""
        full_key = self.prefix + key
        me = asyncio.current_task()
        if (full_key, me) in _HELD.get():
            yield
            return
        async with self.local.hold(key):
            lease = RedisLease(self.redis, full_key, self.ttl)
            await self._acquire(lease, order)
            done = asyncio.Event()
            keeper = asyncio.create_task(self._keep(lease, done), name=f"renew {lease.key}")
            held = _HELD.set((*_HELD.get(), (full_key, me)))
            try:
                yield
            finally:
                _HELD.reset(held)
                # Told to stop, not cancelled: see `stopped`.
                done.set()
                await keeper
                await self._release(lease)

    async def _acquire(self, lease: RedisLease, order: int | None) -> None:
        """Poll until the lease is ours: a short first pause (the holder of a chat is usually
        finishing one update), growing to `poll_max` (a slow holder costs few round trips)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        pause = 0.002
        try:
            while not await (lease.acquire() if order is None else lease.acquire_in_order(order)):
                if loop.time() > deadline:
                    raise LockTimeout(f"{lease.key} still held after {self.wait:.0f}s")
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.poll_max)
        except BaseException:
            if order is not None:
                with contextlib.suppress(*REDIS_FAILURES):
                    await lease.leave_queue()
            raise

    async def _keep(self, lease: RedisLease, done: asyncio.Event) -> None:
        """Renew every third of the TTL until `done`. A lease that is no longer ours means
        the body outlived its TTL without a renewal getting through: said loudly, it is the
        one way two replicas could overlap on a chat."""
        while not await stopped(done, self.ttl / 3):
            try:
                if not await lease.renew():
                    self.lost += 1
                    log.error("lock %s lost while held (renewal came too late)", lease.key)
                    return
            except REDIS_FAILURES as exc:
                log.warning("lock %s: renewal failed (%s); retrying", lease.key, exc)

    async def _release(self, lease: RedisLease) -> None:
        try:
            if not await lease.release():
                log.warning("lock %s had expired before its release", lease.key)
        except REDIS_FAILURES as exc:
            # It expires by itself within the TTL: the next waiter is only delayed.
            log.warning("lock %s not released (%s); it expires in %.0fs", lease.key, exc, self.ttl)
