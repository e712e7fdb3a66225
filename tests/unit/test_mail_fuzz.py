"""Fuzzing the mail paths: whatever a sender writes, the desk's own mail has exactly its headers.

Hostile header text (line breaks, encoded words that decode to line breaks, encoded words inside
encoded words, quotes, angle brackets, lone surrogates, bidi characters) goes into an inbound
e-mail and into every renderer. Parsed back, each rendered message must have exactly the expected
header names, To/Cc must be exactly the envelope the renderer decided, and the envelope the outbox
hands to SMTP must be exactly that too.
"""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.address import parse_address
from bot.config import Settings
from bot.intake.fields import Valid, validate_email
from bot.mail.inbound import parse_message
from bot.mail.reply_address import ReplyAddresses
from bot.mail.transport import envelope_of
from bot.tickets.model import AttachmentRef
from bot.tickets.render import (
    Envelope,
    OutboundMessage,
    render_customer_reply,
    render_followup,
    render_ticket,
    safe_address,
)
from bot.tickets.store import OutboxRow
from tests.unit.test_render import make_ticket

SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    support_address="support@whatasoft.net",
    from_address="frontdesk@desk.whatasoft.net",
)
REPLIES = ReplyAddresses(SETTINGS.from_address, "fuzz-secret")
NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
COPY = "frontdesk@desk.whatasoft.net"

INJECTIONS = [
    "\r\nBcc: victim@victim.test",
    "\nX-Injected: yes",
    "\rTo: victim@victim.test",
    "\u2028Cc: victim@victim.test",
    "\x85Bcc: c@z.ru",
    "\x00",
    "\ud800",
    "\u202e",
]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


def encoded(text: str, depth: int) -> str:
    """`text` as an encoded word, wrapped `depth` times (encoded words inside encoded words)."""
    for _ in range(depth):
        text = f"=?utf-8?b?{_b64(text)}?="
    return text


hostile_piece = st.one_of(
    st.text(max_size=30),
    st.sampled_from(INJECTIONS),
    st.sampled_from(['"', "<", ">", ",", ";", "@", "=?", "?=", "=?utf-8?q?", "(", ")"]),
)


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """Header-ish text: pieces, some of them wrapped in (nested) encoded words."""
    pieces = draw(st.lists(hostile_piece, max_size=6))
    out = []
    for piece in pieces:
        depth = draw(st.integers(0, 3))
        out.append(encoded(piece, depth) if depth else piece)
    return draw(st.sampled_from([" ", ""])).join(out)


