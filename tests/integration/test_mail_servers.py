"""Self-test of the mail fixtures (tests/servers/mail.py): real Dovecot + aiosmtpd on 127.0.0.1."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
import pytest

from tests.servers.mail import MailServers


def _msg(subject: str, to: str = "support@whatasoft.test", cc: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "frontdesk@whatasoft.test"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@whatasoft.test>"
    msg.set_content("Привет, мир")
    return msg


async def test_plain_smtp_round_trip_and_routing(mail_servers: MailServers) -> None:
    # Given a message to support with a customer in Cc
    msg = _msg("round trip", cc="ivan@example.com")
    # When it is sent over plain SMTP
    await aiosmtplib.send(msg, hostname=mail_servers.smtp_host, port=mail_servers.smtp_port)
    # Then support and the catch-all customer mailbox each hold one copy, readable over IMAP(S)
    support = await mail_servers.fetch_all()
    assert [m["Subject"] for m in support] == ["round trip"]
    assert support[0].get_content().strip() == "Привет, мир"
    assert len(await mail_servers.fetch_all("customer", tls=True)) == 1
    assert await mail_servers.fetch_all("frontdesk") == []
    assert mail_servers.received[0].mailboxes == ["support", "customer"]


async def test_mailboxes_start_empty(mail_servers: MailServers) -> None:
    assert mail_servers.count("support") == 0
    assert await mail_servers.fetch_all() == []


async def test_starttls_auth_required(mail_servers: MailServers) -> None:
    ctx = mail_servers.client_ssl_context()
    kw = {"hostname": mail_servers.smtp_host, "port": mail_servers.smtp_starttls_port}
    # Without AUTH the server refuses
    with pytest.raises(aiosmtplib.SMTPException):
        await aiosmtplib.send(_msg("no auth"), start_tls=True, tls_context=ctx, **kw)
    # With a wrong password: 535
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as err:
        await aiosmtplib.send(
            _msg("bad"), start_tls=True, tls_context=ctx, username="frontdesk",
            password="wrong", **kw,
        )  # fmt: skip
    assert err.value.code == 535
    # With the right one it is delivered
    await aiosmtplib.send(
        _msg("good"), start_tls=True, tls_context=ctx, username="frontdesk",
        password=mail_servers.password, **kw,
    )  # fmt: skip
    await aiosmtplib.send(
        _msg("implicit tls"), hostname=mail_servers.smtp_host, port=mail_servers.smtp_tls_port,
        use_tls=True, tls_context=ctx,
    )  # fmt: skip
    assert [m["Subject"] for m in await mail_servers.fetch_all()] == ["good", "implicit tls"]


async def test_fail_next_and_outage(mail_servers: MailServers) -> None:
    kw = {"hostname": mail_servers.smtp_host, "port": mail_servers.smtp_port}
    mail_servers.fail_next(1, 451)
    mail_servers.fail_next(1, 554, "5.7.1 Rejected")
    with pytest.raises(aiosmtplib.SMTPDataError) as temp:
        await aiosmtplib.send(_msg("a"), **kw)
    assert temp.value.code == 451
    with pytest.raises(aiosmtplib.SMTPDataError) as perm:
        await aiosmtplib.send(_msg("b"), **kw)
    assert perm.value.code == 554
    mail_servers.stop_smtp()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await aiosmtplib.send(_msg("c"), **kw, timeout=5)
    mail_servers.start_smtp()
    await aiosmtplib.send(_msg("d"), **kw)
    assert [m["Subject"] for m in await mail_servers.fetch_all()] == ["d"]


async def test_deliver_and_dovecot_restart(mail_servers: MailServers) -> None:
    mail_servers.deliver(_msg("inbound", to="frontdesk@whatasoft.test"))
    mail_servers.deliver(_msg("raw").as_bytes(), user="frontdesk")
    mail_servers.restart_dovecot()
    got = await mail_servers.fetch_all("frontdesk")
    assert [m["Subject"] for m in got] == ["inbound", "raw"]
    assert mail_servers.count("frontdesk") == 2
