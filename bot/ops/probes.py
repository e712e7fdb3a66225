"""Readiness probes: can the desk reach what it needs right now? Each raises when it cannot.

A probe opens its own short connection instead of borrowing the desk's: the question is whether
a new message could get through now, and a probe must never disturb a delivery in flight. The
SMTP probe says hello and leaves without logging in, so it neither costs a login attempt on the
operator's mail server nor needs the password.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable

import aiosmtplib
from redis.asyncio import Redis

from bot.config import TlsMode

__all__ = ["Probe", "redis_probe", "smtp_probe"]

# Raises (anything) when the dependency cannot be reached; what it returns does not matter.
Probe = Callable[[], Awaitable[object]]


def redis_probe(url: str, *, timeout: float = 3.0) -> Probe:
    """PING on a fresh connection to `url` (FRONTDESK_REDIS_URL)."""

    async def probe() -> None:
        client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            if not await client.ping():
                raise ConnectionError("Redis did not answer PING")
        finally:
            await client.aclose()

    return probe


def smtp_probe(
    host: str,
    port: int | None,
    tls: TlsMode,
    *,
    tls_context: ssl.SSLContext | None = None,
    timeout: float = 5.0,
) -> Probe:
    """The server's greeting, EHLO and (in `starttls` mode) the TLS handshake, as the outbox
    would connect (bot/mail/transport.py), then QUIT."""

    async def probe() -> None:
        client = aiosmtplib.SMTP(
            hostname=host,
            port=port,
            use_tls=tls == "tls",
            start_tls=tls == "starttls",
            tls_context=tls_context,
            timeout=timeout,
        )
        try:
            await client.connect()
            await client.quit()
        finally:
            client.close()

    return probe
