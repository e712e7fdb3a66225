"""Transports that hand one outbox row to the outside world: SMTP, or .eml files when SMTP is off.

They report failures with the exceptions of ``bot/mail/errors.py`` (temporary, uncertain,
permanent), which tell the outbox whether to retry, confirm or alert.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import ssl
import time
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib

from bot.address import parse_address
from bot.config import Settings
from bot.mail.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UncertainDeliveryError,
)
from bot.tickets.store import OutboxRow

log = logging.getLogger(__name__)


class Transport(Protocol):
    """Where the outbox sends rows. ``send`` returns only once the message was accepted."""

    name: str

    async def send(self, row: OutboxRow) -> None: ...

    async def was_delivered(self, row: OutboxRow) -> bool | None:
        """Whether `row` already reached its destination; None when this cannot be known."""
        ...

    async def close(self) -> None: ...


class DeliveryCheck(Protocol):
    """Looks up a Message-ID where copies of sent mail land (see ``bot/mail/confirm.py``)."""

    async def contains(self, message_id: str) -> bool: ...


# --- envelopes ---------------------------------------------------------------------------------

_header_parser = BytesHeaderParser()


def envelope_of(row: OutboxRow, copy_to: str | None = None) -> tuple[list[str], list[str]]:
    """(primary recipients, secondary: the customer's Cc + the copy address) of an outbox row.

    The recipients are the envelope the renderer decided when the row was queued (the desk's own
    data), never the message's headers. The message counts as delivered when a primary recipient
    is accepted; a refused secondary one only gets a warning. Rows queued before envelopes were
    kept fall back to the single validated address of their To header.
    """
    if row.envelope is not None:
        primary, secondary = list(row.envelope.to), list(row.envelope.cc)
    else:
        to = [a for _, a in getaddresses(_header_parser.parsebytes(row.raw).get_all("To", []))]
        primary, secondary = [a for a in to[:1] if parse_address(a)], []
    if copy_to:
        secondary.append(parseaddr(copy_to)[1] or copy_to)
    seen: set[str] = set()
    out: tuple[list[str], list[str]] = ([], [])
    for bucket, addresses in zip(out, (primary, secondary), strict=True):
        for address in addresses:
            if address.lower() not in seen:
                seen.add(address.lower())
                bucket.append(address)
    return out


def classify(exc: BaseException, stage: str) -> DeliveryError:
    """Map an aiosmtplib/OS error at `stage` ("connect", "envelope", "data") to our tree."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        text = f"SMTP authentication failed ({exc.code} {exc.message})"
        if 400 <= exc.code < 500:
            return TemporaryDeliveryError(text)
        return PermanentDeliveryError(text + ": check FRONTDESK_SMTP_USER/_PASSWORD")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"SMTP {stage} refused: {exc.code} {exc.message}"
        if 400 <= exc.code < 500:
            return TemporaryDeliveryError(text)
        return PermanentDeliveryError(text)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentDeliveryError(f"SMTP server does not support it: {exc}; check _TLS")
    if isinstance(exc, ssl.SSLCertVerificationError) or isinstance(
        exc.__cause__, ssl.SSLCertVerificationError
    ):
        return PermanentDeliveryError(f"SMTP TLS certificate not trusted: {exc}")
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "SMTP recipients refused: " + "; ".join(
            f"{r.code} {r.message}" for r in exc.recipients
        )
        if codes and all(c >= 500 for c in codes):
            return PermanentDeliveryError(text)
        return TemporaryDeliveryError(text)
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        if stage == "data":
            return UncertainDeliveryError(f"SMTP connection lost during DATA: {exc}")
        return TemporaryDeliveryError(
            f"SMTP {stage} failed: {exc}", server_down=stage == "connect"
        )
    return TemporaryDeliveryError(f"unexpected error at SMTP {stage}: {exc!r}")


# --- SMTP --------------------------------------------------------------------------------------


class SmtpTransport:
    """Sends rows over SMTP (aiosmtplib), keeping one connection open between messages.

    TLS modes: ``none``, ``starttls`` (STARTTLS is required, never skipped) and ``tls`` (implicit).
    The password is read from the ``SecretStr`` only when logging in and is never logged.

    `copy_to` adds one more envelope recipient (a Bcc, no header) to every message: a copy in the
    front desk's own mailbox is what `check` looks for to confirm an uncertain delivery.
    """

    name = "smtp"

    def __init__(
        self,
        settings: Settings,
        *,
        tls_context: ssl.SSLContext | None = None,
        copy_to: str | None = None,
        check: DeliveryCheck | None = None,
        timeout: float = 30.0,
        idle_reconnect: float = 30.0,
    ) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpTransport needs FRONTDESK_SMTP_HOST")
        self._settings = settings
        self._tls_context = tls_context
        self._copy_to = copy_to
        self._check = check
        self._timeout = timeout
        self._idle_reconnect = idle_reconnect
        self._client: aiosmtplib.SMTP | None = None
        self._last_used = 0.0
        self._sender = parseaddr(settings.from_address)[1] or settings.from_address

    def describe(self) -> str:
        s = self._settings
        user = f" as {s.smtp_user}" if s.smtp_user else ""
        return f"smtp://{s.smtp_host}:{s.smtp_port or 'default'} tls={s.smtp_tls}{user}"

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",  # never opportunistic: "none" means plain
            tls_context=self._tls_context,
            timeout=self._timeout,
        )
        try:
            await client.connect()
            if s.smtp_user:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                await client.login(s.smtp_user, password)
        except BaseException:
            client.close()
            raise
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def send(self, row: OutboxRow) -> None:
        primary, secondary = envelope_of(row, self._copy_to)
        if not primary:
            raise PermanentDeliveryError(f"message {row.message_id} has no To address")
        reused = self._client is not None and self._client.is_connected
        if reused and time.monotonic() - self._last_used > self._idle_reconnect:
            await self._drop()  # servers close idle sessions; start a fresh one
            reused = False
        try:
            await self._transaction(row, primary, secondary)
        except DeliveryError as exc:
            if not (reused and isinstance(exc, TemporaryDeliveryError) and exc.server_down):
                raise
            # The kept-alive session died before anything was sent: one fresh try is safe.
            await self._transaction(row, primary, secondary)

    async def _transaction(self, row: OutboxRow, primary: list[str], secondary: list[str]) -> None:
        stage = "connect"
        try:
            if self._client is None or not self._client.is_connected:
                await self._drop()
                self._client = await self._connect()
            client = self._client
            stage = "envelope"
            await client.mail(self._sender)
            accepted_primary = 0
            refusals: list[aiosmtplib.SMTPRecipientRefused] = []
            for address in primary + secondary:
                try:
                    await client.rcpt(address)
                    if address in primary:
                        accepted_primary += 1
                except aiosmtplib.SMTPRecipientRefused as refused:
                    refusals.append(refused)
            if not accepted_primary:
                raise aiosmtplib.SMTPRecipientsRefused(refusals)
            for refusal in refusals:
                log.warning(
                    "SMTP refused a secondary recipient of %s: %s %s",
                    row.message_id, refusal.code, refusal.message,
                )  # fmt: skip
            stage = "data"
            await client.data(row.raw)
            self._last_used = time.monotonic()
        except BaseException as exc:
            error = classify(exc, stage)
            if (
                isinstance(error, TemporaryDeliveryError)
                and stage != "connect"
                and not isinstance(error, UncertainDeliveryError)
            ):
                error.server_down = isinstance(exc, aiosmtplib.SMTPServerDisconnected)
            await self._reset_after_error(exc)
            if isinstance(exc, Exception):
                raise error from exc
            raise

    async def _reset_after_error(self, exc: BaseException) -> None:
        client = self._client
        if client is None:
            return
        if isinstance(
            exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused
        ) and (client.is_connected):
            try:
                await client.rset()
                return
            except (aiosmtplib.SMTPException, OSError):
                pass
        await self._drop()

    async def was_delivered(self, row: OutboxRow) -> bool | None:
        if self._check is None or not self._copy_to:
            return None
        return await self._check.contains(row.message_id)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()
        if client is not None:
            client.close()


