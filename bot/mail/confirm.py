"""Confirm a delivery by finding its Message-ID in the front desk's own mailbox over IMAP.

The SMTP transport adds the front-desk address as an extra envelope recipient (a Bcc: no header
changes) of every message, in the same SMTP transaction as the real recipients. So "the server
accepted the ticket" and "a copy is on its way to the front-desk mailbox" are one event, and a
search for the Message-ID tells the outbox whether an uncertain send went through.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from typing import Any

import aioimaplib

from bot.config import Settings
from bot.mail.errors import TemporaryDeliveryError
from bot.mail.imap import close_client

_SAFE_ID = re.compile(r"<[^<>\s\"\\]+>")


class ImapDeliveryCheck:
    """``contains(message_id)``: is a message with that Message-ID in `mailbox`?

    Raises :class:`TemporaryDeliveryError` when the IMAP server cannot be asked: the caller must
    then neither resend nor give up, only ask again later.
    """

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        *,
        tls: bool = False,
        mailbox: str = "INBOX",
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._user = user
        self._password = password
        self._tls = tls
        self._mailbox = mailbox
        self._ssl_context = ssl_context
        self._timeout = timeout

    @classmethod
    def from_settings(
        cls, settings: Settings, *, tls_context: ssl.SSLContext | None = None
    ) -> ImapDeliveryCheck:
        if not settings.imap_host:
            raise ValueError("ImapDeliveryCheck needs FRONTDESK_IMAP_HOST")
        tls = settings.imap_tls != "none"  # aioimaplib has no STARTTLS: "starttls" means IMAPS
        return cls(
            settings.imap_host,
            settings.imap_port or (993 if tls else 143),
            settings.imap_user or settings.from_address,
            settings.imap_password.get_secret_value() if settings.imap_password else "",
            tls=tls,
            mailbox=settings.imap_mailbox,
            ssl_context=tls_context,
        )

    async def contains(self, message_id: str) -> bool:
        message_id = message_id.strip()
        if not _SAFE_ID.fullmatch(message_id):
            raise ValueError(f"not a Message-ID this desk produces: {message_id!r}")
        client: Any
        try:
            if self._tls:
                client = aioimaplib.IMAP4_SSL(
                    host=self._host, port=self._port, ssl_context=self._ssl_context,
                    timeout=self._timeout,
                )  # fmt: skip
            else:
                client = aioimaplib.IMAP4(host=self._host, port=self._port, timeout=self._timeout)
        except OSError as exc:
            raise TemporaryDeliveryError(f"IMAP connect failed: {exc}") from exc
        try:
            await client.wait_hello_from_server()
            response = await client.login(self._user, self._password)
            if response.result != "OK":
                raise TemporaryDeliveryError(f"IMAP login as {self._user} failed")
            # SELECT, not EXAMINE: aioimaplib only allows SEARCH in its SELECTED state. Nothing
            # here stores flags, so the watcher's view of the mailbox is unchanged.
            response = await client.select(self._mailbox)
            if response.result != "OK":
                raise TemporaryDeliveryError(f"IMAP select {self._mailbox} failed")
            response = await client.search("HEADER", "Message-ID", f'"{message_id}"', charset=None)
            if response.result != "OK":
                raise TemporaryDeliveryError(f"IMAP search failed: {response.lines!r}")
            return any(_numbers(line) for line in response.lines[:-1])
        except TemporaryDeliveryError:
            raise
        except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
            raise TemporaryDeliveryError(f"IMAP check failed: {exc!r}") from exc
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), self._timeout)
            close_client(client)


def _numbers(line: object) -> list[int]:
    if not isinstance(line, bytes | bytearray):
        return []
    text = bytes(line).decode("ascii", "replace")
    if text.upper().startswith("SEARCH"):
        text = text[6:]
    return [int(tok) for tok in text.split() if tok.isdigit()]
