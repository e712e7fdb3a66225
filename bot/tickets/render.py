"""The official ticket e-mail (ARCHITECTURE.md "Ticket e-mail", regulation 4.1, 4.4, 4.6, 2.2).

Everything that comes from a customer is untrusted. Before it reaches a header it goes through
:func:`header_text`: RFC 2047 encoded words are decoded first (the stdlib's header parser would
decode them itself after our cleaning, on some Python versions, and an encoded word may hide a line
break), then CR, LF and every other control character become spaces and any ``=?`` left is broken
apart, so no header can be injected. Addresses must be one plain ``local@domain``
(:mod:`bot.address`) or they stay out of the headers, and the HTML part escapes every value. The
messages use :data:`POLICY` (SMTP line endings, raising on any defect) so a malformed header fails
loudly here instead of on the wire.

Every message is an :class:`OutboundMessage`: it carries its SMTP envelope, computed from the
desk's own data (the support address, the customer's validated contact), which the outbox uses
as it is — recipients are never read back from the rendered headers. :func:`seal` parses the
rendered bytes back and refuses a message whose headers are not exactly the ones written.

Message-IDs are derived from the ticket id and the front desk's domain
(``<WAS-000123.ticket@domain>``): the same ticket always gets the same id, which is what the outbox
uses to recognise a message that was already delivered (see ``bot/mail/outbox.py``).
"""

from __future__ import annotations

import html
import io
import json
import mimetypes
import re
import secrets
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from bot.address import parse_address
from bot.config import Settings
from bot.text import clean, fix_surrogates
from bot.tickets.model import CATEGORY_LABELS_RU, FIELD_LABELS, SUMMARY_MAX, AttachmentRef, Ticket

# Headers with values only the renderer writes (dates, ids, fixed words): nothing of a customer's
# reaches them (In-Reply-To and References repeat ids checked by `_MSGID`).
_PLAIN_HEADERS = frozenset(
    {"date", "message-id", "auto-submitted", "x-priority", "importance", "x-frontdesk-ticket"}
    | {"x-frontdesk-kind", "in-reply-to", "references"}
)
_FOLD_AT = 78  # RFC 5322's line length, the policy's


