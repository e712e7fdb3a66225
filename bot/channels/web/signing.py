"""The web customer's identity and the forms' CSRF tokens, both derived from one secret key.

A web customer is a random session id (never anything the browser chooses): it travels in a
cookie as `<id>.<signature>`, and a cookie whose signature does not match is a new customer.
The desk knows the customer as ("web", id), so consent, the verified contact address, limits and
the draft belong to that session only.

Every form carries a CSRF token: a keyed hash of the session id. Another site can make a
browser post to the form; SameSite=Lax keeps the cookie off such a post in current browsers,
and the token refuses it in any browser, since the other site cannot read it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["Signer", "new_token", "token_hash"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_token() -> str:
    """A random, unguessable token (session ids, status links): 144 bits."""
    return secrets.token_urlsafe(18)


def token_hash(token: str) -> str:
    """What is stored of a status link's token: its SHA-256, so a copy of the database does not
    open anyone's status page."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Signer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the web secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, purpose: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
        return _b64(digest)

    def session_cookie(self, session_id: str) -> str:
        return f"{session_id}.{self._mac('session', session_id)}"

    def session_id(self, cookie: str | None) -> str | None:
        """The session id a cookie carries, None when it is missing or forged."""
        if not cookie or cookie.count(".") != 1:
            return None
        session_id, signature = cookie.split(".")
        if not session_id or not hmac.compare_digest(signature, self._mac("session", session_id)):
            return None
        return session_id

    def csrf_token(self, session_id: str) -> str:
        return self._mac("csrf", session_id)

    def csrf_ok(self, session_id: str | None, token: str | None) -> bool:
        if not session_id or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(session_id))
