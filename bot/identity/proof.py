"""Who the desk believes an e-mail is from, and what that allows it to do (the trust model).

Anyone can write any From. A message acts on a ticket (an agent's answer, a closure, the
customer's follow-up, a reopening) only when its sender belongs to the ticket — an agent, or the
ticket's customer — and proves their From address in one of two ways:

1. the message went to the ticket's own reply address, which only recipients of the desk's mail
   about that ticket know (bot/mail/reply_address.py);
2. the operator's receiving mail server authenticated the From domain (its topmost
   `Authentication-Results` says pass, bot/identity/authres.py).

An authentication that failed outright makes the desk ignore the message altogether. Without a
proof an agent's message is ignored and the ticket's customer gets a fixed notice, none of the
message's words. Anyone else writing in a ticket's thread is a new customer of their own, and an
agent writing outside any thread is ignored. Forgetting by e-mail needs a proof too: an
authenticated sender, or an answer to the desk's mail about one of the sender's own tickets.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.channel_names import EMAIL
from bot.identity.authres import Verdict
from bot.tickets.model import Ticket

__all__ = [
    "SenderEvidence",
    "Standing",
    "address_domain",
    "is_agent_address",
    "is_ticket_customer",
    "proves_own_ticket",
    "proves_sender_for",
    "thread_standing",
    "unproven_notice",
]


@dataclass(frozen=True)
class SenderEvidence:
    """What one e-mail shows about its sender, as the channel read it."""

    address: str  # the From address (read from the raw header)
    auth_verdict: Verdict = "none"  # the trusted server's Authentication-Results verdict
    reply_address_tickets: Sequence[str] = ()  # tickets whose genuine reply address it went to

    @property
    def authenticated(self) -> bool:
        return self.auth_verdict == "pass"

    @property
    def refuted(self) -> bool:
        """The receiving server found the From forged: the message gets nothing at all."""
        return self.auth_verdict == "fail"


class Standing(StrEnum):
    """What a message may do, given the ticket its thread names (or none)."""

    AGENT = "agent"  # a proven agent: the answer acts on the ticket
    CUSTOMER = "customer"  # the ticket's proven customer: a follow-up (or a reopening)
    UNPROVEN_AGENT = "unproven_agent"  # ignored
    UNPROVEN_CUSTOMER = "unproven_customer"  # told, in fixed words, to answer the notice
    AGENT_OUTSIDE_THREAD = "agent_outside_thread"  # ignored
    NEW_CUSTOMER = "new_customer"  # a request of the sender's own, whatever the thread says


def address_domain(address: str) -> str:
    """The lowercase domain of an address (`Ivan@Mail.RU` → `mail.ru`)."""
    return address.rpartition("@")[2].lower().strip(">")


def is_agent_address(address: str, support_address: str, agent_domains: Collection[str]) -> bool:
    """Agents write from the support address or from one of the agents' domains."""
    address = address.lower()
    return address == support_address.lower() or address_domain(address) in agent_domains


def is_ticket_customer(ticket: Ticket, address: str) -> bool:
    """The ticket's contact address, or the address an e-mail ticket came from."""
    address = address.lower()
    if ticket.contact_email and ticket.contact_email.lower() == address:
        return True
    return ticket.channel == EMAIL and ticket.customer_id.lower() == address


def proves_sender_for(ticket_id: str, sender: SenderEvidence) -> bool:
    """Whether the sender proved their From address for an action on ticket `ticket_id`."""
    return sender.authenticated or ticket_id in sender.reply_address_tickets


def proves_own_ticket(sender: SenderEvidence, reply_address_tickets: Iterable[Ticket]) -> bool:
    """Whether the message answered the desk's mail about one of the sender's own tickets
    (`reply_address_tickets`: the tickets of `sender.reply_address_tickets` that exist)."""
    return any(is_ticket_customer(t, sender.address) for t in reply_address_tickets)


def thread_standing(ticket: Ticket | None, sender: SenderEvidence, *, is_agent: bool) -> Standing:
    """What a message from `sender` may do with `ticket`, the one its thread names (or None)."""
    if ticket is None:
        return Standing.AGENT_OUTSIDE_THREAD if is_agent else Standing.NEW_CUSTOMER
    if not is_agent and not is_ticket_customer(ticket, sender.address):
        return Standing.NEW_CUSTOMER
    if not proves_sender_for(ticket.id, sender):
        return Standing.UNPROVEN_AGENT if is_agent else Standing.UNPROVEN_CUSTOMER
    return Standing.AGENT if is_agent else Standing.CUSTOMER


_UNPROVEN = {
    "ru": (
        "Мы получили письмо по обращению {id} с вашего адреса, но не смогли убедиться, что "
        "его отправили вы, поэтому к обращению оно не добавлено.\n\n"
        "Если письмо ваше, просто ответьте на это сообщение и повторите в ответе, что хотели "
        "сообщить: ответ на него придёт в обращение {id}. Если вы ничего не отправляли, "
        "ничего делать не нужно."
    ),
    "en": (
        "We received a message about request {id} from your address but could not make sure "
        "you sent it, so it was not added to the request.\n\n"
        "If it was yours, just reply to this message and repeat what you wanted to say: the "
        "reply will reach request {id}. If you sent nothing, there is nothing to do."
    ),
}


def unproven_notice(ticket_id: str, lang: str) -> str:
    """The fixed notice for a ticket's customer whose message proved nothing: none of its
    words, and an answer to it (at the ticket's reply address) is proven."""
    return _UNPROVEN.get(lang, _UNPROVEN["ru"]).format(id=ticket_id)
