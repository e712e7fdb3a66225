"""Several replicas on one PostgreSQL: 1 vs 2 `frontdesk run` processes behind a webhook proxy.

Each replica is the real `frontdesk run` (its own process) with FRONTDESK_DATABASE_URL on a
throwaway PostgreSQL cluster (tests/servers/postgres.py), FRONTDESK_REDIS_URL on a private
redis-server, Telegram in webhook mode: the project's Bot API test server (tests/servers/botapi.py)
POSTs every update to a round-robin reverse proxy in front of the replicas, as nginx would. The
customers are those of benchmarks/telegram_load.py: /start, consent, the request pasted, the steps,
the clarifying buttons, Send and the code e-mailed to them (tickets and codes are .eml files in
the replicas' shared data dir: no SMTP in the measurement).

Three measurements:

1. **Sustained rate**: customers arrive evenly so that the updates come at `--rate` per second
   (100 by default: three times Telegram's sending limit for one bot) for `--seconds`, with one
   replica: updates/s achieved, p50/p99 reply latency (an update to the bot's first message back).
2. **Throughput, 1 vs 2 replicas**: `--customers` customers at once; updates/s and the ratio.
3. **Desk CPU per update vs the floor bot** (telegram_load.py's `--mode floor`: the desk's Bot API
   calls for the same updates, no desk), both in webhook mode at the sustained rate. The desk's
   figure is the replica process's own CPU: what PostgreSQL and Redis spend serving it is not
   counted (the floor bot uses neither).

Each run starts its processes afresh and plays 10 customers first, unmeasured (warm-up).

Everything runs on this machine: the harness (Bot API server, proxy, customers), PostgreSQL and
Redis share the cores with the replicas, so on 2 cores a second replica mostly competes for the
same CPU; the ratio printed is what this machine allows, not what two machines would.

    python benchmarks/replicas.py [--rate 100] [--seconds 20] [--customers 200] [--quick]
    python benchmarks/replicas.py --quick --profile /tmp/replica.prof
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from telegram_load import (  # noqa: E402  (after the path set-up above)
    TOKEN,
    Customer,
    Mailbox,
    Meter,
    cpu_seconds,
    desk_customer,
    floor_customer,
)

from bot import event_loop  # noqa: E402

START_TIMEOUT = 300.0  # the first start may train the classifier
HOOK = "/telegram/hook"


# ------------------------------------------------------------------ the floor bot, in webhook mode


async def serve_floor(port: int, url: str) -> None:
    """telegram_load.py's floor bot behind the same webhook path as the desk."""
    from bot.channels.telegram.app import build_bot  # noqa: I001  (first: it imports aiogram)
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    from bot.config import Settings
    from telegram_load import floor_dispatcher

    bot = build_bot(Settings(_env_file=None))
    dp = floor_dispatcher()

    async def register(bot: Any) -> None:
        await bot.set_webhook(url, allowed_updates=dp.resolve_used_update_types())

    dp.startup.register(register)
    app = web.Application()
    SimpleRequestHandler(dp, bot).register(app, path=HOOK)
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


# -------------------------------------------------------------------------------- the harness


