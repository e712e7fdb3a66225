"""Inline-button payloads that cannot be forged into another user's action.

Telegram lets any client send any `callback_data` for a message it can see, so the payload is
signed: an HMAC of (user id, value) under a key derived from the bot token. A click is honoured
only when the signature matches the user who clicked. Values too long for the 64-byte limit travel
as a digest; the value is kept in a bounded server-side map (after a restart the button's label is
used, exactly as if the customer had typed it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64
_SIG_BYTES = 9  # 72 bits, 12 base64 characters
_INLINE = "="
_DIGEST = "#"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def derive_key(token: str) -> bytes:
    """A key for callback signatures, derived from (and not revealing) the bot token."""
    label = b"frontdesk/telegram/callback-data/v1"
    return hmac.new(label, token.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Verified:
    """A genuine click: `value` is None when only the digest is known (value map lost)."""

    value: str | None


class CallbackSigner:
    def __init__(self, key: bytes, *, remembered: int = 10_000) -> None:
        self._key = key
        self._long_values: OrderedDict[str, str] = OrderedDict()
        self._remembered = remembered

    def _sig(self, user_id: int, payload: str) -> str:
        message = f"{user_id}\x00{payload}".encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest()[:_SIG_BYTES])

    def pack(self, user_id: int, value: str) -> str:
        """Callback data for `value` that only `user_id` can use."""
        inline = _INLINE + value
        sig = self._sig(user_id, inline)
        data = sig + inline
        if len(data.encode()) <= MAX_CALLBACK_BYTES:
            return data
        digest = _DIGEST + _b64(hashlib.sha256(value.encode()).digest()[:12])
        self._long_values[digest] = value
        self._long_values.move_to_end(digest)
        while len(self._long_values) > self._remembered:
            self._long_values.popitem(last=False)
        return self._sig(user_id, digest) + digest

    def unpack(self, user_id: int, data: str) -> Verified | None:
        """The value behind `data` if `user_id` may use it; None for forged or foreign data."""
        sig_len = len(_b64(b"\0" * _SIG_BYTES))
        sig, payload = data[:sig_len], data[sig_len:]
        if not payload or payload[0] not in (_INLINE, _DIGEST):
            return None
        if not hmac.compare_digest(sig, self._sig(user_id, payload)):
            return None
        if payload[0] == _INLINE:
            return Verified(payload[1:])
        return Verified(self._long_values.get(payload))
