"""Where conversation state lives: the desk's store by default (SQLite, or PostgreSQL with
FRONTDESK_DATABASE_URL), Redis for several replicas.

Both keep the same JSON document per (channel, user). With Redis, a per-user lock in Redis keeps
one customer's events in order even when replicas share the updates (webhook behind a balancer).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.tickets.interface import TicketStore

if TYPE_CHECKING:  # imported when Redis is configured: it costs 6 MB of RSS otherwise
    from redis.asyncio import Redis


class Conversations(Protocol):
    async def load(self, channel: str, user_id: str) -> dict[str, Any] | None: ...

    async def save(
        self, channel: str, user_id: str, state: dict[str, Any], now: datetime
    ) -> None: ...

    async def delete(self, channel: str, user_id: str) -> None: ...

    def lock(self, channel: str, user_id: str) -> Any:
        """An async context manager that serialises one customer's events."""


class SqliteConversations:
    """Conversations in the desk's store (its SQLite file, or the shared PostgreSQL database);
    locks are per process: one customer's events on several replicas need Redis's."""

    def __init__(self, store: TicketStore) -> None:
        self._store = store
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def load(self, channel: str, user_id: str) -> dict[str, Any] | None:
        return await self._store.load_conversation(channel, user_id)

    async def save(self, channel: str, user_id: str, state: dict[str, Any], now: datetime) -> None:
        await self._store.save_conversation(channel, user_id, state, now)

    async def delete(self, channel: str, user_id: str) -> None:
        await self._store.delete_conversation(channel, user_id)

    @asynccontextmanager
    async def lock(self, channel: str, user_id: str) -> AsyncIterator[None]:
        key = (channel, user_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked():
                self._locks.pop(key, None)


class RedisConversations:
    """Conversations in Redis (`FRONTDESK_REDIS_URL`), shared by every replica.

    The per-customer lock is a lease renewed while the desk works (bot/replicas/locks.py), not a
    fixed timeout: a replica killed in the middle of a customer's event blocks that customer for
    `CUSTOMER_LOCK_TTL` seconds only. The IMAP watcher handles one e-mail at a time, so a longer
    lock of a dead leader would hold up the whole mailbox after the hand-over; and a desk step
    slower than a fixed timeout would lose the lock without anyone noticing.
    """

    PREFIX = "frontdesk:conv:"
    TTL_SECONDS = 30 * 24 * 3600  # an abandoned draft is forgotten after a month

    def __init__(self, redis: Redis) -> None:
        from bot.replicas.locks import customer_locks

        self._redis = redis
        self._locks = customer_locks(redis)

    @classmethod
    def from_url(cls, url: str) -> RedisConversations:
        from bot.replicas.locks import connect

        return cls(connect(url))

    def _key(self, channel: str, user_id: str) -> str:
        return f"{self.PREFIX}{channel}:{user_id}"

    async def load(self, channel: str, user_id: str) -> dict[str, Any] | None:
        raw = await self._redis.get(self._key(channel, user_id))
        return json.loads(raw) if raw else None

    async def save(self, channel: str, user_id: str, state: dict[str, Any], now: datetime) -> None:
        await self._redis.set(
            self._key(channel, user_id), json.dumps(state, ensure_ascii=False),
            ex=self.TTL_SECONDS,
        )  # fmt: skip

    async def delete(self, channel: str, user_id: str) -> None:
        await self._redis.delete(self._key(channel, user_id))

    def lock(self, channel: str, user_id: str) -> Any:
        return self._locks.hold(f"{channel}:{user_id}")

    async def close(self) -> None:
        await self._redis.aclose()