class Bench:
    """PostgreSQL, Redis, the Bot API server and the proxy, shared by the runs."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.users = itertools.count(100_000)
        self.profile: str | None = None  # cProfile the desk replicas into FILE.<n>
        self.profiles: list[str] = []

    async def __aenter__(self) -> Bench:
        from tests.integration.test_telegram_replicas import Balancer
        from tests.servers.botapi import BotApiServer
        from tests.servers.postgres import PostgresServer, _bin_dir
        from tests.servers.redis import RedisServer, _binary

        bin_dir = _bin_dir()
        if bin_dir is None:
            raise SystemExit("PostgreSQL is not installed (scripts/test installs it)")
        self.postgres = await asyncio.to_thread(PostgresServer, bin_dir)
        self.redis = RedisServer(_binary(), self.tmp)
        self.botapi = await BotApiServer().start()
        self.balancer = Balancer()
        await self.balancer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.balancer.stop()
        await self.botapi.stop()
        self.redis.stop()
        await asyncio.to_thread(self.postgres.stop)

    async def run(self, mode: str, replicas: int, plan: dict[str, float]) -> dict[str, Any]:
        """One measurement: `replicas` desk processes (or one floor bot) on a fresh database,
        customers played as `plan` says (a rate for some seconds, or a crowd at once)."""
        from tests.servers.mail import free_port

        url = await asyncio.to_thread(self.postgres.new_database)
        data = Path(tempfile.mkdtemp(dir=self.tmp))
        hook = f"http://127.0.0.1:{self.balancer.port}{HOOK}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        processes: list[asyncio.subprocess.Process] = []
        self.balancer.upstreams.clear()
        webhooks = len(self.botapi.calls("setWebhook"))
        logs = []
        for n in range(replicas):
            port = free_port()
            env = clean | {
                "FRONTDESK_TELEGRAM_TOKEN": TOKEN,
                "FRONTDESK_TELEGRAM_API": self.botapi.base_url,
                "FRONTDESK_WEBHOOK_URL": hook,
                "FRONTDESK_WEBHOOK_HOST": "127.0.0.1",
                "FRONTDESK_WEBHOOK_PORT": str(port),
                "FRONTDESK_DATA_DIR": str(data),
                "FRONTDESK_DATABASE_URL": url,
                "FRONTDESK_REDIS_URL": self.redis.url,
                "PYTHONUNBUFFERED": "1",
            }
            if mode == "desk":
                command = [sys.executable, "-m", "bot", "run"]
                if self.profile:  # written when the replica exits (SIGTERM stops it cleanly)
                    profile = f"{self.profile}.{len(self.profiles)}"
                    self.profiles.append(profile)
                    command[1:1] = ["-m", "cProfile", "-o", profile]
            else:
                command = [sys.executable, __file__, "--serve-floor", str(port), hook]
            logs.append((data / f"replica{n}.log").open("wb"))
            processes.append(
                await asyncio.create_subprocess_exec(
                    *command,
                    env=env,
                    cwd=ROOT,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=logs[-1],
                    stderr=logs[-1],
                )  # fmt: skip
            )
            self.balancer.upstreams.append(f"http://127.0.0.1:{port}")
        try:
            await self.botapi.wait_for(
                lambda: len(self.botapi.calls("setWebhook")) >= webhooks + replicas, START_TIMEOUT
            )
            return await self._play(mode, processes, data, plan)
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(process.wait(), 60)
                    except TimeoutError:
                        process.kill()
                        await process.wait()
            for log in logs:
                log.close()

    async def _play(
        self,
        mode: str,
        processes: list[asyncio.subprocess.Process],
        data: Path,
        plan: dict[str, float],
    ) -> dict[str, Any]:
        server = self.botapi
        mailbox = Mailbox(data / "outbox")
        watching = asyncio.create_task(mailbox.watch())
        play = desk_customer if mode == "desk" else floor_customer
        users = self.users  # new chats for every run: Redis keeps the last run's
        # Warm-up, not measured: the first updates of a fresh process build aiogram's types, fill
        # the classifier's caches and the database's plans.
        warm = Meter(server)
        await asyncio.gather(
            *(play(Customer(server, warm, mailbox, next(users))) for _ in range(10))
        )
        server.request_hooks.remove(warm._on_request)
        meter = Meter(server)
        cpu_before = [cpu_seconds(p.pid) for p in processes]
        harness_before = time.process_time()
        start = time.perf_counter()
        in_window = 0
        if "customers" in plan:  # a crowd at once
            results = await asyncio.gather(
                *(play(Customer(server, meter, mailbox, next(users)))
                  for _ in range(int(plan["customers"])))
            )  # fmt: skip
        else:  # customers arriving evenly for `seconds`, each sending `per_customer` updates
            count = int(plan["seconds"] * plan["rate"] / plan["per_customer"])
            every = plan["per_customer"] / plan["rate"]
            tasks = []
            for n in range(count):
                await asyncio.sleep(max(0.0, start + n * every - time.perf_counter()))
                tasks.append(
                    asyncio.create_task(play(Customer(server, meter, mailbox, next(users))))
                )
            await asyncio.sleep(max(0.0, start + plan["seconds"] - time.perf_counter()))
            in_window = meter.updates  # sent while customers kept arriving
            results = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        cpu = sum(cpu_seconds(p.pid) - b for p, b in zip(processes, cpu_before, strict=True))
        harness = time.process_time() - harness_before
        watching.cancel()
        lat = sorted(meter.latencies)
        return {
            "completed": sum(1 for ok, _ in results if ok),
            "customers": len(results),
            "errors_shown": sum(e for _, e in results),
            "updates": meter.updates,
            "seconds": round(elapsed, 2),
            # The rate while customers kept arriving (sustained), or over the whole run (crowd).
            "updates_per_s": round(
                in_window / plan["seconds"] if in_window else meter.updates / elapsed, 1
            ),
            "p50_ms": round(statistics.median(lat) * 1000, 1),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
            "cpu_ms_per_update": round(cpu / meter.updates * 1000, 3),
            "harness_cpu_s": round(harness, 2),
        }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    # The proxy logs a traceback for each update POSTed while a replica is starting (Telegram's
    # side retries it): not a figure.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    results: dict[str, Any] = {}
    # Updates one customer sends: the desk's (telegram_load.py's paste-everything customer)
    # and the floor bot's (the same messages and presses, as that bot asks them).
    sustained = {"rate": args.rate, "seconds": args.seconds, "per_customer": 6.0}
    with tempfile.TemporaryDirectory(prefix="frontdesk-replicas-") as tmp:
        os.chmod(tmp, 0o755)
        async with Bench(Path(tmp)) as bench:
            bench.profile = args.profile
            results["sustained, 1 replica"] = await bench.run("desk", 1, sustained)
            floor = sustained | {"per_customer": 8.0}
            results["floor bot, same rate"] = await bench.run("floor", 1, floor)
            crowd = {"customers": args.customers}
            results["crowd, 1 replica"] = await bench.run("desk", 1, crowd)
            results["crowd, 2 replicas"] = await bench.run("desk", 2, crowd)
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    keys = list(next(iter(results.values())))
    print(f"{'':22}" + "".join(f"{k:>24}" for k in results))
    for key in keys:
        print(f"{key:22}" + "".join(f"{r[key]:>24}" for r in results.values()))
    one, two = results["crowd, 1 replica"], results["crowd, 2 replicas"]
    steady, floor = results["sustained, 1 replica"], results["floor bot, same rate"]
    print(
        f"\nscaling, 2 replicas / 1: {two['updates_per_s'] / one['updates_per_s']:.2f}x "
        f"(target >= 1.7x when the CPU is not shared; this machine has {os.cpu_count()} cores "
        "for the replicas, PostgreSQL, Redis and the harness together)"
    )
    print(
        f"at {args.rate:g} updates/s for {args.seconds:g} s, one replica: achieved "
        f"{steady['updates_per_s']} updates/s, p50 {steady['p50_ms']} ms, p99 "
        f"{steady['p99_ms']} ms (target p99 < 250 ms)"
    )
    print(
        f"desk CPU per update / floor bot's: {steady['cpu_ms_per_update']} ms / "
        f"{floor['cpu_ms_per_update']} ms = "
        f"{steady['cpu_ms_per_update'] / floor['cpu_ms_per_update']:.2f}x (target <= 1.5x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0, help="updates/s of the sustained run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the sustained run")
    parser.add_argument("--customers", type=int, default=200, help="customers at once (crowd)")
    parser.add_argument(
        "--quick", action="store_true", help="short runs (8 s, 60 customers): well under a minute"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--profile", help="cProfile each desk replica into FILE.<n> (the figures are then slower)"
    )
    parser.add_argument("--serve-floor", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        # On the desk's own event loop: the comparison is of the work, not of the loops.
        event_loop.run(serve_floor(int(args.serve_floor[0]), args.serve_floor[1]))
        return
    if args.quick:
        args.seconds, args.customers = 8.0, 60
    results = asyncio.run(measure(args))
    report(results, args)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