# --- .eml files --------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def eml_name(row: OutboxRow) -> str:
    """``WAS-000123.eml`` for a ticket; the Message-ID's local part for anything else."""
    if row.kind == "ticket" and row.ticket_id:
        return f"{_UNSAFE.sub('_', row.ticket_id)}.eml"
    local = row.message_id.strip("<>").split("@", 1)[0]
    return f"{_UNSAFE.sub('_', local).strip('._') or f'message-{row.id}'}.eml"


class EmlTransport:
    """Writes each row as an .eml file into `outbox_dir` (when SMTP is not configured).

    Files appear atomically (written to a temporary name, fsynced, renamed), so a file that exists
    is a complete message: that is how an uncertain row is confirmed after a crash.
    """

    name = "eml"

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = outbox_dir

    def path_of(self, row: OutboxRow) -> Path:
        return self.outbox_dir / eml_name(row)

    async def send(self, row: OutboxRow) -> None:
        try:
            self._write(self.path_of(row), row.raw)
        except OSError as exc:
            raise TemporaryDeliveryError(f"cannot write {self.path_of(row)}: {exc}") from exc

    def _write(self, path: Path, raw: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    async def was_delivered(self, row: OutboxRow) -> bool | None:
        path = self.path_of(row)
        if not path.exists():
            return False
        headers = _header_parser.parsebytes(path.read_bytes())
        return str(headers.get("Message-ID", "")).strip() == row.message_id.strip()

    async def close(self) -> None:
        return None


def transport_from_settings(
    settings: Settings, *, tls_context: ssl.SSLContext | None = None
) -> Transport:
    """SMTP when configured, else .eml files; with IMAP configured, SMTP copies every message to
    the front-desk mailbox and confirms uncertain deliveries there (see ``bot/mail/outbox.py``)."""
    if not settings.smtp_enabled:
        return EmlTransport(settings.outbox_dir)
    # Imported here, not at the top: a setup without SMTP never loads the IMAP client library.
    from bot.mail.confirm import ImapDeliveryCheck

    if settings.imap_enabled:
        return SmtpTransport(
            settings,
            tls_context=tls_context,
            copy_to=settings.from_address,
            check=ImapDeliveryCheck.from_settings(settings, tls_context=tls_context),
        )
    return SmtpTransport(settings, tls_context=tls_context)
