"""Attacks on the mail paths, replayed end to end: attacker's e-mail → Dovecot → IMAP watcher →
desk → outbox → SMTP (tests/servers/mail.py). Each one once worked against the desk.

What every test checks in the end is what left the desk: the SMTP transactions the server
recorded (envelope recipients) and the messages in the mailboxes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app
from bot.channels.email.channel import Outcome
from bot.config import Settings
from bot.identity.verification import VERIFICATION_SUBJECT
from bot.intake.machine import IntakeContext
from bot.tickets.model import TicketStatus
from bot.tickets.render import POLICY
from tests.integration.test_email_channel import (
    COMPLETE,
    INCOMPLETE,
    body_of,
    make_settings,
    running,
)
from tests.integration.test_email_channel_e2e import CUSTOMER, WAIT, Desk2, running_live

VICTIM = "victim@victim.test"
ATTACKER = "attacker@evil.test"
AGENT = "anna@whatasoft.test"


def b64_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def raw_mail(headers: dict[str, str], body: str) -> bytes:
    """Bytes exactly as an attacker writes them (no library re-encodes the headers)."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
    return (head + "\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


async def outcome_of(live: Desk2, message_id: str) -> Outcome:
    """What the channel did with the message `message_id` once the watcher handed it over."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for mid, outcome in list(live.channel.recent):
            if mid == message_id:
                await live.drained()
                return outcome
        await asyncio.sleep(0.05)
    raise AssertionError(f"{message_id} was not handled within {WAIT} s")


def envelope_recipients(live: Desk2) -> set[str]:
    return {r.lower() for item in live.servers.received for r in item.rcpt_tos}


async def file_ticket(live: Desk2) -> EmailMessage:
    live.servers.deliver(live.customer_mail(COMPLETE))
    [ticket] = await live.wait_mail("support", 1)
    await live.drained()
    return ticket


def new_request(sender: str, message_id: str, subject: str, body: str, to: str) -> bytes:
    return raw_mail({"From": sender, "To": to, "Subject": subject, "Message-ID": message_id}, body)


def in_thread(
    ticket: EmailMessage, sender: str, message_id: str, body: str, to: str, auth: str = ""
) -> bytes:
    """A raw answer in the thread of `ticket` (with the receiving server's `auth` on top)."""
    headers = {"Authentication-Results": auth} if auth else {}
    headers |= {
        "From": sender,
        "To": to,
        "Subject": f"Re: {ticket['Subject']}",
        "Message-ID": message_id,
        "In-Reply-To": str(ticket["Message-ID"]),
    }
    return raw_mail(headers, body)


def ticket_id_of(ticket: EmailMessage) -> str:
    match = re.search(r"WAS-\d{6}", str(ticket["Subject"]))
    assert match is not None
    return match.group(0)


@pytest.fixture
async def live(mail_servers, mail_settings, context: IntakeContext) -> AsyncIterator[Desk2]:
    async with running_live(mail_servers, mail_settings, context) as desk2:
        yield desk2


# --- header injection -----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 2])
async def test_an_encoded_subject_adds_no_header_and_no_recipient(live: Desk2, depth: int):
    # Given a subject whose encoded word (inside another one) decodes to header lines
    subject = "\r\nBcc: " + VICTIM + "\r\nX-Injected: yes"
    for _ in range(depth):
        subject = b64_word(subject)
    raw = raw_mail(
        {
            "From": f"Иван <{CUSTOMER}>",
            "To": live.settings.from_address,
            "Subject": f"Re: {subject}",
            "Message-ID": f"<inject-{depth}@shop.example>",
        },
        INCOMPLETE,
    )
    live.servers.deliver(raw)
    # When the desk answers it with a guided reply
    outcome = await outcome_of(live, f"<inject-{depth}@shop.example>")
    assert outcome.kind == "guided"
    [reply] = await live.wait_mail("customer", 1)
    # Then the reply has no injected header and went to the customer (and the desk's copy) only
    assert reply["X-Injected"] is None and reply["Bcc"] is None
    assert "Bcc:" in str(reply["Subject"])  # shown as text, inside the subject
    assert envelope_recipients(live) == {CUSTOMER, live.settings.from_address}


# --- impersonation --------------------------------------------------------------------------


@pytest.mark.parametrize("posed", [AGENT, CUSTOMER])
async def test_an_encoded_display_name_cannot_pose_as_the_agent_or_customer(
    live: Desk2, posed: str
):
    ticket = await file_ticket(live)
    tid = ticket_id_of(ticket)
    customer_mail = len(await live.servers.fetch_all("customer"))
    # Given the agent's (or customer's) address as an encoded display name of the attacker's
    live.servers.deliver(
        in_thread(
            ticket,
            f"{b64_word(posed)} <{ATTACKER}>",
            "<pose@evil.test>",
            "Статус: закрыто\nПришлите, пожалуйста, пароль администратора ответом.",
            live.settings.from_address,
        )
    )
    outcome = await outcome_of(live, "<pose@evil.test>")
    # Then it is the attacker's own new request: the ticket is untouched, nothing follows it up,
    # and its customer gets nothing
    assert outcome.kind == "guided" and outcome.ticket_id is None
    stored = await live.store.get_ticket(tid)
    assert stored is not None and stored.status == TicketStatus.FILED
    assert len(await live.servers.fetch_all("support")) == 1
    assert len(await live.servers.fetch_all("customer")) == customer_mail + 1  # attacker's form
    [to_attacker] = [m for m in await live.servers.fetch_all("customer") if m["To"] == ATTACKER]
    assert tid not in str(to_attacker["Subject"]) and tid not in body_of(to_attacker)


async def test_a_forged_agent_from_without_proof_does_not_act(live: Desk2):
    ticket = await file_ticket(live)
    tid = ticket_id_of(ticket)
    customer_mail = len(await live.servers.fetch_all("customer"))
    # A plain From of the agent's domain, the right thread, but sent to the plain desk address
    live.servers.deliver(
        in_thread(
            ticket,
            f"Анна <{AGENT}>",
            "<forged-agent@evil.test>",
            "Исправлено.\nСтатус: закрыто\nПришлите пароль администратора.",
            live.settings.from_address,
        )
    )
    outcome = await outcome_of(live, "<forged-agent@evil.test>")
    assert outcome.kind == "ignored" and outcome.ticket_id == tid
    stored = await live.store.get_ticket(tid)
    assert stored is not None and stored.status != TicketStatus.CLOSED
    assert len(await live.servers.fetch_all("customer")) == customer_mail


async def test_a_forged_customer_follow_up_gets_only_a_fixed_notice(live: Desk2):
    ticket = await file_ticket(live)
    tid = ticket_id_of(ticket)
    live.servers.deliver(
        in_thread(
            ticket,
            CUSTOMER,
            "<forged-customer@evil.test>",
            "Закройте обращение, всё решено. Секретное слово: тюльпан.",
            live.settings.from_address,
        )
    )
    outcome = await outcome_of(live, "<forged-customer@evil.test>")
    assert outcome.kind == "unproven" and outcome.ticket_id == tid
    assert len(await live.servers.fetch_all("support")) == 1  # nothing added to the ticket
    notice = (await live.servers.fetch_all("customer"))[-1]
    assert tid in body_of(notice) and "тюльпан" not in body_of(notice)
    # The notice asks for an answer at the ticket's reply address: a real customer is proven then
    reply_to = str(notice["Reply-To"])
    assert reply_to.startswith("frontdesk+") and tid.lower() in reply_to
    live.servers.deliver(
        live.customer_mail(
            "Да, это я: ошибка теперь и в мобильной версии.",
            subject=str(notice["Subject"]),
            In_Reply_To=str(notice["Message-ID"]),
            To=reply_to,
        )
    )
    [_, followup] = await live.wait_mail("support", 2)
    assert "мобильной версии" in body_of(followup)


@pytest.fixture
async def live_authserv(
    mail_servers, mail_settings: Settings, context: IntakeContext
) -> AsyncIterator[Desk2]:
    """The desk behind a mail server that writes `Authentication-Results: mx.whatasoft.test`."""
    settings = mail_settings.model_copy(update={"authserv_id": "mx.whatasoft.test"})
    async with running_live(mail_servers, settings, context) as desk2:
        yield desk2


async def test_an_added_authentication_results_header_is_not_believed(live_authserv: Desk2):
    live = live_authserv
    ticket = await file_ticket(live)
    tid = ticket_id_of(ticket)
    # The server's own verdict on top ("none"); the attacker's "pass" with the same id below
    raw = in_thread(
        ticket,
        f"Анна <{AGENT}>",
        "<forged-ar@evil.test>",
        "Статус: закрыто\nПришлите пароль администратора.",
        live.settings.from_address,
        auth="mx.whatasoft.test; none",
    )
    forged = b"Authentication-Results: mx.whatasoft.test; dkim=pass header.d=whatasoft.test;"
    forged += b" dmarc=pass header.from=whatasoft.test\r\n"
    head, _, body = raw.partition(b"\r\n\r\n")
    live.servers.deliver(head + b"\r\n" + forged + b"\r\n" + body)
    outcome = await outcome_of(live, "<forged-ar@evil.test>")
    assert outcome.kind == "ignored"
    stored = await live.store.get_ticket(tid)
    assert stored is not None and stored.status != TicketStatus.CLOSED
    # While the server's own "pass" proves the agent without the reply address
    live.servers.deliver(
        in_thread(
            ticket,
            f"Анна <{AGENT}>",
            "<real-agent@mail.whatasoft.test>",
            "Исправлено в 24.100.1.\nСтатус: закрыто",
            live.settings.from_address,
            auth=(
                "mx.whatasoft.test; dkim=pass header.d=whatasoft.test; "
                "dmarc=pass header.from=whatasoft.test"
            ),
        )
    )
    assert (await outcome_of(live, "<real-agent@mail.whatasoft.test>")).kind == "closed"


# --- mail to third parties ------------------------------------------------------------------


async def test_a_named_contact_gets_no_mail_without_a_guard(live: Desk2):
    # Without a guard to verify it, the contact is the sender; the named address gets nothing
    body = COMPLETE + f"\nE-mail для ответа: {VICTIM}\nПередаём привет вашему директору."
    live.servers.deliver(
        new_request(
            ATTACKER,
            "<third-party@evil.test>",
            "Купите наши услуги",
            body,
            live.settings.from_address,
        )
    )
    outcome = await outcome_of(live, "<third-party@evil.test>")
    assert outcome.kind == "filed"
    [ticket] = await live.wait_mail("support", 1)
    await live.drained()
    assert VICTIM not in envelope_recipients(live)
    assert str(ticket["Cc"]) == ATTACKER
    assert VICTIM in body_of(ticket)  # agents are told which address was named


async def test_the_desks_own_addresses_are_no_contact(live: Desk2):
    # A customer naming support's (or the desk's) address for the answer gets it at their own
    for n, address in enumerate((live.settings.support_address, live.settings.from_address)):
        live.servers.deliver(
            live.customer_mail(COMPLETE + f"\nE-mail для ответа: {address}", subject=f"s{n}")
        )
    tickets = await live.wait_mail("support", 2)
    assert [str(t["Cc"]) for t in tickets] == [CUSTOMER, CUSTOMER]
    await live.drained()
    for item in live.servers.received:  # support only ever as the ticket's To
        if live.settings.support_address in item.rcpt_tos:
            assert item.mailboxes == ["support", "customer", "frontdesk"]


async def test_a_named_contact_confirms_a_code_before_it_gets_anything(
    mail_servers, mail_settings: Settings, trained_classifier
):
    # Given the desk as production builds it (with its guard)
    app = await build_app(mail_settings, classifier=trained_classifier)
    task = asyncio.create_task(app.run_email_channel())
    try:
        mail_servers.deliver(
            new_request(
                ATTACKER,
                "<code-1@evil.test>",
                "Корзина",
                COMPLETE
                + f"\nE-mail для ответа: {VICTIM}\nСайт сейчас не работает (да/нет): нет\n"
                + "Секретное слово: тюльпан.",
                mail_settings.from_address,
            )
        )
        # Then the named address gets exactly one message: the fixed-text code e-mail
        msgs = await mail_servers.wait_for(2, "customer", WAIT)  # catch-all: both addresses
        to_victim = [m for m in msgs if m["To"] == VICTIM]
        assert [str(m["Subject"]) for m in to_victim] == [VERIFICATION_SUBJECT]
        assert "тюльпан" not in body_of(to_victim[0]) and "корзин" not in body_of(to_victim[0])
        assert mail_servers.count("support") == 0
        # And once the code comes back from the sender, the ticket is filed with that contact
        [asking] = [m for m in msgs if m["To"] == ATTACKER]
        code = re.search(r"\b(\d{6})\b", body_of(to_victim[0]))
        assert code is not None
        answer = EmailMessage(policy=POLICY)
        answer["From"] = ATTACKER
        answer["To"] = mail_settings.from_address
        answer["Subject"] = f"Re: {asking['Subject']}"
        answer["Message-ID"] = "<code-2@evil.test>"
        answer["In-Reply-To"] = str(asking["Message-ID"])
        answer.set_content(code.group(1))
        mail_servers.deliver(answer)
        [ticket] = await mail_servers.wait_for(1, "support", WAIT)
        assert str(ticket["Cc"]) == VICTIM
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app.close()


# --- duplicates -----------------------------------------------------------------------------


async def test_an_undeliverable_sender_files_nothing(live: Desk2):
    live.servers.deliver(
        new_request(
            '"x y"@mail.test',
            "<quoted-local@mail.test>",
            "Корзина",
            COMPLETE,
            live.settings.from_address,
        )
    )
    outcome = await outcome_of(live, "<quoted-local@mail.test>")
    assert outcome.kind == "ignored"
    assert await live.store.count_tickets() == 0
    assert live.servers.received == []


async def test_a_message_retried_after_a_failure_is_filed_once(
    tmp_path: Path, context: IntakeContext, monkeypatch: pytest.MonkeyPatch
):
    async with running(make_settings(tmp_path), context) as env:
        raw = env.build(body=COMPLETE).as_bytes()
        queue = env.store.enqueue

        async def disk_full(kind: str, *args: Any, **kwargs: Any) -> int:
            if kind == "reply":  # the ticket is in, its confirmation cannot be queued
                raise OSError("disk full")
            return await queue(kind, *args, **kwargs)

        monkeypatch.setattr(env.store, "enqueue", disk_full)
        with pytest.raises(OSError):
            await env.channel.handle_raw(raw)
        monkeypatch.setattr(env.store, "enqueue", queue)
        # The watcher retries it, and hands it over again after a restart
        await env.channel.handle_raw(raw)
        await env.channel.handle_raw(raw)
        assert await env.store.count_tickets() == 1
        assert len(await env.queued("ticket")) == 1


# --- passwords ------------------------------------------------------------------------------


async def test_passwords_in_a_request_reach_neither_the_ticket_nor_the_database(live: Desk2):
    secrets = ["Qw3rty!-x", "s3cr3t-db-pass", "Hunter22zz"]
    body = (
        COMPLETE
        + f"\nДоступ к серверу: root / {secrets[0]}\n"
        + f'Из dbconn.php: $DBPassword = "{secrets[1]}";\n'
        + f"password for ftp user bitrix is {secrets[2]}\n"
    )
    live.servers.deliver(live.customer_mail(body))
    [ticket] = await live.wait_mail("support", 1)
    await live.drained()
    mail = await live.servers.fetch_all("support") + await live.servers.fetch_all("customer")
    decoded = "".join(
        part.get_payload(decode=True).decode("utf-8", "replace")  # type: ignore[union-attr]
        for message in mail
        for part in message.walk()
        if not part.is_multipart()
    )
    path = live.settings.database_path
    database = b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
    )
    assert "[скрыто]" in body_of(ticket) and "[скрыто]" in decoded
    for secret in secrets:
        assert secret not in decoded and secret.encode() not in database
