"""Leases, per-chat mutexes and leader election on a real redis-server (bot/replicas/).

Each "replica" here has a Redis client of its own, as separate processes would; one test kills a
real leader process with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.replicas.buckets import RedisBuckets
from bot.replicas.leader import Leadership
from bot.replicas.locks import LockTimeout, RedisLease, RedisLocks, connect
from bot.replicas.memory import RedisMemory
from tests.helpers import wait_until
from tests.servers.redis import RedisServer

ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture
async def clients(redis_url: str) -> AsyncIterator[list[Any]]:
    """Three independent clients (three replicas); the keys of the test are removed after."""
    made = [connect(redis_url) for _ in range(3)]
    try:
        yield made
    finally:
        keys = await made[0].keys("test:*")
        if keys:
            await made[0].delete(*keys)
        for client in made:
            await client.aclose()


async def test_a_lease_is_only_its_holders_to_renew_or_release(clients: list[Any]) -> None:
    first = RedisLease(clients[0], "test:lease", ttl=0.3)
    second = RedisLease(clients[1], "test:lease", ttl=0.3)
    assert await first.acquire()
    assert not await second.acquire()
    assert not await second.renew()
    assert not await second.release()  # the compare-and-delete leaves the holder's key alone
    assert await clients[2].get("test:lease") == first.token
    assert await first.renew()
    # Given the holder stops renewing, When its TTL passes, Then the other takes the lease, and
    # the stalled holder can neither renew nor delete it any more.
    await wait_until(second.acquire, within=5)
    assert not await first.renew()
    assert not await first.release()
    assert await clients[2].get("test:lease") == second.token
    assert await second.release()
    assert await clients[2].get("test:lease") is None


async def test_one_chat_is_handled_by_one_replica_at_a_time(clients: list[Any]) -> None:
    """Two replicas, 20 updates of one chat at once: a read-modify-write of the chat's value
    never interleaves (no update lost), and at most one body runs at any moment."""
    replicas = [RedisLocks(c, "test:lock:", ttl=1.0) for c in clients[:2]]
    inside = 0
    most = 0

    async def update(n: int) -> None:
        nonlocal inside, most
        async with replicas[n % 2].hold("telegram:42"):
            inside += 1
            most = max(most, inside)
            value = int(await clients[2].get("test:counter") or 0)
            await asyncio.sleep(0.01)  # the handler's work between reading and writing
            await clients[2].set("test:counter", value + 1)
            inside -= 1

    await asyncio.gather(*(update(n) for n in range(20)))
    assert await clients[2].get("test:counter") == "20"
    assert most == 1
    assert await clients[2].keys("test:lock:*") == []  # every lock released
    assert all(len(r.local) == 0 for r in replicas)


async def test_different_chats_run_in_parallel(clients: list[Any]) -> None:
    replicas = [RedisLocks(c, "test:lock:") for c in clients[:2]]
    both_inside = asyncio.Event()
    inside: set[str] = set()

    async def update(replica: RedisLocks, chat: str) -> None:
        async with replica.hold(chat):
            inside.add(chat)
            if len(inside) == 2:
                both_inside.set()
            await asyncio.wait_for(both_inside.wait(), 5)  # deadlocks if chats were serialised

    await asyncio.gather(update(replicas[0], "telegram:1"), update(replicas[1], "telegram:2"))


async def test_a_lock_is_renewed_while_its_holder_works(clients: list[Any]) -> None:
    """A body that runs for several TTLs keeps the lock: the other replica waits for it."""
    holder = RedisLocks(clients[0], "test:lock:", ttl=0.3)
    other = RedisLocks(clients[1], "test:lock:", ttl=0.3, wait=0.5)

    async def other_replica() -> None:  # its own task, as an update on another replica is
        with pytest.raises(LockTimeout):
            async with other.hold("telegram:7"):
                pytest.fail("two holders at once")

    async with holder.hold("telegram:7"):
        await asyncio.sleep(1.0)  # over three TTLs
        await asyncio.create_task(other_replica())
    assert holder.lost == 0
    async with other.hold("telegram:7"):
        pass


async def test_a_lock_is_given_up_even_when_it_ends_during_a_renewal(
    clients: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-py can swallow a cancellation that lands while a command is in flight: a holder
    whose body ends just as a renewal starts must still give the lock back at once (a renewer
    that ran on would keep the chat locked for good)."""
    renewing = asyncio.Event()
    renew = RedisLease.renew

    async def observed(lease: RedisLease) -> bool:
        renewing.set()
        return await renew(lease)

    monkeypatch.setattr(RedisLease, "renew", observed)
    locks = RedisLocks(clients[0], "test:lock:", ttl=0.06)  # renewed every 20 ms
    other = RedisLocks(clients[1], "test:lock:", ttl=0.06, wait=2.0)

    async def holds() -> float:
        slowest = 0.0
        for n in range(40):
            started = time.monotonic()
            async with locks.hold(f"chat:{n}", order=n):
                renewing.clear()
                await renewing.wait()
                for _ in range(n % 8):  # the body ends at a different step of the renewal
                    await asyncio.sleep(0)
            async with other.hold(f"chat:{n}", order=n):
                pass
            slowest = max(slowest, time.monotonic() - started)
        return slowest

    # Bounded without cancelling (asyncio.timeout cancels, which is what may be swallowed).
    play = asyncio.create_task(holds())
    finished, _ = await asyncio.wait({play}, timeout=20)
    if play not in finished:
        for _ in range(200):  # stop the runaway renewer: a cancellation may be swallowed again
            for task in asyncio.all_tasks():
                if task is play or task.get_name().startswith("renew test:lock:"):
                    task.cancel()
            await asyncio.sleep(0.01)
        pytest.fail("a hold did not end: its renewer ran on")
    assert play.result() < 1.0
    renewers = [t for t in asyncio.all_tasks() if t.get_name().startswith("renew test:lock:")]
    assert renewers == []


