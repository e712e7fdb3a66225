"""Per-ticket reply addresses: a secret in the address proves a reply came from a recipient.

Anyone can write any From header. What a forger does not have is the mail the desk sent about a
ticket: the ticket e-mail (to support, Cc the customer) and the desk's replies to the customer ask
for answers at the front-desk address with the ticket's token as a sub-address::

    frontdesk+was-000123-k2x7c4mq5vwb3hfd@whatasoft.net

The token is an HMAC of the ticket id under a secret the desk keeps in its database, so every
process sharing that database computes the same address and nobody else can. The operator's mail
server must deliver sub-addressed mail (``local+anything@``) into the front-desk mailbox (Postfix
``recipient_delimiter = +``, Dovecot ``recipient_delimiter``), which most servers do by default.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from bot.address import parse_address
from bot.config import Settings
from bot.tickets.interface import TicketStore

__all__ = ["ReplyAddresses", "new_secret", "open_reply_addresses"]

SECRET_NAME = "reply_address_key"
_TOKEN_CHARS = 16  # base32 characters: 80 bits


def new_secret() -> str:
    return secrets.token_hex(32)


class ReplyAddresses:
    """Makes and recognises ticket reply addresses for the front-desk address `from_address`."""

    def __init__(self, from_address: str, secret: str) -> None:
        address = parse_address(from_address.strip())
        if address is None:
            raise ValueError("FRONTDESK_FROM_ADDRESS is not a plain e-mail address")
        self._local = address.local.split("+", 1)[0].lower()
        self._domain = address.ascii_domain
        self._key = secret.encode("utf-8")
        self._pattern = re.compile(
            rf"^{re.escape(self._local)}\+(was-\d{{6}})-([a-z2-7]{{{_TOKEN_CHARS}}})"
            rf"@{re.escape(self._domain)}$"
        )

    def _token(self, ticket_id: str) -> str:
        digest = hmac.new(self._key, ticket_id.upper().encode("ascii"), hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii").lower()[:_TOKEN_CHARS]

    def for_ticket(self, ticket_id: str) -> str:
        """The address replies about `ticket_id` should go to."""
        return f"{self._local}+{ticket_id.lower()}-{self._token(ticket_id)}@{self._domain}"

    def tickets_in(self, addresses: Iterable[str]) -> list[str]:
        """Ids of the tickets whose genuine reply address is among `addresses` (in order)."""
        found: list[str] = []
        for address in addresses:
            match = self._pattern.match(address.strip().lower())
            if match is None:
                continue
            ticket_id = match.group(1).upper()
            genuine = hmac.compare_digest(match.group(2), self._token(ticket_id))
            if genuine and ticket_id not in found:
                found.append(ticket_id)
        return found


async def open_reply_addresses(settings: Settings, store: TicketStore) -> ReplyAddresses | None:
    """The desk's reply addresses, with the key kept in `store` (made on first use); None when
    FRONTDESK_FROM_ADDRESS is no deliverable address (nobody could reply to it anyway)."""
    if parse_address(settings.from_address.strip()) is None:
        return None
    return ReplyAddresses(settings.from_address, await store.secret(SECRET_NAME, new_secret))
