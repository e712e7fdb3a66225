"""The desk alone, with no channel in front: N customers complete the Telegram intake concurrently
by calling `Desk.handle` directly (consent, paste, steps, the answers to clarifications, Send, the
e-mailed code), with the real app: SQLite, classifier, guard, outbox writing .eml files.

It tells what the desk itself costs per update, apart from aiogram and HTTP
(benchmarks/telegram_load.py measures the whole bot).

    python benchmarks/desk.py [--customers 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.telegram_load import PASTE, STEPS, Mailbox  # noqa: E402
from bot.app import App, build_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.intake.events import ChoiceEvent, CommandEvent, Event, Reply, TextEvent  # noqa: E402

CHANNEL = "telegram"
ANSWERS = ("error", "no", "skip", "send")  # category, not split, skip the questions, send
TICKET = re.compile(r"WAS-\d{6}")


async def customer(app: App, mailbox: Mailbox, user: int, counts: list[int]) -> bool:
    desk = app.desk

    async def say(event: Event) -> list[Reply]:
        counts[0] += 1
        return list(await desk.handle(CHANNEL, str(user), event, lang_hint="ru"))

    await say(CommandEvent("start"))
    await say(ChoiceEvent("consent_yes"))
    await say(TextEvent(PASTE.format(n=user)))
    replies = await say(TextEvent(STEPS))
    for _ in range(10):
        if any(r.text.startswith("Отправил код") for r in replies):
            code = await mailbox.code_for(f"client{user}@example.ru")
            replies = await say(TextEvent(code))
            return any(TICKET.search(r.text) for r in replies)
        values = {o.value for r in replies for o in r.options}
        answer = next((a for a in ANSWERS if a in values), None)
        if answer is None:
            break
        replies = await say(ChoiceEvent(answer))
    print(f"customer {user} stuck at {[r.text[:120] for r in replies]}", file=sys.stderr)
    return False


async def run(customers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"FRONTDESK_DATA_DIR": tmp}
        os.environ.update(env)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        app = await build_app(settings)
        mailbox = Mailbox(Path(tmp) / "outbox")
        watching = asyncio.create_task(mailbox.watch())
        counts = [0]
        cpu, start = time.process_time(), time.perf_counter()
        results = await asyncio.gather(
            *(customer(app, mailbox, 10_000 + n, counts) for n in range(customers))
        )
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        watching.cancel()
        await app.drain_outbox(30)
        await app.close()
    updates = counts[0]
    print(f"customers {customers}, completed {sum(results)}, updates {updates}")
    print(f"wall {wall:.2f} s, process CPU {cpu:.2f} s (incl. the mailbox scanner)")
    per_update, per_customer = cpu / updates * 1000, cpu / customers * 1000
    print(f"CPU per update {per_update:.3f} ms, per customer {per_customer:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=500)
    asyncio.run(run(parser.parse_args().customers))


if __name__ == "__main__":
    main()