async def test_a_task_holding_a_key_takes_it_again_for_free_and_its_children_wait(
    clients: list[Any],
) -> None:
    # Given the Telegram channel's hold of a chat and the desk's of the same customer (two
    # RedisLocks objects, one prefix), in one task
    channel = RedisLocks(clients[0], "test:lock:")
    desk = RedisLocks(clients[0], "test:lock:", wait=2.0)
    events: list[str] = []

    async def child() -> None:
        async with desk.hold("telegram:1"):
            events.append("child")

    async with channel.hold("telegram:1"):
        token = await clients[1].get("test:lock:telegram:1")
        # When the desk takes the key inside: at once, and the lease is the channel's still
        began = time.monotonic()
        async with desk.hold("telegram:1"):
            assert time.monotonic() - began < 0.5
        assert await clients[1].get("test:lock:telegram:1") == token
        # and a task started inside the hold waits for the hold to end
        started = asyncio.create_task(child())
        await asyncio.sleep(0.2)
        assert events == []
        events.append("outer done")
    await asyncio.wait_for(started, 5)
    assert events == ["outer done", "child"]
    assert await clients[1].get("test:lock:telegram:1") is None


async def test_waiters_on_different_replicas_are_served_oldest_first(
    clients: list[Any],
) -> None:
    """The younger waiter started first and has polled longest: the older one still goes first."""
    holder, *waiters = (RedisLocks(c, "test:lock:") for c in clients)
    served: list[int] = []

    async def wait(replica: RedisLocks, order: int) -> None:
        async with replica.hold("telegram:9", order):
            served.append(order)

    for _ in range(3):
        served.clear()
        async with holder.hold("telegram:9", 1):
            younger = asyncio.create_task(wait(waiters[0], 7))
            await asyncio.sleep(0.2)
            older = asyncio.create_task(wait(waiters[1], 6))
            await asyncio.sleep(0.2)
        await asyncio.gather(younger, older)
        assert served == [6, 7]
    assert await clients[0].keys("test:lock:*") == []  # no lock, no queue left behind


async def test_the_place_of_a_waiter_that_died_lapses(clients: list[Any]) -> None:
    key = "test:lock:telegram:5"
    # Given an older waiter (order 1) that stood in the queue while the lock was held, and died
    await clients[0].set(key, "someone")
    ghost = RedisLease(clients[0], key, ttl=5.0)
    assert not await ghost.acquire_in_order(1, waiter_ttl=2.0)
    await clients[0].delete(key)  # the holder is done
    # Then a younger waiter is held back while the ghost's place is live
    younger = RedisLease(clients[1], key, ttl=5.0)
    assert not await younger.acquire_in_order(2)
    await younger.leave_queue()
    # And served once it has lapsed
    async with RedisLocks(clients[1], "test:lock:", wait=10).hold("telegram:5", 2):
        assert await clients[2].get(key) is not None
    assert await clients[2].keys("test:lock:*") == []


async def test_one_flood_limit_whichever_replica_an_update_reaches(clients: list[Any]) -> None:
    """Burst 3, hardly any refill: three updates pass in all, spread over two replicas; the
    first refused one is the one to warn about; another customer has a bucket of their own."""
    replicas = [RedisBuckets(c, "test:flood:") for c in clients[:2]]
    decisions = [await replicas[n % 2].take("telegram:1", 3, 0.001) for n in range(6)]
    assert decisions == [(True, False)] * 3 + [(False, True), (False, False), (False, False)]
    assert await replicas[1].take("telegram:2", 3, 0.001) == (True, False)
    # Two updates at once on two replicas cannot both take the last token
    for _ in range(2):
        await replicas[0].take("telegram:3", 3, 0.001)
    both = await asyncio.gather(*(r.take("telegram:3", 3, 0.001) for r in replicas))
    assert sorted(allowed for allowed, _ in both) == [False, True]


