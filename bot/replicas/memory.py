"""Small values kept per customer between two of their updates, shared by the replicas.

The Telegram channel remembers the buttons of each chat's last keyboard, so that typing a
button's label works like pressing it; the guard holds what a customer wrote before consenting
(it is read once they consent). With several replicas the next update may reach another replica:
the value must be where every replica reads it (Redis). Values are short strings with a time to
live; they are not the desk's records, which live in its store.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["ChatMemory", "LocalMemory", "RedisMemory"]


class ChatMemory(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...

    async def delete(self, key: str) -> None: ...


class LocalMemory:
    """In this process, the `size` most recently written keys (the single-process desk)."""

    def __init__(self, size: int = 50_000) -> None:
        self._values: OrderedDict[str, str] = OrderedDict()
        self._size = size

    async def get(self, key: str) -> str | None:
        return self._values.get(key)

    async def set(self, key: str, value: str) -> None:
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self._size:
            self._values.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)


class RedisMemory:
    """In Redis under `prefix`, each value kept `ttl` seconds after it was written."""

    def __init__(self, redis: Redis, prefix: str, ttl: float = 7 * 24 * 3600) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl_ms = int(ttl * 1000)

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str) -> None:
        await self._redis.set(self._prefix + key, value, px=self._ttl_ms)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