class _Policy(EmailPolicy):
    """``policy.SMTP``, strict, except that non-ASCII subjects are folded by the legacy encoder.

    CPython 3.11's folder loses the space between two RFC 2047 encoded words when a fold lands on
    it (``Ошибка продукта: После`` reads back as ``Ошибка продукта:После``), which would break
    the "same subject" rule of 4.4. ``email.header.Header`` encodes the text as one run, spaces
    included. ``fold``/``fold_binary`` are the documented extension points of a policy.
    """

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        """Headers the renderer writes itself (`_PLAIN_HEADERS`) are kept as written when they
        are short printable ASCII, so no CR/LF, which folds them unchanged; parsing each into a
        header object cost an eighth of a ticket's rendering and a fifth of a reply's. Anything
        else is parsed (and checked) by the standard policy."""
        if (
            isinstance(value, str)
            and name.lower() in _PLAIN_HEADERS
            and value.isascii()
            and value.isprintable()
            and len(name) + len(value) + 2 <= (self.max_line_length or _FOLD_AT)
        ):
            return (name, value)
        return super().header_store_parse(name, value)

    def _legacy(self, name: str, value: str) -> str | None:
        text = str(value)
        if name.lower() != "subject" or text.isascii():
            return None
        encoded = Header(text, "utf-8", header_name=name, maxlinelen=78).encode(
            linesep=self.linesep
        )
        return f"{name}: {encoded}{self.linesep}"

    def fold(self, name: str, value: str) -> str:
        return self._legacy(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        legacy = self._legacy(name, value)
        return legacy.encode("ascii") if legacy else super().fold_binary(name, value)


class _HeaderClasses(HeaderRegistry):
    """The header registry, with each header's class made once.

    CPython's registry builds a new class (``type(...)``) every time a header is set or read;
    that was a fifth of the desk's CPU per customer. The class only depends on the header's
    name, so the one made first serves every later message."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


POLICY = _Policy(
    linesep="\r\n", cte_type="7bit", raise_on_defect=True, header_factory=_HeaderClasses()
)
CRITICAL_PREFIX = "[КРИТИЧНО] "
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A Message-ID we repeat in In-Reply-To/References: printable ASCII, no encoded word.
_MSGID = re.compile(r"<(?![^>]*=\?)[\x21-\x3b\x3d\x3f\x41-\x7e]+@[\x21-\x3b\x3d\x3f\x41-\x7e]+>")

NOT_GIVEN = "не указано"
# The line near the top of a ticket that tells agents how urgent it is (2.2: critical requests,
# a site or a service of it down, may be handled out of turn; the others in order of arrival).
PRIORITY_CRITICAL = "Приоритет: КРИТИЧНО — сайт или его сервис не работает, вне очереди (п. 2.2)"
PRIORITY_NORMAL = "Приоритет: обычный — в порядке поступления (п. 2.2)"
ORIGINAL_TEXT_HEADING = "Исходное сообщение клиента"
QUESTIONS_FILE = Path(__file__).resolve().parents[2] / "data" / "questions.json"


# --- sanitising --------------------------------------------------------------------------------


def _decode_encoded_words(text: str) -> str:
    """What the encoded words in `text` stand for, nested ones too (a few rounds at most)."""
    for _ in range(4):
        if "=?" not in text:
            break
        try:
            decoded = str(make_header(decode_header(text)))
        except (HeaderParseError, ValueError, LookupError, UnicodeError, AssertionError):
            break  # what is left undecoded is defused by header_text
        if decoded == text:
            break
        text = decoded
    return text


def header_text(value: str, limit: int | None = None) -> str:
    """Untrusted text made safe for a header: one line, nothing a header parser would decode.

    Encoded words are decoded here, then control characters (the line breaks they may have hid
    included) become spaces, and a ``=?`` that is left is split so no parser decodes it again.
    """
    text = clean(_decode_encoded_words(fix_surrogates(value)), multiline=False)
    text = " ".join(text.split()).replace("=?", "= ?")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def safe_address(value: str) -> str | None:
    """The one plain ``local@domain`` address `value` is (punycode host), or None (4.2 contact)."""
    address = parse_address(value.strip(" \t"))
    return address.ascii if address else None


def _domain(settings: Settings) -> str:
    address = parse_address(settings.from_address)
    return address.ascii_domain if address else "localhost"


def ticket_message_id(ticket_id: str, settings: Settings) -> str:
    """The stable Message-ID of a ticket's e-mail."""
    return f"<{ticket_id}.ticket@{_domain(settings)}>"


def followup_message_id(ticket_id: str, n: int, settings: Settings) -> str:
    return f"<{ticket_id}.followup-{n}@{_domain(settings)}>"


def ticket_subject(ticket: Ticket) -> str:
    """``[WAS-000123] <Категория>: <summary ≤ 80>``; ``[КРИТИЧНО] `` in front if critical (2.2)."""
    category = CATEGORY_LABELS_RU.get(
        ticket.classification.category, header_text(ticket.classification.category)
    )
    summary = header_text(ticket.summary, SUMMARY_MAX) or NOT_GIVEN
    prefix = CRITICAL_PREFIX if ticket.classification.critical else ""
    return f"{prefix}[{ticket.id}] {category}: {summary}"


def site_url_forms(url: str) -> tuple[str, str | None]:
    """(Unicode form, punycode form or None) of a site address; IDN hosts are shown both ways."""
    text = header_text(url)
    if not text:
        return "", None
    has_scheme = "://" in text
    try:
        parts = urlsplit(text if has_scheme else f"http://{text}")
        host, port = parts.hostname or "", parts.port
    except ValueError:  # not a URL after all (a bad port, say): shown as it was written
        return text, None
    if not host:
        return text, None
    try:
        unicode_host = ".".join(
            label.encode("ascii").decode("idna") if label.lower().startswith("xn--") else label
            for label in host.split(".")
        )
        ascii_host = unicode_host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return text, None
    if unicode_host == ascii_host:
        return text, None

    def rebuild(new_host: str) -> str:
        netloc = parts.netloc
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = (f"{userinfo}@" if userinfo else "") + new_host + (f":{port}" if port else "")
        rebuilt = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        return rebuilt if has_scheme else rebuilt.removeprefix("http://")

    return rebuild(unicode_host), rebuild(ascii_host)


def contact_email_forms(value: str) -> tuple[str, str | None]:
    """(what a person reads, punycode form or None) of a contact address: a Cyrillic host is
    shown in Unicode with its punycode beside it; an address that is not one plain
    ``local@domain`` is shown as written, cleaned to one line."""
    address = parse_address(value.strip(" \t"))
    if address is None:
        return header_text(value), None
    return address.display, (address.ascii if address.display != address.ascii else None)


@lru_cache(maxsize=1)
def _question_labels() -> dict[str, str]:
    """The Russian labels of the 4.2.6 questions by id, read from data/questions.json.

    The intake validates that file; here an unreadable or odd file only means that the ids are
    humanised instead (a ticket is never held back by a label).
    """
    try:
        questions = json.loads(QUESTIONS_FILE.read_text(encoding="utf-8-sig"))["questions"]
        return {
            qid: spec["label_ru"].strip()
            for qid, spec in questions.items()
            if isinstance(spec, dict)
            and isinstance(spec.get("label_ru"), str)
            and spec["label_ru"].strip()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _humanised(key: str) -> str:
    """``php_version`` → ``Php version``: an id readable when no label is known."""
    text = " ".join(key.replace("_", " ").split())
    return text[:1].upper() + text[1:] if text else "Сведения"


def detail_label(key: str, labels: Mapping[str, str] | None = None) -> str:
    """The Russian label of a `Ticket.details` key: the one the ticket carries (`labels`), else
    the question's label in data/questions.json, else the key made readable."""
    given = (labels or {}).get(key, "").strip()
    return given or _question_labels().get(key) or _humanised(key)


def priority_line(critical: bool) -> str:
    return PRIORITY_CRITICAL if critical else PRIORITY_NORMAL


# --- body --------------------------------------------------------------------------------------


def _local(moment: datetime, settings: Settings) -> str:
    try:
        zone = ZoneInfo(settings.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Europe/Moscow")
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M %Z")


class _Linked(str):
    """A value the HTML part shows as a link to `href`, an address the desk built itself (the
    customer's text is never a link target as written). The text part shows the text."""

    href: str

    def __new__(cls, text: str, href: str) -> _Linked:
        linked = super().__new__(cls, text)
        linked.href = href
        return linked


Row = tuple[str, str]  # (label, value); a section whose labels are all empty is a bullet list


class Section(NamedTuple):
    heading: str
    rows: list[Row]
    collapsed: bool = False  # HTML: folded under its heading (read on demand); text: as any other


def _field_value(ticket: Ticket, name: str) -> str:
    """A 4.2 field as agents read it: IDN site and e-mail hosts in both forms, the e-mail linked
    to its ASCII form."""
    value = str(getattr(ticket, name) or "")
    if not value:
        return NOT_GIVEN
    if name == "site_url":
        unicode_form, ascii_form = site_url_forms(value)
        return f"{unicode_form} ({ascii_form})" if ascii_form else unicode_form
    if name == "contact_email":
        shown, ascii_form = contact_email_forms(value)
        address = safe_address(value)
        text = f"{shown} ({ascii_form})" if ascii_form else shown
        return _Linked(text, f"mailto:{address}") if address else text
    return value


def _sections(ticket: Ticket, settings: Settings) -> list[Section]:
    """The ticket as sections of (label, value) rows shared by the text and HTML parts."""
    fields = [(labels["ru"], _field_value(ticket, name)) for name, labels in FIELD_LABELS.items()]

    c = ticket.classification
    category = CATEGORY_LABELS_RU.get(c.category, c.category)
    scope = "в рамках поддержки" if c.in_scope else "вне рамок поддержки"
    if not c.in_scope and not c.surely_out_of_scope:
        scope = "решает поддержка (классификатор склоняется к «вне рамок», но не уверен)"
    classification = [
        ("Категория", f"{category} ({c.category})"),
        ("Рамки поддержки", f"{scope}, п. {c.clause}" if c.clause else scope),
        ("Критичность", "критично (п. 2.2)" if c.critical else "обычная"),
        (
            "Уверенность классификатора",
            f"{c.confidence:.0%}" + (", не уверен" if c.unsure else ""),
        ),
    ]

    hours = [("Подано", _local(ticket.created_at, settings))]
    if ticket.working_hours_open:
        hours.append(("Рабочее время", "да, служба работает (п. 2.1)"))
    else:
        hours.append(("Рабочее время", "нет, вне рабочего времени (п. 2.1)"))
        if ticket.next_opening:
            hours.append(("Ближайшее открытие", _local(ticket.next_opening, settings)))

    # The title above the sections already names the ticket: this heading says what is in it.
    sections = [
        Section("Сведения по п. 4.2 регламента", fields),
        Section("Классификация", classification),
        Section("Время подачи", hours),
    ]
    if ticket.suggested_docs:
        docs = [(d.title, d.url) for d in ticket.suggested_docs]
        sections.append(Section("Предложенная документация", docs))
    if ticket.details:
        details = [(detail_label(k, ticket.detail_labels), v) for k, v in ticket.details.items()]
        sections.append(Section("Дополнительные сведения", details))
    notes = ticket.agent_notes
    if notes:
        sections.append(Section("Заметки для сотрудников", [("", note) for note in notes]))
    channel = [("Канал", ticket.channel)]
    if ticket.attachments:
        channel.append(("Вложения", ", ".join(a.name for a in ticket.attachments)))
    sections.append(Section("Служебное", channel))
    return sections


def _original_text_section(ticket: Ticket) -> Section | None:
    """The customer's whole first message, last and folded, when it says more than the
    description (the fields were read from it; the agent may want the customer's own words)."""
    original = ticket.original_text.strip()
    if not original or " ".join(original.split()) == " ".join(ticket.description.split()):
        return None
    return Section(ORIGINAL_TEXT_HEADING, [("Текст", original)], collapsed=True)


def _plain(title: str, sections: Sequence[Section], critical: bool | None = None) -> str:
    """The text part; `critical` given: the priority line under the title."""
    lines = [title, ""]
    if critical is not None:
        lines += [priority_line(critical), ""]
    for heading, items, _ in sections:
        lines += [heading, "-" * len(heading)]
        for label, value in items:
            text = clean(value)
            if not label:
                lines.append(f"• {text}")
            elif "\n" in text:
                lines += [f"{label}:", *(f"    {line}" for line in text.split("\n"))]
            else:
                lines.append(f"{label}: {text}")
        lines.append("")
    return "\n".join(lines)


def _link(value: str) -> str:
    """Escaped value; http(s) URLs become links (never javascript: or data:)."""
    escaped = html.escape(value)
    if re.fullmatch(r"https?://\S+", value):
        return f'<a href="{html.escape(value, quote=True)}">{escaped}</a>'
    return escaped


def _cell(value: str) -> str:
    """One value as HTML: escaped, line by line; the desk's own links and http(s) URLs linked."""
    if isinstance(value, _Linked):
        href = html.escape(value.href, quote=True)
        return f'<a href="{href}">{html.escape(clean(value, multiline=False))}</a>'
    return "<br>".join(_link(line) for line in clean(value).splitlines() or [""])


# Inline styles: mail clients drop <style> blocks more often than style attributes.
_PRIORITY_STYLE = {
    True: "background:#b71c1c;color:#ffffff;font-weight:bold;padding:8px 12px;font-size:1.1em",
    False: "color:#555555;padding:4px 0",
}


def _priority_html(critical: bool) -> str:
    kind = "critical" if critical else "normal"
    return (
        f'<p class="priority priority-{kind}" style="{_PRIORITY_STYLE[critical]}">'
        f"{html.escape(priority_line(critical))}</p>"
    )


def _section_html(section: Section) -> list[str]:
    """A section as HTML: a table of labelled rows, or a list; folded when `collapsed`."""
    heading = html.escape(section.heading)
    if section.collapsed:
        out = [f'<details><summary><h2 style="display:inline">{heading}</h2></summary>']
    else:
        out = [f"<h2>{heading}</h2>"]
    if all(not label for label, _ in section.rows):
        out.append("<ul>")
        out += [f"<li>{html.escape(clean(value))}</li>" for _, value in section.rows]
        out.append("</ul>")
    else:
        out.append('<table border="0" cellpadding="3">')
        out += [
            f'<tr><th align="left" valign="top">{html.escape(label)}</th>'
            f"<td>{_cell(value)}</td></tr>"
            for label, value in section.rows
        ]
        out.append("</table>")
    if section.collapsed:
        out.append("</details>")
    return out


def _html(title: str, sections: Sequence[Section], critical: bool | None = None) -> str:
    """The HTML part: one heading (the title), then the priority line when `critical` is given."""
    out = [
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if critical is not None:
        out.append(_priority_html(critical))
    for section in sections:
        out += _section_html(section)
    out.append("</body></html>")
    return "\n".join(out)


# --- attachments -------------------------------------------------------------------------------


def _filename(name: str, fallback: str) -> str:
    cleaned = header_text(name).replace("/", "_").replace("\\", "_").strip(". ")
    return cleaned or fallback


def _attach_files(message: EmailMessage, attachments: Iterable[AttachmentRef]) -> None:
    """Attach the customer's files. BMP screenshots are zipped first (4.6).

    A missing file does not stop the ticket (the ticket matters more than one screenshot): it is
    skipped here and :func:`_check_files` has already put a note for the agents into the body.
    """
    for index, ref in enumerate(attachments, start=1):
        name = _filename(ref.name, f"attachment-{index}")
        try:
            data = Path(ref.path).read_bytes()
        except OSError:
            continue
        content_type = (ref.content_type or "").lower() or (
            mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        if content_type in {"image/bmp", "image/x-ms-bmp"} or name.lower().endswith(".bmp"):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(name, data)
            data, content_type, name = buffer.getvalue(), "application/zip", f"{name}.zip"
        maintype, _, subtype = content_type.partition("/")
        if not subtype or _CONTROL.search(content_type) or " " in content_type:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)


# --- messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """SMTP recipients: delivered once one of `to` accepts; `cc` only gets a warning if refused."""

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"to": list(self.to), "cc": list(self.cc)})

    @classmethod
    def from_json(cls, text: str) -> Envelope:
        data = json.loads(text)
        return cls(tuple(data.get("to", ())), tuple(data.get("cc", ())))


class OutboundMessage(EmailMessage):
    """A message the desk sends, with the envelope its renderer decided (see the docstring).

    `wire`: the bytes :func:`seal` checked, which are the bytes queued; a sealed message is not
    changed afterwards.
    """

    envelope: Envelope = Envelope(())
    wire: bytes = b""

    def __setitem__(self, name: str, val: Any) -> None:
        self._unsealed()
        super().__setitem__(name, val)

    def __delitem__(self, name: str) -> None:
        self._unsealed()
        super().__delitem__(name)

    def _unsealed(self) -> None:
        if self.wire:  # a header added now would go out unchecked, or not at all
            raise RuntimeError("a sealed message is not changed: let its renderer write it")


# Headers a rendered message may carry; anything else parsed back means an injection.
_ALLOWED_HEADERS = frozenset(
    {"from", "to", "cc", "reply-to", "subject", "date", "message-id", "auto-submitted"}
    | {"in-reply-to", "references", "x-priority", "importance", "x-frontdesk-ticket"}
    | {"x-frontdesk-kind"}
    | {"mime-version", "content-type", "content-transfer-encoding"}
)
_header_parser = BytesHeaderParser()


def seal(message: OutboundMessage) -> OutboundMessage:
    """Check the rendered bytes: known headers only, each once, To/Cc exactly the envelope.

    A renderer that let a customer's text reach a header would fail here, before the message is
    queued; raises ValueError.
    """
    for part in message.walk():
        if part.is_multipart() and part.get_boundary() is None:
            # Unguessable, so no customer text can hold it; the stdlib's own choice compiles a
            # new regular expression per part to check the text for it (a tenth of a ticket's
            # rendering). "=_" never occurs in quoted-printable or base64 output either.
            part.set_boundary(f"=_{secrets.token_hex(16)}")
    message.wire = message.as_bytes()
    parsed = _header_parser.parsebytes(message.wire)
    names = [name.lower() for name in parsed]
    unknown = sorted(set(names) - _ALLOWED_HEADERS)
    if unknown or len(names) != len(set(names)):
        raise ValueError(f"unexpected headers in a rendered message: {unknown or names}")
    for name, expected in (("To", message.envelope.to), ("Cc", message.envelope.cc)):
        value = str(parsed.get(name, ""))
        if [a.strip() for a in value.split(",") if a.strip()] != list(expected):
            raise ValueError(f"{name} of a rendered message differs from its envelope")
    return message


def _base(
    settings: Settings,
    subject: str,
    message_id: str,
    now: datetime,
    envelope: Envelope,
    auto_submitted: str = "auto-generated",
) -> OutboundMessage:
    message = OutboundMessage(policy=POLICY)
    message.envelope = envelope
    message["From"] = settings.from_address
    message["Subject"] = subject
    message["Date"] = format_datetime(now if now.tzinfo else now.replace(tzinfo=UTC))
    message["Message-ID"] = message_id
    # RFC 3834: the desk's own mail is machine-made; watchers and autoresponders leave it alone.
    message["Auto-Submitted"] = auto_submitted
    if envelope.to:
        message["To"] = ", ".join(envelope.to)
    if envelope.cc:
        message["Cc"] = ", ".join(envelope.cc)
    return message


def ticket_envelope(ticket: Ticket, settings: Settings) -> Envelope:
    """Support in To, the customer's contact in Cc when it is a deliverable address."""
    customer = safe_address(ticket.contact_email)
    support = parseaddr(settings.support_address)[1] or settings.support_address
    return Envelope((support,), (customer,) if customer else ())


def _reply_to(customer: str | None, reply_address: str) -> str:
    return f"{customer}, {reply_address}" if customer else reply_address


def render_ticket(
    ticket: Ticket, settings: Settings, reply_address: str | None = None
) -> OutboundMessage:
    """The official ticket e-mail to the support address (4.1), see the module docstring.

    `reply_address`: the front-desk address replies should go to (by default FROM_ADDRESS; the
    desk passes the ticket's own reply address, which proves a reply came from a recipient).
    """
    if not ticket.id:
        raise ValueError("render_ticket needs a ticket with an id (Store.create_ticket sets it)")
    subject = ticket_subject(ticket)
    envelope = ticket_envelope(ticket, settings)
    message = _base(
        settings, subject, ticket_message_id(ticket.id, settings), ticket.created_at, envelope
    )
    customer = safe_address(ticket.contact_email)
    message["Reply-To"] = _reply_to(customer, reply_address or settings.from_address)
    if ticket.classification.critical:
        message["X-Priority"] = "1"
        message["Importance"] = "high"
    message["X-Frontdesk-Ticket"] = ticket.id

    sections = _sections(ticket, settings)
    if customer is None and ticket.contact_email:
        sections[0].rows.append(
            ("Внимание", "адрес для ответа не распознан и не добавлен в Cc/Reply-To")
        )
    problems = _check_files(ticket.attachments)
    if problems:
        sections.append(Section("Проблемы с вложениями", [("", p) for p in problems]))
    original = _original_text_section(ticket)
    if original:
        sections.append(original)
    critical = ticket.classification.critical
    title = f"{CRITICAL_PREFIX if critical else ''}Обращение {ticket.id}"
    message.set_content(_plain(title, sections, critical), subtype="plain")
    message.add_alternative(_html(title, sections, critical), subtype="html")
    data = json.dumps(ticket.to_json(), ensure_ascii=False, indent=2).encode("utf-8", "replace")
    message.add_attachment(data, maintype="application", subtype="json", filename="ticket.json")
    _attach_files(message, ticket.attachments)
    return seal(message)


def _check_files(attachments: Iterable[AttachmentRef]) -> list[str]:
    return [
        f"Вложение «{_filename(ref.name, 'без имени')}» недоступно"
        for ref in attachments
        if not Path(ref.path).is_file()
    ]


def _reply_subject(subject: str) -> str:
    subject = header_text(subject)
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def render_followup(
    ticket: Ticket,
    text: str,
    attachments: Sequence[AttachmentRef],
    settings: Settings,
    n: int,
    now: datetime | None = None,
    reply_address: str | None = None,
) -> OutboundMessage:
    """The customer's addition to ticket `ticket`: ``Re: <same subject>`` in its thread (4.4).

    `n` makes the Message-ID unique among the ticket's follow-ups (a counter or a timestamp);
    `reply_address` as in :func:`render_ticket`.
    """
    moment = now or datetime.now(UTC)
    message = _base(
        settings,
        _reply_subject(ticket_subject(ticket)),
        followup_message_id(ticket.id, n, settings),
        moment,
        ticket_envelope(ticket, settings),
    )
    customer = safe_address(ticket.contact_email)
    message["Reply-To"] = _reply_to(customer, reply_address or settings.from_address)
    original = ticket_message_id(ticket.id, settings)
    message["In-Reply-To"] = original
    message["References"] = original
    message["X-Frontdesk-Ticket"] = ticket.id
    title = f"Дополнение к обращению {ticket.id}"
    items: list[Row] = [("Текст", text or NOT_GIVEN)]
    if attachments:
        items.append(("Вложения", ", ".join(_filename(a.name, "?") for a in attachments)))
    sections = [Section("Сообщение клиента", items)]
    problems = _check_files(attachments)
    if problems:
        sections.append(Section("Проблемы с вложениями", [("", p) for p in problems]))
    message.set_content(_plain(title, sections), subtype="plain")
    message.add_alternative(_html(title, sections), subtype="html")
    if attachments:
        _attach_files(message, attachments)
    return seal(message)


def render_customer_reply(
    to: str,
    subject: str,
    text: str,
    settings: Settings,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    now: datetime | None = None,
    reply_address: str | None = None,
    auto_submitted: str = "auto-generated",
    kind: str | None = None,
) -> OutboundMessage:
    """A plain-text message from the front desk to a customer (e-mail channel replies, codes).

    `auto_submitted`: "auto-replied" for an answer to the customer's own mail (RFC 3834);
    `kind`: shown as `X-Frontdesk-Kind` (e.g. "verification_code"), for tools reading the mail.

    `reply_address`: where the customer's answer should go (a ticket's reply address), else none
    is set and replies go to FROM_ADDRESS.
    """
    address = safe_address(to)
    if address is None:
        raise ValueError("not a single plain e-mail address")
    moment = now or datetime.now(UTC)
    message = _base(
        settings, header_text(subject) or "Что за софт", make_msgid(domain=_domain(settings)),
        moment, Envelope((address,)), auto_submitted,
    )  # fmt: skip
    if reply_address:
        message["Reply-To"] = reply_address
    if kind:
        message["X-Frontdesk-Kind"] = header_text(kind)
    ids = [header_text(r) for r in references if _MSGID.fullmatch(header_text(r))]
    if in_reply_to and _MSGID.fullmatch(header_text(in_reply_to)):
        message["In-Reply-To"] = header_text(in_reply_to)
        if header_text(in_reply_to) not in ids:
            ids.append(header_text(in_reply_to))
    if ids:
        message["References"] = " ".join(ids[-20:])
    message.set_content(clean(text), subtype="plain")
    return seal(message)