async def test_memory_is_shared_by_the_replicas(clients: list[Any]) -> None:
    first = RedisMemory(clients[0], "test:mem:")
    second = RedisMemory(clients[1], "test:mem:")
    await first.set("options:5", "[]")
    assert await second.get("options:5") == "[]"
    assert await second.get("options:6") is None


# ------------------------------------------------------------------------------- leadership


async def _stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_one_leader_and_a_clean_hand_over(clients: list[Any]) -> None:
    running: list[str] = []
    log: list[str] = []

    def job(name: str) -> Any:
        async def work() -> None:
            running.append(name)
            log.append(f"start {name}")
            try:
                await asyncio.Event().wait()
            finally:
                await asyncio.sleep(0.3)  # finishing the message in hand, lease still held
                running.remove(name)
                log.append(f"stop {name}")

        return work

    roles = [
        Leadership(clients[n], "test:leader", ttl=1.0, poll=0.1, name=f"r{n}") for n in range(2)
    ]
    tasks = [asyncio.create_task(r.run(job(r.name))) for r in roles]
    try:
        await wait_until(lambda: len(running) == 1, within=5)
        await asyncio.sleep(1.5)  # several renewals: still one leader
        assert len(running) == 1
        leader = next(n for n, r in enumerate(roles) if r.is_leader)
        assert [r.is_leader for r in roles].count(True) == 1
        # When the leader is stopped, Then the other starts only after its job has ended.
        await _stop(tasks[leader])
        await wait_until(lambda: len(running) == 1 and roles[1 - leader].is_leader, within=5)
        first, other = f"r{leader}", f"r{1 - leader}"
        assert log == [f"start {first}", f"stop {first}", f"start {other}"]
    finally:
        for task in tasks:
            await _stop(task)


async def test_a_job_that_ends_gives_the_lease_back(clients: list[Any]) -> None:
    async def job() -> int:
        return 42

    role = Leadership(clients[0], "test:leader", ttl=1.0, poll=0.1)
    assert await role.run(job) == 42
    assert not role.is_leader and role.terms == 1
    assert await clients[1].get("test:leader") is None  # the next one need not wait it out


async def test_a_leader_that_loses_redis_stops_its_job(private_redis: RedisServer) -> None:
    """Without renewals the leader must stop leading before its lease could have expired."""
    client = connect(private_redis.url)
    stopped = asyncio.Event()
    changes: list[bool] = []

    async def work() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    role = Leadership(client, "test:leader", ttl=1.0, poll=0.2, on_change=changes.append)
    task = asyncio.create_task(role.run(work))
    try:
        await wait_until(lambda: role.is_leader, within=5)
        private_redis.stop()
        await asyncio.wait_for(stopped.wait(), 5)
        await wait_until(lambda: not role.is_leader, within=5)
        assert changes == [True, False]
        assert not task.done()  # standing by, to lead again when Redis is back
    finally:
        await _stop(task)
        await client.aclose()


_LEADER_PROCESS = """
import asyncio, sys
from bot.replicas.buckets import RedisBuckets
from bot.replicas.leader import Leadership
from bot.replicas.locks import connect

async def main() -> None:
    role = Leadership(connect(sys.argv[1]), "test:leader", ttl=1.0, poll=0.1)
    async def job() -> None:
        print("leading", flush=True)
        await asyncio.Event().wait()
    await role.run(job)

asyncio.run(main())
"""


async def test_a_killed_leader_is_replaced_within_seconds(
    clients: list[Any], redis_url: str
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", textwrap.dedent(_LEADER_PROCESS), redis_url,
        stdout=asyncio.subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    follower = Leadership(clients[0], "test:leader", ttl=1.0, poll=0.1, name="follower")
    started = asyncio.Event()

    async def job() -> None:
        started.set()
        await asyncio.Event().wait()

    task: asyncio.Task[None] | None = None
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.strip() == b"leading"
        task = asyncio.create_task(follower.run(job))
        await asyncio.sleep(0.5)
        assert not started.is_set()  # the live leader keeps its lease
        process.send_signal(signal.SIGKILL)  # no release: the lease has to expire
        await process.wait()
        await asyncio.wait_for(started.wait(), 5)
        assert follower.is_leader
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if task is not None:
            await _stop(task)