def reparse(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def header_names(message: EmailMessage) -> list[str]:
    return [name.lower() for name in reparse(message).keys()]  # noqa: SIM118


def addresses(message: EmailMessage, name: str) -> list[str]:
    value = reparse(message).get(name)
    return [a.addr_spec for a in value.addresses] if value is not None else []


def smtp_envelope(message: OutboundMessage) -> tuple[list[str], list[str]]:
    row = OutboxRow(1, None, "reply", "<x@y>", message.as_bytes(), 0, "queued", message.envelope)
    return envelope_of(row, COPY)


def inbound_bytes(subject: str, sender: str, message_id: str, references: str) -> bytes:
    """A raw e-mail with these header values; a bare line break in a value would end the header
    line (that is another message, not this one's header), so those travel as encoded words."""
    subject, sender, message_id, references = (
        " ".join(v.replace("\r", "\n").split("\n"))
        for v in (subject, sender, message_id, references)
    )
    head = (
        f"From: {sender}\r\nTo: {SETTINGS.from_address}\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nReferences: {references}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    return head.encode("utf-8", "replace") + b"body\r\n"


fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz
@given(
    subject=hostile_text(),
    name=hostile_text(),
    message_id=hostile_text(),
    references=hostile_text(),
)
def test_a_reply_to_any_inbound_mail_has_exactly_its_headers(
    subject: str, name: str, message_id: str, references: str
) -> None:
    # Given whatever arrives (never raising)
    sender = f"{name} <ivan@mail.ru>"
    raw = inbound_bytes(subject, sender, f"<{message_id}@x.test>", references)
    msg = parse_message(raw)
    assert msg.from_addr in ("ivan@mail.ru", "")
    # When the desk answers it the way the e-mail channel does
    reply = render_customer_reply(
        "ivan@mail.ru",
        "Re: " + msg.subject,
        "Ответ",
        SETTINGS,
        in_reply_to=msg.message_id or None,
        references=msg.references,
        now=NOW,
        reply_address=REPLIES.for_ticket("WAS-000001"),
    )
    # Then its headers are the renderer's own, and its recipients exactly the customer
    names = header_names(reply)
    assert set(names) <= {
        "from", "to", "subject", "date", "message-id", "auto-submitted", "reply-to",
        "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding",
    }  # fmt: skip
    assert len(names) == len(set(names))
    assert addresses(reply, "to") == ["ivan@mail.ru"]
    assert addresses(reply, "reply-to") == [REPLIES.for_ticket("WAS-000001")]
    assert smtp_envelope(reply) == (["ivan@mail.ru"], [COPY])


@fuzz
@given(
    summary=hostile_text(),
    contact=st.one_of(
        hostile_text(),
        st.sampled_from(["ivan@mail.ru", "Ivan.Petrov+shop@почта.рф", '"x y"@mail.test']),
        st.sampled_from(INJECTIONS).map(lambda injection: "ivan@mail.ru" + injection),
    ),
    steps=hostile_text(),
    site=hostile_text(),
    attachment_name=hostile_text(),
)
def test_a_ticket_from_any_customer_text_has_exactly_its_headers(
    summary: str, contact: str, steps: str, site: str, attachment_name: str
) -> None:
    ticket = make_ticket(
        description=summary,
        steps=steps,
        site_url=site,
        contact_email=contact,
        attachments=[AttachmentRef(attachment_name, "/nonexistent/file.png", "image/png", 10)],
    )
    reply_address = REPLIES.for_ticket(ticket.id)
    for message in (
        render_ticket(ticket, SETTINGS, reply_address=reply_address),
        render_followup(ticket, steps, [], SETTINGS, 1, now=NOW, reply_address=reply_address),
    ):
        names = header_names(message)
        assert len(names) == len(set(names))
        assert set(names) <= {
            "from", "to", "cc", "reply-to", "subject", "date", "message-id", "auto-submitted",
            "x-priority", "importance", "x-frontdesk-ticket", "in-reply-to", "references",
            "mime-version", "content-type",
        }  # fmt: skip
        assert addresses(message, "to") == ["support@whatasoft.net"]
        valid = parse_address(contact.strip(" \t"))
        cc = [valid.ascii] if valid else []
        assert list(message.envelope.cc) == cc
        assert addresses(message, "cc") == cc
        assert addresses(message, "reply-to") == [*cc, reply_address]
        assert smtp_envelope(message) == (["support@whatasoft.net"], [*cc, COPY])


@fuzz
@given(value=hostile_text())
def test_parse_message_never_raises_on_hostile_headers(value: str) -> None:
    for name in ("From", "To", "Cc", "Subject", "Content-Type", "Authentication-Results"):
        raw = f"{name}: {value}\r\nMessage-ID: <{value}>\r\n\r\nbody".encode("utf-8", "replace")
        msg = parse_message(raw)
        assert msg.from_addr == "" or "@" in msg.from_addr
        assert "\r" not in msg.subject and "\n" not in msg.subject


def test_envelope_round_trips_through_json() -> None:
    envelope = Envelope(("support@whatasoft.net",), ("ivan@mail.ru",))
    assert Envelope.from_json(envelope.to_json()) == envelope


address_like = st.one_of(
    st.from_regex(
        r"[A-Za-z0-9._%+\"'-]{1,12}@[A-Za-zа-я0-9.-]{1,12}\.[a-zа-я]{2,4}", fullmatch=True
    ),
    st.sampled_from(['"x y"@mail.test', "ivan@mail.ru\x85Bcc: c@z.ru", "ivan@почта.рф"]),
    hostile_text(),
)


@fuzz
@given(text=address_like)
def test_an_address_the_customer_is_told_was_accepted_is_the_one_mailed(text: str) -> None:
    verdict = validate_email(text)
    if isinstance(verdict, Valid):
        # the renderer and the envelope use exactly the address the customer was shown
        assert safe_address(verdict.value) == verdict.value
        ticket = make_ticket(contact_email=verdict.value)
        assert render_ticket(ticket, SETTINGS).envelope.cc == (verdict.value,)
