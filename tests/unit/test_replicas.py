"""The in-process halves of bot/replicas/ (one process without Redis) and what the guard keeps
in a shared memory; the Redis halves are tested on a real server (tests/integration)."""

from __future__ import annotations

import asyncio

import pytest

from bot.identity.guard import pending_from_json, pending_to_json
from bot.intake.events import AttachmentEvent, FormEvent, TextEvent
from bot.replicas.locks import LocalLocks
from bot.replicas.memory import LocalMemory
from bot.tickets.model import AttachmentRef


async def test_local_locks_serialise_one_key_in_order_and_forget_it_after() -> None:
    locks = LocalLocks()
    order: list[str] = []

    async def update(name: str) -> None:
        async with locks.hold("telegram:1"):
            order.append(f"in {name}")
            await asyncio.sleep(0.01)
            order.append(f"out {name}")

    await asyncio.gather(update("a"), update("b"), update("c"))
    assert order == ["in a", "out a", "in b", "out b", "in c", "out c"]
    assert len(locks) == 0


async def test_local_memory_keeps_the_most_recent_keys() -> None:
    memory = LocalMemory(size=2)
    for key in ("a", "b", "c"):
        await memory.set(key, key.upper())
    assert [await memory.get(k) for k in ("a", "b", "c")] == [None, "B", "C"]
    await memory.delete("b")
    assert await memory.get("b") is None


@pytest.mark.parametrize(
    "event",
    [
        TextEvent("Сайт не работает\nс утра"),
        FormEvent("Описание: корзина"),
        AttachmentEvent(AttachmentRef("screen.png", "/data/a/screen.png", "image/png", 10)),
    ],
)
def test_a_held_event_survives_the_shared_memory(event: TextEvent | AttachmentEvent) -> None:
    again = pending_from_json(pending_to_json(event))
    assert again == event and type(again) is type(event)
