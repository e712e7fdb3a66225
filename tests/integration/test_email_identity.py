"""Identity in the e-mail channel: sender authentication, blocked senders, forgetting by e-mail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.email.channel import EmailChannel
from bot.intake.machine import IntakeContext
from bot.policy.blocklist import Blocklist
from tests.integration.test_email_channel import (
    COMPLETE,
    CUSTOMER,
    Env,
    body_of,
    make_desk,
    make_settings,
)

DKIM_FAIL = "mx.test; dkim=fail header.d=shop.example; spf=fail smtp.mailfrom=shop.example"
DKIM_PASS = "mx.test; dkim=pass header.d=shop.example; spf=pass smtp.mailfrom=shop.example"


@pytest.fixture
async def guarded(tmp_path: Path, context: IntakeContext) -> AsyncIterator[Env]:
    settings = make_settings(tmp_path, authserv_id="mx.test")  # the receiving server's id
    store, desk = await make_desk(settings, context, guarded=True)
    assert desk.guard is not None
    blocked = tmp_path / "blocklist.txt"
    blocked.write_text("email:spammer@bad.example\ndomain:evil.example\n", encoding="utf-8")
    desk.guard.blocklist = Blocklist(blocked)
    channel = EmailChannel(desk, settings)
    await channel.start()
    yield Env(settings, store, desk, channel)
    await channel.close()
    await store.close()


async def test_failed_sender_authentication_gets_no_ticket_and_no_reply(guarded: Env) -> None:
    out = await guarded.send(body=COMPLETE, Authentication_Results=DKIM_FAIL)
    assert out.kind == "ignored" and "Authentication" in out.reason
    assert await guarded.store.count_tickets() == 0
    assert await guarded.queued() == []


async def test_authenticated_sender_is_served(guarded: Env) -> None:
    out = await guarded.send(body=COMPLETE, Authentication_Results=DKIM_PASS)
    assert out.kind == "filed"


@pytest.mark.parametrize("sender", ["spammer@bad.example", "anyone@mail.evil.example"])
async def test_blocked_senders_are_ignored_silently(guarded: Env, sender: str) -> None:
    out = await guarded.send(body=COMPLETE, sender=sender)
    assert out.kind == "ignored" and out.reason == "blocked sender"
    assert await guarded.queued() == []


async def test_forget_by_email_needs_an_authenticated_sender(guarded: Env) -> None:
    await guarded.send(body="Не работает корзина на сайте, помогите")
    assert await guarded.desk.conversation("email", CUSTOMER) is not None
    # Unauthenticated: a fixed answer, nothing deleted
    out = await guarded.send(subject="Удалить мои данные", body="")
    assert out.kind == "ignored"
    assert await guarded.desk.conversation("email", CUSTOMER) is not None
    # Authenticated: the draft is gone
    out = await guarded.send(
        subject="Удалить мои данные", body="", Authentication_Results=DKIM_PASS
    )
    assert out.kind == "forgotten"
    assert await guarded.desk.conversation("email", CUSTOMER) is None


async def test_every_reply_says_where_the_privacy_policy_is(guarded: Env) -> None:
    out = await guarded.send(body="Не работает корзина на сайте, помогите")
    assert out.kind == "guided"
    (reply,) = await guarded.replies_to(CUSTOMER)
    body = reply.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert guarded.settings.privacy_policy_url in text and "Удалить мои данные" in text


async def test_the_channel_counts_in_the_guards_limiter(guarded: Env) -> None:
    # One Limits per desk: the automatic replies count in the guard's, not in another one
    assert guarded.desk.guard is not None
    assert await guarded.desk.auto_reply_limits() is guarded.desk.guard.limits
    kinds = [(await guarded.send(body=f"Не работает корзина, попытка {i}")).kind for i in range(6)]
    assert kinds == ["guided"] * 5 + ["rate_limited"]


async def test_forget_by_an_answer_to_the_desks_mail_about_ones_own_ticket(guarded: Env) -> None:
    filed = await guarded.send(body=COMPLETE)
    assert filed.kind == "filed" and filed.ticket_id
    [confirmation] = await guarded.replies_to(CUSTOMER)
    reply_address = str(confirmation["Reply-To"])
    # Someone else answering that address is not the customer: nothing is deleted
    out = await guarded.send(
        sender="mallory@evil.example", subject="Удалить мои данные", body="", To=reply_address
    )
    assert out.kind == "ignored"
    # The customer answering it is proven
    out = await guarded.send(subject="Удалить мои данные", body="", To=reply_address)
    assert out.kind == "forgotten"


async def test_the_guided_reply_quotes_prose_only_to_an_authenticated_sender(guarded: Env) -> None:
    await guarded.send(body="Не работает корзина на сайте, помогите", subject="a")
    await guarded.send(
        body="Не работает корзина на сайте, помогите", subject="b",
        Authentication_Results=DKIM_PASS,
    )  # fmt: skip
    first, second = (body_of(m) for m in await guarded.replies_to(CUSTOMER))
    assert "Не работает корзина" not in first and "получено" in first
    assert "Описание проблемы: Не работает корзина на сайте, помогите" in second
