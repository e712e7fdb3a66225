"""Why a message was not (or not certainly) delivered; what the outbox does with each.

Exception tree::

    DeliveryError
     ├── TemporaryDeliveryError     4xx reply, connection refused/lost, timeout: retry, backoff
     │    └── UncertainDeliveryError lost after the message data went out: maybe delivered;
     │                               confirm by Message-ID before sending again
     └── PermanentDeliveryError     5xx reply, bad credentials, TLS misconfiguration: alert

``TemporaryDeliveryError.server_down`` tells the outbox the server itself is unreachable, so it
pauses the whole queue instead of trying every row in turn.

The transports (``bot/mail/transport.py``) and the IMAP delivery check (``bot/mail/confirm.py``)
both raise them; they live here so that neither module imports the other for them.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """A message was not (or not certainly) delivered."""


class TemporaryDeliveryError(DeliveryError):
    """Worth retrying later: the server said 4xx, or could not be reached."""

    def __init__(self, message: str, *, server_down: bool = False) -> None:
        super().__init__(message)
        self.server_down = server_down


class UncertainDeliveryError(TemporaryDeliveryError):
    """The connection failed after the message data was sent: the server may have accepted it."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the server said 5xx, or the configuration is wrong."""
