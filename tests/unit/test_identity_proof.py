"""The trust model: what an e-mail may do given its sender's proof (bot/identity/proof.py), and
the guard's part in it: forgetting on an e-mail's request, the code e-mail handed to the desk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.identity.authres import Verdict
from bot.identity.guard import Guard
from bot.identity.proof import (
    SenderEvidence,
    Standing,
    is_agent_address,
    is_ticket_customer,
    proves_own_ticket,
    thread_standing,
    unproven_notice,
)
from bot.identity.verification import VERIFICATION_KIND
from bot.intake.machine import new_conversation
from bot.tickets.conversations import SqliteConversations
from bot.tickets.model import Ticket
from bot.tickets.store import Store
from tests.helpers import make_ticket

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CUSTOMER = "ivan@shop.example"
AGENTS = frozenset({"whatasoft.test"})


def ticket(channel: str = "email", customer_id: str = CUSTOMER, contact: str = CUSTOMER) -> Ticket:
    return make_ticket(
        channel=channel, customer_id=customer_id, contact_email=contact, id="WAS-000001"
    )


def sender(
    address: str = CUSTOMER, verdict: Verdict = "none", replied: tuple[str, ...] = ()
) -> SenderEvidence:
    return SenderEvidence(address, verdict, replied)


@pytest.mark.parametrize(
    ("address", "is_agent", "evidence", "standing"),
    [
        # the ticket's reply address, or the server's pass, proves the sender
        ("anna@whatasoft.test", True, ("none", ("WAS-000001",)), Standing.AGENT),
        ("anna@whatasoft.test", True, ("pass", ()), Standing.AGENT),
        (CUSTOMER, False, ("none", ("WAS-000001",)), Standing.CUSTOMER),
        ("IVAN@shop.example", False, ("pass", ()), Standing.CUSTOMER),
        # a reply address of another ticket proves nothing about this one
        ("anna@whatasoft.test", True, ("none", ("WAS-000002",)), Standing.UNPROVEN_AGENT),
        (CUSTOMER, False, ("none", ()), Standing.UNPROVEN_CUSTOMER),
        # a stranger in the thread is a customer of their own, proven or not
        ("mallory@evil.example", False, ("pass", ("WAS-000001",)), Standing.NEW_CUSTOMER),
    ],
)
def test_what_a_message_in_a_tickets_thread_may_do(
    address: str, is_agent: bool, evidence: tuple[Verdict, tuple[str, ...]], standing: Standing
) -> None:
    verdict, replied = evidence
    got = thread_standing(ticket(), sender(address, verdict, replied), is_agent=is_agent)
    assert got is standing


def test_outside_any_thread_agents_are_ignored_and_others_are_new_customers() -> None:
    assert thread_standing(None, sender(), is_agent=False) is Standing.NEW_CUSTOMER
    agent = sender("anna@whatasoft.test", "pass")
    assert thread_standing(None, agent, is_agent=True) is Standing.AGENT_OUTSIDE_THREAD


def test_a_failed_authentication_refutes_the_sender() -> None:
    assert sender(verdict="fail").refuted and not sender(verdict="fail").authenticated
    assert not sender(verdict="none").refuted and sender(verdict="pass").authenticated


def test_the_customer_of_a_ticket() -> None:
    assert is_ticket_customer(ticket(), "Ivan@Shop.Example")
    # a Telegram ticket's customer is its contact address only, never its user id
    telegram = ticket("telegram", "4242", "ivan@mail.example")
    assert is_ticket_customer(telegram, "ivan@mail.example")
    assert not is_ticket_customer(telegram, "4242")
    # an e-mail ticket's sender stays its customer when they named another contact
    assert is_ticket_customer(ticket(contact="boss@shop.example"), CUSTOMER)


def test_agents_write_from_the_support_address_or_an_agents_domain() -> None:
    assert is_agent_address("Support@Helpdesk.example", "support@helpdesk.example", AGENTS)
    assert is_agent_address("Anna@WhatASoft.test", "support@helpdesk.example", AGENTS)
    assert not is_agent_address("anna@whatasoft.test.evil.example", "s@h.example", AGENTS)


def test_an_answer_about_ones_own_ticket_proves_the_sender() -> None:
    assert proves_own_ticket(sender(replied=("WAS-000001",)), [ticket()])
    assert not proves_own_ticket(sender("mallory@evil.example"), [ticket()])
    assert not proves_own_ticket(sender(), [])


def test_the_unproven_notice_is_fixed_text_with_the_ticket_id() -> None:
    ru, en = unproven_notice("WAS-000042", "ru"), unproven_notice("WAS-000042", "en")
    assert "WAS-000042" in ru and "ответьте на это сообщение" in ru
    assert "WAS-000042" in en and "reply to this message" in en
    assert unproven_notice("WAS-000042", "de") == ru


# --- the guard --------------------------------------------------------------------------------


@pytest.fixture
async def guard(tmp_path: Path) -> AsyncIterator[Guard]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "var", from_address="frontdesk@whatasoft.test"
    )
    store = await Store.open(settings.database_path)
    try:
        yield await Guard.open(settings, store)
    finally:
        await store.close()


async def test_forgetting_by_mail_needs_a_proven_sender(guard: Guard) -> None:
    conversations = SqliteConversations(guard.store)
    await conversations.save("email", CUSTOMER, new_conversation("ru").to_dict(), NOW)
    unproven = await guard.forget_on_request("email", sender(), conversations, "ru")
    assert not unproven.forgotten and "/forget" in unproven.text
    assert await conversations.load("email", CUSTOMER) is not None
    proven = await guard.forget_on_request("email", sender(verdict="pass"), conversations, "en")
    assert proven.forgotten and proven.text.startswith("Done")
    assert await conversations.load("email", CUSTOMER) is None


async def test_the_guard_hands_the_code_email_to_the_desk_instead_of_queueing_it(
    guard: Guard,
) -> None:
    # Given an e-mail customer who names another contact address
    state = new_conversation("ru")
    held = await guard.before_filing(
        "email", CUSTOMER, ticket(contact="boss@shop.example"), state, NOW
    )
    # Then filing waits for the code, the code e-mail comes back to be queued, nothing is queued
    assert held is not None and state.verify_address == "boss@shop.example"
    [mail] = held.mail
    assert mail.kind == VERIFICATION_KIND and mail.message["To"] == "boss@shop.example"
    assert await guard.store.outbox_counts() == {}
    # While the sender's own address needs no code: filing goes on
    assert await guard.before_filing("email", CUSTOMER, ticket(), state, NOW) is None
