"""Telegram channel under load: N simulated customers complete an intake at the same time.

The bot runs in its own process, exactly as in production: aiogram long-polls the project's Bot
API test server (tests/servers/botapi.py) over real HTTP on 127.0.0.1, with the real desk (SQLite
in a temporary data dir, no SMTP: tickets become .eml files in `<data dir>/outbox`). This process
holds only the test server and the simulated customers, so the bot's CPU time and peak RSS are
its own (read from /proc/<pid>; the harness's CPU time is shown apart). For comparison a minimal
echo bot, also in its own process, answers the same number of customers on the same server, and
a "floor" bot makes exactly the desk's Bot API calls for the same updates with no desk behind it
(what any intake with buttons pays on aiogram before doing any work).

Customers of the two scenarios send a different number of updates, so the comparison that
matters is per update: wall time per update and bot CPU time per update, desk / echo.

    python benchmarks/telegram_load.py [--customers 500] [--mode desk|floor|echo]
    python benchmarks/telegram_load.py --customers 200 --mode desk --profile /tmp/desk.prof

`--profile` runs the bot process under cProfile (the figures are then slower, not comparable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from tests.servers.botapi import BotApiServer

TOKEN = "424242:benchmark"
PASTE = (
    "После обновления до 24.1.3 на сайте shop{n}.example.ru корзина выдаёт ошибку 500 при "
    "оформлении заказа. Редакция Бизнес, купон AB12-CD34-EF56, почта client{n}@example.ru"
)
STEPS = "1. Добавить товар в корзину 2. Нажать «Оформить заказ»"
ECHO_MESSAGES = 6
FLOOR_BUTTON = "Далее"
TICKET = re.compile(r"WAS-\d{6}")
# The flood limit is per user and meant for humans; simulated customers answer in milliseconds.
RATE_BURST = 50
START_TIMEOUT = 300  # the first start may train the classifier
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MODES = ["desk", "floor", "echo"]


# ------------------------------------------------------------------------------ the bot process


async def serve(mode: str) -> None:
    """The bot under test: FRONTDESK_TELEGRAM_TOKEN / _TELEGRAM_API / _DATA_DIR from the env."""
    # Both bots import aiogram as the product does (bot/channels/telegram/lazy_types.py).
    from bot.channels.telegram.app import build_bot  # noqa: I001  (first: it imports aiogram)
    from aiogram import Dispatcher, F
    from aiogram.types import Message

    from bot.config import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.telegram_token is not None
    # As bot/__main__.py sets it up for the channels (that module imports the whole desk).
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    app = None
    if mode == "desk":
        from bot.app import build_app
        from bot.channels.telegram import setup

        app = await build_app(settings)
        dp = setup(
            app.desk,
            token=settings.telegram_token.get_secret_value(),
            data_dir=settings.data_dir,
            rate_burst=RATE_BURST,
        )
    elif mode == "floor":
        dp = floor_dispatcher()
    else:
        dp = Dispatcher()

        @dp.message(F.text)
        async def echo(message: Message) -> None:
            await message.answer(message.text or "")

    bot = build_bot(settings)
    stopping: list[asyncio.Task[None]] = []
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, lambda: stopping.append(asyncio.create_task(dp.stop_polling()))
    )
    try:
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(
            bot, handle_signals=False, allowed_updates=dp.resolve_used_update_types()
        )
    finally:
        await asyncio.gather(*stopping)
        await bot.session.close()
        if app is not None:
            await app.drain_outbox(10)
            await app.close()


def floor_dispatcher() -> Any:
    """The desk's Telegram traffic with no desk behind it: every text is answered with a message
    carrying a button; a press is answered, its keyboard removed and the next message sent: the
    same Bot API calls, per update, as the desk makes (bot/channels/telegram/handlers/intake.py).
    Its cost is the floor any intake on aiogram pays for this conversation."""
    from aiogram import Dispatcher, F
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    dp = Dispatcher()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=FLOOR_BUTTON, callback_data="next")]]
    )

    @dp.message(F.text)
    async def on_text(message: Message) -> None:
        await message.answer(f"re: {message.text}"[:200], reply_markup=markup)

    @dp.callback_query()
    async def on_button(query: CallbackQuery) -> None:
        await query.answer()
        assert query.message is not None and query.bot is not None
        await query.bot.send_message(query.message.chat.id, "next?", reply_markup=markup)
        await query.bot.edit_message_reply_markup(
            chat_id=query.message.chat.id, message_id=query.message.message_id, reply_markup=None
        )

    return dp


def serve_main(mode: str, profile: str | None) -> None:
    if profile is None:
        asyncio.run(serve(mode))
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(serve(mode))
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


# --------------------------------------------------------------------------- the customers' side


def _proc_status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM)."""
    return int(_proc_status(pid)["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int, *, system_only: bool = False) -> float:
    """User + system (or system only) CPU time of the process so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (stime if system_only else utime + stime) / CLOCK_TICKS


class Meter:
    """Updates sent, and the latency of each: from the update to the bot's first message back."""

    def __init__(self, server: BotApiServer) -> None:
        self.sent_at: dict[int, list[float]] = {}
        self.latencies: list[float] = []
        self.updates = 0
        server.request_hooks.append(self._on_request)

    def _on_request(self, method: str, params: dict[str, Any]) -> None:
        if method == "sendmessage":
            self.sent_at.setdefault(int(params["chat_id"]), []).append(time.perf_counter())

    def mark(self, chat_id: int, since: float) -> None:
        first = next((t for t in self.sent_at.get(chat_id, []) if t >= since), None)
        if first is not None:
            self.latencies.append(first - since)


class Mailbox:
    """The customers' mailboxes: the verification codes the bot wrote to its .eml outbox."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.codes: dict[str, str] = {}
        self.other = 0  # tickets and everything else that is not a code
        self._seen: set[str] = set()
        self._arrived: dict[str, asyncio.Event] = {}

    def scan(self) -> None:
        from email import message_from_bytes, policy

        names: list[str] = []
        with contextlib.suppress(FileNotFoundError), os.scandir(self.folder) as entries:
            names = [e.name for e in entries if e.name.endswith(".eml") and e.name[0] != "."]
        for name in names:
            if name in self._seen:
                continue
            self._seen.add(name)
            message = message_from_bytes((self.folder / name).read_bytes(), policy=policy.default)
            code = re.search(r"\b(\d{6})\b", message.get_body().get_content())  # type: ignore[union-attr]
            if message["X-Frontdesk-Kind"] != "verification_code" or code is None:
                self.other += 1
                continue
            address = str(message["To"]).strip().lower()
            self.codes[address] = code.group(1)
            self._arrived.setdefault(address, asyncio.Event()).set()

    async def watch(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.02)

    async def code_for(self, address: str, timeout: float = 120) -> str:  # noqa: ASYNC109
        arrived = self._arrived.setdefault(address, asyncio.Event())
        await asyncio.wait_for(arrived.wait(), timeout)
        arrived.clear()
        return self.codes.pop(address)


class Customer:
    """One simulated customer: sends updates, reads what the bot answers."""

    def __init__(self, server: BotApiServer, meter: Meter, mailbox: Mailbox, user: int) -> None:
        self.server, self.meter, self.mailbox, self.user = server, meter, mailbox, user

    async def step(self, action: Any, until: Any = 1) -> list[dict[str, Any]]:
        """Send one update; return the bot's messages once `until` (a count, or a predicate on
        the messages so far) is satisfied."""
        since = time.perf_counter()
        action()
        self.meter.updates += 1
        messages: list[dict[str, Any]] = []
        while True:
            messages += await self.server.wait_bot_messages(self.user, count=1, timeout=300)
            if len(messages) == 1:
                self.meter.mark(self.user, since)
            if until(messages) if callable(until) else len(messages) >= until:
                return messages

    def text(self, text: str, until: Any = 1) -> Any:
        return self.step(lambda: self.server.user_text(self.user, text), until)

    def click(self, message: dict[str, Any], label: str, until: Any = 1) -> Any:
        data = dict(self.server.buttons(message))[label]
        return self.step(
            lambda: self.server.user_click(self.user, message["message_id"], data), until
        )


def _has_ticket(messages: list[dict[str, Any]], times: int = 1) -> bool:
    return sum(bool(TICKET.search(m.get("text", ""))) for m in messages) >= times


async def desk_customer(customer: Customer) -> tuple[bool, int]:
    """/start, consent, paste, steps, answers to clarifications, Send, the e-mailed code; until
    the ticket is queued and the bot says it is filed. (filed, errors shown)."""
    from bot.identity.consent import CONSENT_BUTTONS
    from bot.intake import texts

    user = customer.user
    # The replies to one update come as one message: the greeting with the consent request, then
    # thanks, greeting and the first question.
    [ask] = await customer.step(lambda: customer.server.user_command(user, "/start"))
    await customer.click(ask, CONSENT_BUTTONS["ru"][0])
    await customer.text(PASTE.format(n=user))
    [reply] = await customer.text(STEPS)
    answers = [
        texts.category_name("error", "ru"),
        texts.choice_label("no", "ru"),
        texts.choice_label("skip", "ru"),
        texts.choice_label("send", "ru"),
    ]
    errors = 0
    label = texts.choice_label("send", "ru")
    for _ in range(10):
        text = reply.get("text", "")
        if text.startswith("Отправил код"):
            code = await customer.mailbox.code_for(f"client{user}@example.ru")
            # "verified" with "queued WAS-…" (one message), later "WAS-… filed": waits for both.
            await customer.text(code, lambda m: _has_ticket(m, 2))
            return True, errors
        if text.startswith("Что-то пошло не так"):
            errors += 1  # the keyboard stays on a failure: type the label instead
            [reply] = await customer.text(label)
            continue
        label = next((a for a in answers if a in dict(customer.server.buttons(reply))), "")
        if not label:
            break
        [reply] = await customer.click(reply, label)
    print(f"customer {user} stuck at: {reply.get('text', '')[:200]!r}", file=sys.stderr)
    return False, errors


async def floor_customer(customer: Customer) -> tuple[bool, int]:
    """The desk customer's updates, in the same order: 4 texts and 4 presses, 9 answers."""
    user = customer.user
    [ask] = await customer.step(lambda: customer.server.user_command(user, "/start"))
    [ask] = await customer.click(ask, FLOOR_BUTTON)
    await customer.text(PASTE.format(n=user))
    [ask] = await customer.text(STEPS)
    for _ in range(3):
        [ask] = await customer.click(ask, FLOOR_BUTTON)
    await customer.text("123456")
    return True, 0


async def echo_customer(customer: Customer) -> tuple[bool, int]:
    for i in range(ECHO_MESSAGES):
        await customer.text(f"echo {i}")
    return True, 0


def _log_file(path: Path) -> Any:
    return path.open("wb")


async def run(mode: str, customers: int, profile: str | None = None) -> dict[str, Any]:
    from tests.servers.botapi import BotApiServer  # not in the bot process: it imports pytest

    server = await BotApiServer().start()
    meter = Meter(server)
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        env |= {
            "FRONTDESK_TELEGRAM_TOKEN": TOKEN,
            "FRONTDESK_TELEGRAM_API": server.base_url,
            "FRONTDESK_DATA_DIR": tmp,
        }
        command = [sys.executable, __file__, "--serve", mode]
        if profile:
            command += ["--profile", profile]
        with _log_file(Path(tmp) / "bot.log") as log:
            bot = await asyncio.create_subprocess_exec(
                *command, env=env, cwd=tmp, stdin=asyncio.subprocess.DEVNULL, stderr=log
            )
            try:
                await server.wait_for(lambda: bool(server.calls("getUpdates")), START_TIMEOUT)
                mailbox = Mailbox(Path(tmp) / "outbox")
                watching = asyncio.create_task(mailbox.watch())
                cpu_before, harness_before = cpu_seconds(bot.pid), time.process_time()
                sys_before = cpu_seconds(bot.pid, system_only=True)
                start = time.perf_counter()
                play = {"desk": desk_customer, "floor": floor_customer, "echo": echo_customer}[
                    mode
                ]
                results = await asyncio.gather(
                    *(play(Customer(server, meter, mailbox, 10_000 + n)) for n in range(customers))
                )
                elapsed = time.perf_counter() - start
                cpu = cpu_seconds(bot.pid) - cpu_before
                sys_cpu = cpu_seconds(bot.pid, system_only=True) - sys_before
                harness = time.process_time() - harness_before
                rss = peak_rss_mb(bot.pid)
                watching.cancel()
                mailbox.scan()
            finally:
                if bot.returncode is None:
                    bot.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(bot.wait(), 60)
                    except TimeoutError:
                        bot.kill()
                        await bot.wait()
        log_text = (Path(tmp) / "bot.log").read_text(encoding="utf-8", errors="replace")
    await server.stop()
    lat = sorted(meter.latencies)
    return {
        "mode": mode,
        "customers": customers,
        "completed": sum(1 for ok, _ in results if ok),
        "errors_shown": sum(e for _, e in results),
        "tickets_eml": mailbox.other,
        "bot_log_errors": len(re.findall(r" (?:ERROR|CRITICAL) ", log_text)),
        "updates": meter.updates,
        "seconds": round(elapsed, 2),
        "updates_per_s": round(meter.updates / elapsed, 1),
        "ms_per_update": round(elapsed / meter.updates * 1000, 3),
        "bot_cpu_s": round(cpu, 2),
        "bot_cpu_ms_per_update": round(cpu / meter.updates * 1000, 3),
        "bot_kernel_cpu_s": round(sys_cpu, 2),
        "harness_cpu_s": round(harness, 2),
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
        "bot_peak_rss_mb": round(rss, 1),
    }


KEYS = (
    "completed",
    "errors_shown",
    "tickets_eml",
    "bot_log_errors",
    "updates",
    "seconds",
    "updates_per_s",
    "ms_per_update",
    "bot_cpu_s",
    "bot_cpu_ms_per_update",
    "bot_kernel_cpu_s",
    "harness_cpu_s",
    "p50_ms",
    "p99_ms",
    "bot_peak_rss_mb",
)


def report(results: dict[str, dict[str, Any]]) -> None:
    modes = list(results)
    versus = [m for m in modes if m != "echo"] if "echo" in modes else []
    print(
        f"{'':24}"
        + "".join(f"{m:>12}" for m in modes)
        + "".join(f"{m + '/echo':>12}" for m in versus)
    )
    for key in KEYS:
        values = {m: results[m][key] for m in modes}
        line = f"{key:24}" + "".join(f"{v:>12}" for v in values.values())
        for m in versus:
            d, e = values[m], values["echo"]
            line += f"{d / e:>12.2f}" if isinstance(e, int | float) and e else f"{'-':>12}"
        print(line)
    echo = results.get("echo")
    for m in versus:
        assert echo is not None
        mine = results[m]
        print(
            f"\nwall time per update, {m} / echo: {mine['ms_per_update']:.3f} ms / "
            f"{echo['ms_per_update']:.3f} ms = "
            f"{mine['ms_per_update'] / echo['ms_per_update']:.2f}x (target <= 1.5x)"
        )
        print(
            f"bot CPU per update, {m} / echo:   {mine['bot_cpu_ms_per_update']:.3f} ms / "
            f"{echo['bot_cpu_ms_per_update']:.3f} ms = "
            f"{mine['bot_cpu_ms_per_update'] / echo['bot_cpu_ms_per_update']:.2f}x"
        )
    if "desk" in results:
        print(f"desk bot peak RSS: {results['desk']['bot_peak_rss_mb']} MB (target < 200 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--mode", choices=MODES, help="run only this scenario")
    parser.add_argument("--profile", help="cProfile the bot into this file (.<mode> when several)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_main(args.serve, args.profile)
        return
    modes = [args.mode] if args.mode else MODES
    results = {}
    for mode in modes:
        profile = args.profile and (args.profile if args.mode else f"{args.profile}.{mode}")
        results[mode] = asyncio.run(run(mode, args.customers, profile))
    report(results)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
