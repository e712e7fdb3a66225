"""The operations HTTP server: /healthz, /readyz and /metrics, for the operator's tools only.

It listens on a port of its own (FRONTDESK_OPS_HOST / FRONTDESK_OPS_PORT, 127.0.0.1 by default),
never the public web form's, so that the metrics page and the readiness details are not exposed
to customers.

- /healthz: the process is alive and its event loop turns: 200 when a callback scheduled now
  runs within `HEALTHY_LOOP_LAG` seconds. (A loop blocked for good answers nothing at all: the
  caller's timeout is the verdict then, as with Docker's HEALTHCHECK.)
- /readyz: every probe (database, and Redis and SMTP when configured) answers within
  `PROBE_TIMEOUT`: 200, else 503 with a JSON body naming what failed and why. Probes run
  concurrently, so one slow dependency does not hide another.
- /metrics: bot/ops/metrics.py in Prometheus' text format; the outbox figures are read from the
  store first, so the queue shown is the queue now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from bot.clock import Clock, utc_now
from bot.ops.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.ops.probes import Probe

__all__ = ["HEALTHY_LOOP_LAG", "PROBE_TIMEOUT", "OpsServer"]

log = logging.getLogger(__name__)

HEALTHY_LOOP_LAG = 5.0  # seconds a ready callback may wait before the loop counts as stuck
PROBE_TIMEOUT = 5.0  # seconds a readiness probe gets

OutboxFigures = Callable[[], Awaitable[Mapping[str, Any]]]


class OpsServer:
    """See the module docstring. `start()` binds (port 0: a free one, read back in `port`)."""

    def __init__(
        self,
        metrics: Metrics,
        probes: Mapping[str, Probe],
        outbox_figures: OutboxFigures,
        *,
        clock: Clock = utc_now,
        probe_timeout: float = PROBE_TIMEOUT,
    ) -> None:
        self.metrics = metrics
        self.probes = dict(probes)
        self._outbox_figures = outbox_figures
        self._clock = clock
        self._probe_timeout = probe_timeout
        self._runner: web.AppRunner | None = None
        self.port = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics_page)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        log.info("ops server on http://%s:%s (/healthz /readyz /metrics)", host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # --- handlers ------------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        lag = await loop_lag()
        healthy = lag <= HEALTHY_LOOP_LAG
        body = {"status": "ok" if healthy else "event loop stuck", "loop_lag_seconds": lag}
        return web.json_response(body, status=200 if healthy else 503)

    async def readyz(self, request: web.Request) -> web.Response:
        names = list(self.probes)
        results = await asyncio.gather(*(self._run(self.probes[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        failed = {name: error for name, error in checks.items() if error != "ok"}
        if failed:
            log.warning("not ready: %s", failed)
            body: dict[str, Any] = {"status": "not ready", "failed": failed, "checks": checks}
            return web.json_response(body, status=503)
        return web.json_response({"status": "ready", "checks": checks})

    async def _run(self, probe: Probe) -> str:
        """`ok`, or what went wrong (the exception's type and text; probes never carry
        credentials in their errors: none of them logs in)."""
        try:
            await asyncio.wait_for(probe(), self._probe_timeout)
        except TimeoutError:
            return f"no answer within {self._probe_timeout:g} s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        return "ok"

    async def metrics_page(self, request: web.Request) -> web.Response:
        try:
            self.metrics.outbox_read(await self._outbox_figures(), self._clock())
        except Exception:
            # The rest of the page is still worth scraping; /readyz tells the database is gone.
            log.exception("metrics: could not read the outbox figures")
        return web.Response(
            body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


async def loop_lag() -> float:
    """Seconds a callback scheduled now waits before the event loop runs it."""
    loop = asyncio.get_running_loop()
    ran: asyncio.Future[float] = loop.create_future()
    scheduled = loop.time()

    def tick() -> None:
        if not ran.done():
            ran.set_result(loop.time() - scheduled)

    loop.call_soon(tick)
    return await ran
