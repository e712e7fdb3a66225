"""Token buckets in Redis: one flood limit per customer whichever replica their updates reach.

A bucket holds up to `burst` tokens and refills at `rate` per second; each update takes one.
The whole step (refill by the time elapsed, take, remember whether the customer was warned) is
one Lua script on Redis's own clock, so replicas with skewed clocks agree and two updates that
arrive at once on two replicas cannot both take the last token. An idle bucket expires once it
would be full again: nothing is kept for customers who stopped writing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisBuckets"]

# KEYS: the bucket (a hash); ARGV: burst, rate per second. Returns {allowed, warn now}: the first
# refused update of a flood is the one to warn about, and warning again waits until the bucket
# is half full.
_TAKE = """
local t = redis.call('time')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('hmget', KEYS[1], 'tokens', 'updated', 'warned')
local tokens = tonumber(b[1]) or burst
local updated = tonumber(b[2]) or now
local warned = b[3] == '1'
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local allowed, warn = 0, 0
if tokens >= 1 then
    tokens = tokens - 1
    allowed = 1
    if tokens >= burst / 2 then
        warned = false
    end
elseif not warned then
    warn = 1
    warned = true
end
redis.call('hset', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now),
           'warned', warned and '1' or '0')
redis.call('pexpire', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, warn}
"""


class RedisBuckets:
    """Flood buckets shared by the replicas, under `prefix` + the customer's key."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._prefix = prefix
        self._take = redis.register_script(_TAKE)

    async def take(self, key: str, burst: int, rate: float) -> tuple[bool, bool]:
        """(allowed, warn now) for one more update of `key`."""
        allowed, warn = await self._take(keys=[self._prefix + key], args=[burst, rate])
        return bool(allowed), bool(warn)
