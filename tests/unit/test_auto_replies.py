"""The hourly limit on automatic replies to one sender (RFC 3834 §2), applied by the desk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.desk import Desk
from bot.intake.machine import IntakeContext
from bot.policy.auto_replies import AutoReply, AutoReplyQuota, held_back_over_limit, sender_key
from bot.policy.limits import GUIDED_REPLIES_HOUR, Limits, Rule
from bot.tickets.model import Classification
from bot.tickets.render import OutboundMessage, render_customer_reply
from bot.tickets.store import Store

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SETTINGS = Settings(_env_file=None, from_address="frontdesk@whatasoft.test")  # type: ignore[call-arg]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "desk.sqlite3")
    yield opened
    await opened.close()


@pytest.fixture
async def quota(store: Store) -> AutoReplyQuota:
    return AutoReplyQuota(
        await Limits.open(store, {GUIDED_REPLIES_HOUR: Rule(2, timedelta(hours=1))})
    )


def test_only_news_the_customer_waits_for_goes_past_the_limit() -> None:
    always = {k for k in AutoReply if not held_back_over_limit(k)}
    assert always == {AutoReply.CONFIRMATION, AutoReply.RELAY, AutoReply.NOTICE}
    assert sender_key("Ivan@Shop.example") == "email:ivan@shop.example"


async def test_replies_that_answer_a_message_stop_at_the_limit(quota: AutoReplyQuota) -> None:
    taken = [await quota.take(AutoReply.GUIDED, "ivan@shop.example", NOW) for _ in range(3)]
    assert taken == [True, True, False]
    assert await quota.take(AutoReply.GUIDED, "other@shop.example", NOW)
    # an hour later the sender has a slot again
    assert await quota.take(AutoReply.UNPROVEN, "ivan@shop.example", NOW + timedelta(hours=1))


async def test_news_always_goes_and_still_counts(quota: AutoReplyQuota) -> None:
    for _ in range(3):
        assert await quota.take(AutoReply.CONFIRMATION, "ivan@shop.example", NOW)
    assert not await quota.take(AutoReply.GUIDED, "ivan@shop.example", NOW)


async def test_a_reply_given_back_frees_its_slot(quota: AutoReplyQuota) -> None:
    for _ in range(2):
        assert await quota.take(AutoReply.GUIDED, "ivan@shop.example", NOW)
    await quota.give_back("ivan@shop.example", NOW)
    assert await quota.take(AutoReply.GUIDED, "ivan@shop.example", NOW)


async def test_earlier_replies_of_the_last_hour_are_counted(quota: AutoReplyQuota) -> None:
    earlier = [
        ("ivan@shop.example", NOW - timedelta(minutes=5)),
        ("ivan@shop.example", NOW - timedelta(days=1)),
    ]
    await quota.count_earlier(earlier, NOW)
    assert await quota.take(AutoReply.GUIDED, "ivan@shop.example", NOW)
    assert not await quota.take(AutoReply.GUIDED, "ivan@shop.example", NOW)


# --- the desk queues a channel's replies within the limit --------------------------------------


def reply_to(address: str) -> OutboundMessage:
    return render_customer_reply(address, "Re: Корзина", "Текст", SETTINGS, now=NOW)


def bare_context() -> IntakeContext:
    return IntakeContext(
        channel="",
        coupon_pattern=SETTINGS.coupon_pattern,
        classify=lambda text: Classification("error", True, "3.4.1.1", False, 0.9),
        status_text=lambda now, lang: "",
        working_hours=lambda now: (True, None),
    )


def refuse_to_render(*args: object) -> OutboundMessage:
    raise AssertionError("no ticket is filed here")


async def test_the_desk_queues_a_channels_reply_only_within_the_senders_limit(
    store: Store,
) -> None:
    woken: list[bool] = []
    limits = await Limits.open(store, {GUIDED_REPLIES_HOUR: Rule(1, timedelta(hours=1))})
    desk = Desk(
        store, bare_context(), refuse_to_render, refuse_to_render,
        support_address="support@whatasoft.test", wake_outbox=lambda: woken.append(True),
        clock=lambda: NOW, limits=limits,
    )  # fmt: skip
    assert await desk.send_auto_reply(
        AutoReply.GUIDED, "ivan@shop.example", reply_to("ivan@shop.example")
    )
    assert not await desk.send_auto_reply(
        AutoReply.GUIDED, "ivan@shop.example", reply_to("ivan@shop.example")
    )
    assert await desk.send_auto_reply(
        AutoReply.CONFIRMATION, "ivan@shop.example", reply_to("ivan@shop.example"), "WAS-000001"
    )
    rows = await store.due_messages(NOW + timedelta(minutes=1))
    assert [(r.kind, r.ticket_id) for r in rows] == [("reply", None), ("reply", "WAS-000001")]
    assert len(woken) == 2  # the outbox is woken for each message queued
