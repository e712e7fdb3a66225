"""The hourly limit on the desk's automatic e-mail replies to one sender (RFC 3834 §2).

Every automatic reply to an address counts towards the rule `guided_replies_hour` of
:mod:`bot.policy.limits` (FRONTDESK_LIMIT_GUIDED_REPLIES_PER_HOUR, key `email:<address>`). Replies
that only answer the sender's own message (a guided form, a notice that a message was not
proven, a forget answer, a reopening notice) are not sent once the sender has had that many in
the last hour: two robots answering each other stop there. Replies that carry news the customer
is waiting for (a confirmation with the ticket number, an agent's answer, the desk's notices)
always go, and still count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from bot.channel_names import EMAIL
from bot.policy.limits import GUIDED_REPLIES_HOUR, Limits

__all__ = ["AutoReply", "AutoReplyQuota", "held_back_over_limit", "sender_key"]

log = logging.getLogger(__name__)


class AutoReply(StrEnum):
    """The kinds of automatic replies the desk mails."""

    GUIDED = "guided"  # what is missing, as a form (or: confirm the code sent to your contact)
    CONFIRMATION = "confirmation"  # the ticket was queued, with its number
    RELAY = "relay"  # an agent's answer, or the closure notice (4.3)
    NOTICE = "notice"  # the desk's later notices: filed (4.1), not delivered
    UNPROVEN = "unproven"  # a message about a ticket whose sender proved nothing
    REOPENED = "reopened"  # the ticket was reopened (5.1)
    FORGET = "forget"  # the answer to a forget request


_ALWAYS_SENT = frozenset({AutoReply.CONFIRMATION, AutoReply.RELAY, AutoReply.NOTICE})


def held_back_over_limit(kind: AutoReply) -> bool:
    """Whether a reply of this kind is not sent once the sender's hourly limit is reached."""
    return kind not in _ALWAYS_SENT


def sender_key(address: str) -> str:
    """The limits key of an e-mail address, as the identity guard keys e-mail customers."""
    return f"{EMAIL}:{address.lower()}"


class AutoReplyQuota:
    """The limit applied to one desk's replies, on the desk's shared limiter."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    async def take(self, kind: AutoReply, address: str, now: datetime) -> bool:
        """Count a reply of `kind` to `address` at `now`; False when it must not be sent (then
        nothing is counted). A counted reply that is not sent after all is given back."""
        key = sender_key(address)
        if not held_back_over_limit(kind):
            await self.limits.record(GUIDED_REPLIES_HOUR, key, now)
            return True
        if (await self.limits.hit(GUIDED_REPLIES_HOUR, key, now)).allowed:
            return True
        log.warning("auto-reply limit reached for %s; %s reply not sent", address, kind.value)
        return False

    async def give_back(self, address: str, now: datetime) -> None:
        """Un-count the reply taken at `now` (it could not be queued)."""
        await self.limits.undo(GUIDED_REPLIES_HOUR, sender_key(address), now)

    async def count_earlier(self, sent: Iterable[tuple[str, datetime]], now: datetime) -> None:
        """Count replies sent before this limiter knew of them, (address, sent at): those still
        within the hour, so that nobody gets a fresh allowance from an upgrade."""
        since = now - self.limits.rules[GUIDED_REPLIES_HOUR].window
        for address, sent_at in sent:
            if sent_at > since:
                await self.limits.record(GUIDED_REPLIES_HOUR, sender_key(address), sent_at)
