"""Which ticket an e-mail belongs to (4.4: answers and follow-ups stay in the ticket's thread).

A message names a ticket in four ways, most trustworthy first:

1. it was sent to the ticket's own reply address (only recipients of the desk's mail know it);
2. its In-Reply-To/References hold the Message-ID of the ticket e-mail or of a follow-up, which
   the desk makes from the ticket id and its own domain (`<WAS-000123.ticket@domain>`);
3. it answers one of the desk's replies about the ticket (those Message-IDs are random, so the
   channel remembers them);
4. its subject carries the tag `[WAS-000123]`.

Naming a ticket is not yet acting on it: who may do that is decided by the sender's proof
(bot/identity/proof.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.tickets.model import TICKET_ID_RE

__all__ = ["ThreadClues", "thread_candidates"]

# The Message-IDs the desk gives a ticket's e-mail and its follow-ups (bot/tickets/render.py).
_TICKET_MESSAGE_ID = re.compile(r"^<(WAS-\d{6})\.(?:ticket|followup-\d+)@([^>]+)>$")


@dataclass(frozen=True)
class ThreadClues:
    """What one e-mail says about its thread, as the channel read it."""

    reply_address_tickets: Sequence[str]  # tickets whose genuine reply address it was sent to
    thread_ids: Sequence[str]  # the Message-IDs of In-Reply-To and References
    subject: str
    answered_reply_ticket: str | None = None  # the ticket of a desk reply it answers


def thread_candidates(clues: ThreadClues, own_domains: Collection[str]) -> list[str]:
    """The ticket ids the message names, most trustworthy first, each once.

    A ticket Message-ID counts only under one of `own_domains` (the desk's own, lowercase):
    anyone may write such an id, but only the desk's mail carries it under its domain."""
    candidates = list(clues.reply_address_tickets)
    for message_id in clues.thread_ids:
        match = _TICKET_MESSAGE_ID.match(message_id)
        if match and match.group(2).lower() in own_domains:
            candidates.append(match.group(1))
    if clues.answered_reply_ticket:
        candidates.append(clues.answered_reply_ticket)
    candidates += TICKET_ID_RE.findall(clues.subject)
    return list(dict.fromkeys(candidates))
