"""Telegram channel under load: N simulated customers complete an intake at the same time.

The real bot (aiogram, real HTTP, long polling) runs against the project's Bot API test server
(tests/servers/botapi.py) with the real desk (SQLite in a temporary dir). For comparison, a minimal
echo bot answers the same number of updates on the same server. Each run is a separate process so
that the peak RSS figures are its own.

    python benchmarks/telegram_load.py [--customers 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers.botapi import BotApiServer  # noqa: E402

TOKEN = "424242:benchmark"
PASTE = (
    "После обновления до 24.1.3 на сайте shop{n}.example.ru корзина выдаёт ошибку 500 при "
    "оформлении заказа. Редакция Бизнес, купон AB12-CD34-EF56, почта client{n}@example.ru"
)
STEPS = "1. Добавить товар в корзину 2. Нажать «Оформить заказ»"
ECHO_MESSAGES = 6
TICKET = re.compile(r"WAS-\d{6}")


class Meter:
    """Latency of each customer action: from the update to the bot's first message back."""

    def __init__(self, server: BotApiServer) -> None:
        self.sent_at: dict[int, list[float]] = {}
        self.latencies: list[float] = []
        server.request_hooks.append(self._on_request)

    def _on_request(self, method: str, params: dict[str, Any]) -> None:
        if method == "sendmessage":
            self.sent_at.setdefault(int(params["chat_id"]), []).append(time.perf_counter())

    def mark(self, chat_id: int, since: float) -> None:
        first = next((t for t in self.sent_at.get(chat_id, []) if t >= since), None)
        if first is not None:
            self.latencies.append(first - since)


async def _step(server: BotApiServer, meter: Meter, user: int, count: int, action: Any) -> list:
    since = time.perf_counter()
    action()
    messages = await server.wait_bot_messages(user, count=count, timeout=300)
    meter.mark(user, since)
    return messages


async def desk_customer(server: BotApiServer, meter: Meter, user: int) -> tuple[bool, int]:
    """One customer: /start, paste, steps, answers to clarifications, Send. (filed, errors)."""
    from bot.intake import texts

    await _step(server, meter, user, 2, lambda: server.user_command(user, "/start"))
    await _step(server, meter, user, 1, lambda: server.user_text(user, PASTE.format(n=user)))
    [reply] = await _step(server, meter, user, 1, lambda: server.user_text(user, STEPS))
    answers = [
        texts.category_name("error", "ru"),
        texts.choice_label("no", "ru"),
        texts.choice_label("skip", "ru"),
        texts.choice_label("send", "ru"),
    ]
    errors = 0
    label = texts.choice_label("send", "ru")
    for _ in range(8):
        if TICKET.search(reply.get("text", "")):
            return True, errors
        if reply.get("text", "").startswith("Что-то пошло не так"):
            errors += 1  # the keyboard stays on a failure: type the label instead
            [reply] = await _step(
                server, meter, user, 1, lambda label=label: server.user_text(user, label)
            )
            continue
        buttons = dict(server.buttons(reply))
        label = next((a for a in answers if a in buttons), None)
        if label is None:
            return False, errors
        message_id = reply["message_id"]
        data = buttons[label]
        [reply] = await _step(
            server,
            meter,
            user,
            1,
            lambda message_id=message_id, data=data: server.user_click(user, message_id, data),
        )
    return False, errors


async def echo_customer(server: BotApiServer, meter: Meter, user: int) -> tuple[bool, int]:
    for i in range(ECHO_MESSAGES):
        await _step(server, meter, user, 1, lambda i=i: server.user_text(user, f"echo {i}"))
    return True, 0


async def run(mode: str, customers: int) -> dict[str, Any]:
    from aiogram import Dispatcher, F
    from aiogram.types import Message

    server = await BotApiServer().start()
    meter = Meter(server)
    store = None
    with tempfile.TemporaryDirectory() as tmp:
        if mode == "desk":
            from bot.app import build_desk, load_classifier
            from bot.channels.telegram import setup
            from bot.config import Settings
            from bot.policy.schedule import Schedule

            settings = Settings(_env_file=None, data_dir=Path(tmp))  # type: ignore[call-arg]
            store, desk = await build_desk(
                settings, load_classifier(), Schedule.from_settings(settings)
            )
            dp = setup(desk, token=TOKEN, data_dir=settings.data_dir, rate_burst=50)
            customer = desk_customer
        else:
            dp = Dispatcher()

            @dp.message(F.text)
            async def echo(message: Message) -> None:
                await message.answer(message.text or "")

            customer = echo_customer
        bot = server.make_bot(TOKEN)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
        await server.wait_for(lambda: bool(server.calls("getUpdates")), 60)
        start = time.perf_counter()
        results = await asyncio.gather(
            *(customer(server, meter, 10_000 + n) for n in range(customers))
        )
        elapsed = time.perf_counter() - start
        await dp.stop_polling()
        await polling
        await bot.session.close()
        if store is not None:
            await store.close()
    await server.stop()
    updates = sum(1 for name, _ in server.requests if name == "getupdates")
    delivered = server._update_ids  # noqa: SLF001 - next id tells how many were created
    lat = sorted(meter.latencies)
    return {
        "mode": mode,
        "customers": customers,
        "completed": sum(1 for ok, _ in results if ok),
        "errors_shown": sum(e for _, e in results),
        "updates": next(delivered) - 1,
        "getUpdates_calls": updates,
        "seconds": round(elapsed, 2),
        "updates_per_s": round((next(server._update_ids) - 2) / elapsed, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--mode", choices=["desk", "echo"], help="run one mode (internal)")
    args = parser.parse_args()
    if args.mode:
        logging.disable(logging.ERROR)  # failures are counted, not printed
        print(json.dumps(asyncio.run(run(args.mode, args.customers))))
        return
    results = {}
    for mode in ("desk", "echo"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--customers", str(args.customers)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[mode] = json.loads(out.strip().splitlines()[-1])
    keys = [
        "completed",
        "errors_shown",
        "updates",
        "seconds",
        "updates_per_s",
        "p50_ms",
        "p99_ms",
        "peak_rss_mb",
    ]
    print(f"{'':16}{'desk':>12}{'echo':>12}{'desk/echo':>12}")
    for key in keys:
        d, e = results["desk"][key], results["echo"][key]
        ratio = f"{d / e:.2f}" if isinstance(e, int | float) and e else "-"
        print(f"{key:16}{d:>12}{e:>12}{ratio:>12}")


if __name__ == "__main__":
    main()
