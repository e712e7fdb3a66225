"""Inbound e-mail parsing: raw RFC 5322 bytes → `InboundMessage`. Pure functions, no I/O.

What a customer writes to the front desk arrives in every shape: multipart or not, plain text or
HTML only (Outlook), in utf-8, koi8-r or windows-1251 (declared, mislabelled, or as raw 8-bit
headers), as a reply quoting the whole previous thread, with a signature. `parse_message` turns any
of these into the new text the customer wrote plus the attachments, and never raises: a message the
`email` package cannot make sense of still yields whatever could be recovered, with `defects` set.

`auto_reply_reason` implements the RFC 3834 side of loop safety: it says why a message must not be
answered automatically (auto-replies, bounces, lists, robots), or returns None.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.message
import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header
from html.parser import HTMLParser

from bot.address import parse_address
from bot.text import clean, fix_surrogates
from bot.tickets.model import TICKET_ID_RE

__all__ = [
    "InboundAttachment",
    "InboundMessage",
    "auto_reply_reason",
    "decode_bytes",
    "decode_header_value",
    "html_to_text",
    "message_id_domain",
    "normalize_subject",
    "parse_message",
    "strip_quotes",
    "strip_signature",
    "ticket_ids",
]

# Charsets tried, in order, when a part's declared charset is missing, unknown or wrong.
_FALLBACK_CHARSETS = ("utf-8", "windows-1251", "koi8-r")
_CHARSET_ALIASES = {"win-1251": "windows-1251", "cp-1251": "windows-1251", "x-cp1251": "cp1251"}


@dataclass(frozen=True)
class InboundAttachment:
    name: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class InboundMessage:
    """What the channel needs from one e-mail. Addresses are lowercased bare addresses."""

    message_id: str  # with angle brackets, as in the header ("" when absent)
    from_addr: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    subject: str
    in_reply_to: str
    references: tuple[str, ...]
    date: datetime | None
    body: str  # the whole text, decoded (HTML converted)
    text: str  # what the sender wrote now: quotes and signature stripped
    attachments: tuple[InboundAttachment, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # lowercased name → decoded value
    content_type: str = "text/plain"
    defects: tuple[str, ...] = ()
    auth_results: tuple[str, ...] = ()  # every Authentication-Results header, topmost first
    delivered_to: tuple[str, ...] = ()  # envelope recipients the receiving server recorded

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message answers: In-Reply-To first, then References newest first."""
        ids: list[str] = []
        for mid in (self.in_reply_to, *reversed(self.references)):
            if mid and mid not in ids:
                ids.append(mid)
        return tuple(ids)

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc

    @property
    def addressed_to(self) -> tuple[str, ...]:
        """Every address the message was sent to, as far as its headers tell."""
        return self.to + self.cc + self.delivered_to


# ---------------------------------------------------------------------------------------------
# decoding


# A charset label as mailers write it (RFC 2978 allows at most 40 characters); anything else, a
# NUL, a path or a sentence, names no charset and the charset is detected instead.
_CHARSET_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._:+-]{0,39}")
# Python codecs that are no mail charset: they turn escapes in the data into any character at all.
_NOT_CHARSETS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"}
)


def _norm_charset(charset: str | None) -> str | None:
    """The declared charset as a codec name, or None when it is missing, malformed or unknown."""
    if not charset:
        return None
    cs = charset.strip().strip('"').lower()
    cs = _CHARSET_ALIASES.get(cs, cs)
    if _CHARSET_NAME_RE.fullmatch(cs) is None:
        return None
    try:
        name = codecs.lookup(cs).name
    except LookupError:
        return None
    return None if name in _NOT_CHARSETS else cs


def _cyrillic_score(text: str) -> int:
    """Higher for text that looks like Russian: lowercase Cyrillic dominates real prose."""
    lower = sum(1 for ch in text if "а" <= ch <= "я" or ch == "ё")
    upper = sum(1 for ch in text if "А" <= ch <= "Я" or ch == "Ё")
    return lower - 2 * upper


def _mostly_utf8(data: bytes) -> bool:
    """True when fewer of the non-ASCII sequences are invalid UTF-8 than valid.

    Cyrillic in windows-1251 or koi8-r almost never forms valid UTF-8 by chance (a letter byte is
    followed by another letter byte, never by a continuation byte), while UTF-8 with a few broken
    bytes (a cut multi-byte character, one pasted 8-bit byte) is mostly valid."""
    text = data.decode("utf-8", errors="replace")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    invalid = text.count("\ufffd") - data.count("\ufffd".encode())
    return invalid < non_ascii - invalid


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode text bytes: the declared charset if it fits, else the likeliest of the fallbacks.

    Never raises, and the result holds no lone surrogates (a declared UTF-7 can make them)."""
    cs = _norm_charset(declared)
    if cs and cs not in ("us-ascii", "ascii"):
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return fix_surrogates(data.decode(cs))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):  # a few broken bytes must not turn the whole text into mojibake
        return data.decode("utf-8", errors="replace")
    # 8-bit Cyrillic without a usable label: koi8-r and windows-1251 both decode anything, so pick
    # the reading that looks most like Russian prose.
    candidates = [data.decode(c, errors="replace") for c in ("windows-1251", "koi8-r")]
    return max(candidates, key=_cyrillic_score)


def decode_header_value(value: object, fallback_charset: str | None = None) -> str:
    """Decode an RFC 2047 header (also raw 8-bit bytes in headers) into one clean line."""
    if value is None:
        return ""
    raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        # Raw 8-bit header bytes, surrogate-escaped by the parser.
        raw = decode_bytes(raw.encode("utf-8", "surrogateescape"), fallback_charset)
    try:
        parts = decode_header(raw)
    except Exception:  # malformed encoded words: keep the raw text
        return " ".join(raw.split())
    out: list[str] = []
    for chunk, cs in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, cs or fallback_charset))
        else:
            out.append(chunk)
    return " ".join("".join(out).split())


def _addresses(values: Sequence[str], charset: str | None) -> list[tuple[str, str]]:
    """(display name, address) pairs of address headers, parsed from the header as received.

    The address is taken from the raw header and only the display name is decoded afterwards: an
    encoded word in the name can then never pose as the address (``=?utf-8?b?<agent address>?=
    <attacker@…>`` is the attacker's). Addresses are validated with the one validator of
    :mod:`bot.address` and kept in their ASCII form, lowercased; anything else is left out.
    """
    return _valid_pairs(_raw_pairs(values), charset)


def _raw_pairs(values: Sequence[str]) -> list[tuple[str, str]]:
    try:
        return email.utils.getaddresses([str(v) for v in values])
    except Exception:  # a header the parser cannot read yields no address
        return []


def _valid_pairs(parsed: list[tuple[str, str]], charset: str | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, addr in parsed:
        if any("\udc80" <= ch <= "\udcff" for ch in addr):  # raw 8-bit bytes (an IDN host)
            addr = addr.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        address = parse_address(addr.strip())
        if address is not None:
            pairs.append((decode_header_value(name, charset), address.ascii.lower()))
    return pairs


_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_ENCODED_WORD_RE = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _single_sender(values: Sequence[str], charset: str | None) -> tuple[str, str]:
    """(name, address) of a From header that names exactly one valid address, else ("", "").

    A From with two addresses, or one the validator refuses, has no sender the desk can answer
    or believe; such a message is treated as having none. So has one whose text, quoted names
    and encoded words aside, holds a second "@" (``0@0.aa ( <ivan@mail.ru>``): parsers and mail
    clients may each read a different address out of it.
    """
    if len(values) != 1:
        return "", ""
    bare = _ENCODED_WORD_RE.sub("", _QUOTED_RE.sub("", str(values[0])))
    if bare.count("@") > 1:
        return "", ""
    raw = _raw_pairs(values)
    pairs = _valid_pairs(raw, charset) if len(raw) == 1 else []
    return pairs[0] if pairs else ("", "")


def message_id_domain(message_id: str) -> str:
    """`<abc@host.example>` → `host.example` (lowercase); "" when there is none."""
    mid = message_id.strip().strip("<>")
    return mid.rpartition("@")[2].lower() if "@" in mid else ""


_MSGID_RE = re.compile(r"<[^<>\s]+>")


def _msgids(value: str) -> list[str]:
    return _MSGID_RE.findall(value)


# ---------------------------------------------------------------------------------------------
# HTML → text


class _HtmlText(HTMLParser):
    _BLOCK = frozenset(
        {"address", "article", "aside", "div", "dl", "dt", "dd", "fieldset", "figure", "footer"}
        | {"form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol"}
        | {"p", "pre", "section", "table", "tr", "ul"}
    )
    _SKIP = frozenset({"script", "style", "head", "title", "xml"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._current: list[str] = []
        self._skip = 0
        self._quote = 0
        self._pre = 0

    def _break(self) -> None:
        line = "".join(self._current)
        if not self._pre:
            line = " ".join(line.split())
        prefix = "> " * self._quote
        self._lines.append((prefix + line).rstrip() if line else prefix.rstrip())
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "br":
            self._break()
        elif tag == "blockquote":
            self._break()
            self._quote += 1
        elif tag in self._BLOCK:
            if self._current:
                self._break()
            if tag == "pre":
                self._pre += 1
            elif tag == "hr":
                self._lines.append("-----")
            elif tag == "li":
                self._current.append("- ")
        elif tag in ("td", "th") and self._current:
            self._current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "blockquote":
            self._break()
            self._quote = max(0, self._quote - 1)
        elif tag in self._BLOCK:
            if self._current:
                self._break()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            if tag == "p":
                self._lines.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        data = data.replace("\xa0", " ")
        if self._pre:
            for i, piece in enumerate(data.split("\n")):
                if i:
                    self._break()
                self._current.append(piece)
        else:
            self._current.append(data)

    def text(self) -> str:
        if self._current:
            self._break()
        return _tidy("\n".join(self._lines))


def html_to_text(html: str) -> str:
    """Readable text from HTML (stdlib html.parser); blockquotes become `> ` quoted lines."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this is only a last guard
        return _tidy(re.sub(r"<[^>]*>", " ", html))
    return parser.text()


def _tidy(text: str) -> str:
    """Normalise newlines, strip trailing spaces (not the one of `-- `), squeeze blank lines."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.replace("\xa0", " ")
        lines.append(line if line == "-- " else line.rstrip())
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip("\n")


# ---------------------------------------------------------------------------------------------
# quotes and signatures

_ATTRIBUTION_RE = re.compile(
    r"(^on\b.{0,200}\bwrote:\s*$)|(\bпиш(ет|ут)\s*:\s*$)|(^\d.{0,120}\bnapsal\(a\):\s*$)",
    re.IGNORECASE,
)
_ORIGINAL_RE = re.compile(
    r"^\s*-{2,}\s*(original message|исходное сообщение|пересылаемое сообщение|"
    r"forwarded message|переадресованное сообщение)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM_RE = re.compile(r"^\s*\*?(from|от|от кого)\s*:\*?\s", re.IGNORECASE)
_HEADER_NEXT_RE = re.compile(
    r"^\s*\*?(sent|date|to|subject|cc|отправлено|дата|кому|тема|копия)\s*:", re.IGNORECASE
)
_UNDERSCORES_RE = re.compile(r"^\s*_{10,}\s*$")
_EMPTY_LABEL_RE = re.compile(r"^([^\W\d_][\w .()/-]{0,40}):\s*$")


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _unquote(line: str) -> str:
    return re.sub(r"^(\s*>\s?)+", "", line)


def strip_quotes(text: str) -> str:
    """Remove the quoted previous messages, keeping what the sender wrote now.

    Top-posting and bottom-posting both work; in an inline reply (answers between quoted lines)
    the answers are kept, and an answer written under a quoted empty form line (`> Версия:`) is
    joined to that label (`Версия: 24.1`), so a reply to the guided form is understood either way.
    """
    lines = text.split("\n")
    # 1. Cut at an unprefixed quote: "-----Original Message-----", an Outlook From/Sent block.
    for i, line in enumerate(lines):
        if _ORIGINAL_RE.match(line):
            lines = lines[:i]
            break
        if _HEADER_FROM_RE.match(line) and any(
            _HEADER_NEXT_RE.match(nxt) for nxt in lines[i + 1 : i + 5]
        ):
            cut = i
            while cut > 0 and (
                not lines[cut - 1].strip() or _UNDERSCORES_RE.match(lines[cut - 1])
            ):
                cut -= 1
            lines = lines[:cut]
            break
    # 2. Attribution lines ("On ... wrote:", "... пишет:"), possibly wrapped over two lines.
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        joined = line
        if i + 1 < len(lines) and not _is_quoted(lines[i + 1]):
            joined = f"{line} {lines[i + 1]}"
        matched_two = (
            not _ATTRIBUTION_RE.search(line.strip())
            and _ATTRIBUTION_RE.search(joined.strip())
            and line.strip()
            and len(joined) < 300
        )
        # "<date> от Name <a@b>:" (mail.ru, Yandex) directly above the quote is one as well.
        generic = (
            line.rstrip().endswith(":")
            and "@" in line
            and i + 1 < len(lines)
            and _is_quoted(lines[i + 1])
        )
        if not _is_quoted(line) and (
            _ATTRIBUTION_RE.search(line.strip()) or matched_two or generic
        ):
            rest = lines[i + (2 if matched_two else 1) :]
            if any(_is_quoted(r) for r in rest):
                i += 2 if matched_two else 1
                continue
            break  # an unprefixed quote follows the attribution: everything after it is old
        kept.append(line)
        i += 1
    # 3. Drop quoted lines; keep inline answers, joining them to an empty quoted label.
    out: list[str] = []
    pending_label: str | None = None
    for line in kept:
        if _is_quoted(line):
            m = _EMPTY_LABEL_RE.match(_unquote(line).strip())
            pending_label = m.group(1) if m else None
            continue
        if pending_label and line.strip():
            if not re.match(r"^[^\W\d_][\w .()/-]{0,40}:", line.strip()):
                line = f"{pending_label}: {line.strip()}"
            pending_label = None
        out.append(line)
    return _tidy("\n".join(out))


def strip_signature(text: str) -> str:
    """Cut at the last standard signature separator (a line `-- `; `--` alone as well)."""
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] in ("-- ", "--", "—"):
            return _tidy("\n".join(lines[:i]))
    return text


# ---------------------------------------------------------------------------------------------
# subjects


_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|antw|отв|ответ|пересл)(\[\d+\]|\(\d+\))?\s*:\s*)+", re.IGNORECASE
)


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes (`Re:`, `Fwd:`, `Отв:` ...)."""
    return _SUBJECT_PREFIX_RE.sub("", subject).strip()


def ticket_ids(text: str) -> list[str]:
    """Ticket tags (`[WAS-000123]` or a bare `WAS-000123`) in a subject, in order."""
    seen: list[str] = []
    for tid in TICKET_ID_RE.findall(text):
        if tid not in seen:
            seen.append(tid)
    return seen


# ---------------------------------------------------------------------------------------------
# the message


def _part_text(part: email.message.Message, fallback_charset: str | None) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    text = decode_bytes(payload, part.get_content_charset() or fallback_charset)
    if part.get_content_type() == "text/html":
        return html_to_text(text)
    return _tidy(text)


def _is_attachment(part: email.message.Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    maintype = part.get_content_maintype()
    if maintype == "text" and not part.get_filename():
        return False
    return maintype not in ("multipart",) and (
        bool(part.get_filename()) or maintype in ("image", "application", "audio", "video")
    )


def _body(part: email.message.Message, fallback: str | None) -> str:
    if part.is_multipart():
        payload = part.get_payload()
        children = [p for p in payload if isinstance(p, email.message.Message)]
        subtype = part.get_content_subtype()
        if subtype == "alternative":
            plain = [c for c in children if c.get_content_type() == "text/plain"]
            for child in plain:
                text = _part_text(child, fallback)
                if text.strip():
                    return text
            for child in reversed(children):
                if child.get_content_type() == "text/html" or child.is_multipart():
                    text = _body(child, fallback)
                    if text.strip():
                        return text
            return ""
        if subtype == "report":  # a delivery report: the human-readable first part only
            return _body(children[0], fallback) if children else ""
        texts = [_body(c, fallback) for c in children if not _is_attachment(c)]
        return "\n\n".join(t for t in texts if t.strip())
    if part.get_content_maintype() == "message":
        return ""
    if part.get_content_maintype() == "multipart":  # broken boundaries: recover the raw text
        raw = part.get_payload(decode=True)
        return _tidy(decode_bytes(raw, fallback)) if isinstance(raw, bytes) else ""
    if part.get_content_type() in ("text/plain", "text/html") and not _is_attachment(part):
        return _part_text(part, fallback)
    return ""


def _attachments(msg: email.message.Message, fallback: str | None) -> list[InboundAttachment]:
    found: list[InboundAttachment] = []

    def visit(part: email.message.Message) -> None:
        if part.is_multipart():
            for child in part.get_payload():
                if isinstance(child, email.message.Message):
                    visit(child)
            return
        if part.get_content_maintype() == "message" or part.get_content_type() in (
            "message/rfc822",
            "message/delivery-status",
        ):
            return
        if not _is_attachment(part):
            return
        name = decode_header_value(part.get_filename() or "", fallback).replace("/", "_")
        ctype = part.get_content_type()
        if not name:
            ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}.get(ctype, "bin")
            name = f"attachment-{len(found) + 1}.{ext}"
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        found.append(InboundAttachment(name, ctype, data if isinstance(data, bytes) else b""))

    visit(msg)
    return found


def _first_charset(msg: email.message.Message) -> str | None:
    for part in msg.walk():
        cs = part.get_content_charset()
        if cs and cs not in ("us-ascii", "ascii"):
            return cs
    return None


def parse_message(raw: bytes | str) -> InboundMessage:
    """Parse one e-mail. Never raises: problems are reported in `defects`."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    defects: list[str] = []
    try:
        msg = email.message_from_bytes(raw)
    except Exception as exc:  # the compat32 parser is lenient; guard anyway
        defects.append(f"unparseable: {exc!r}")
        msg = email.message.Message()
    defects.extend(type(d).__name__ for d in msg.defects)

    try:
        charset = _first_charset(msg)
    except Exception:
        charset = None

    # raw_items: the header text as received (8-bit bytes surrogate-escaped), decoded here.
    raw_headers: list[tuple[str, str]] = [(k.lower(), str(v)) for k, v in msg.raw_items()]
    headers: dict[str, str] = {}
    for key, value in raw_headers:
        if key not in headers:
            try:
                headers[key] = decode_header_value(value, charset)
            except Exception:
                headers[key] = ""

    def all_values(name: str) -> list[str]:
        return [v for k, v in raw_headers if k == name]

    from_name, from_addr = _single_sender(all_values("from"), charset)
    subject = headers.get("subject", "")
    date: datetime | None = None
    if headers.get("date"):
        with contextlib.suppress(Exception):
            date = email.utils.parsedate_to_datetime(headers["date"])

    try:
        # Cleaned here, where mail text enters: follow-ups go from here to the store unchanged.
        body = clean(_body(msg, charset))
    except Exception as exc:
        defects.append(f"body: {exc!r}")
        body = ""
    try:
        attachments = _attachments(msg, charset)
    except Exception as exc:
        defects.append(f"attachments: {exc!r}")
        attachments = []
    try:
        text = strip_signature(strip_quotes(body))
    except Exception as exc:  # pragma: no cover - regexes over str do not fail
        defects.append(f"strip: {exc!r}")
        text = body

    in_reply = _msgids(headers.get("in-reply-to", ""))
    try:
        content_type = msg.get_content_type()
    except Exception:
        content_type = "text/plain"
    return InboundMessage(
        message_id=(_msgids(headers.get("message-id", "")) or [""])[0],
        from_addr=from_addr,
        from_name=from_name,
        to=tuple(a for _, a in _addresses(all_values("to"), charset)),
        cc=tuple(a for _, a in _addresses(all_values("cc"), charset)),
        reply_to=tuple(a for _, a in _addresses(all_values("reply-to"), charset)),
        delivered_to=tuple(
            a
            for name in ("delivered-to", "x-original-to", "envelope-to")
            for _, a in _addresses(all_values(name), charset)
        ),
        subject=subject,
        in_reply_to=in_reply[0] if in_reply else "",
        references=tuple(_msgids(headers.get("references", ""))),
        date=date,
        body=body,
        text=text,
        attachments=tuple(attachments),
        headers=headers,
        content_type=content_type,
        defects=tuple(defects),
        auth_results=tuple(all_values("authentication-results")),
    )


# ---------------------------------------------------------------------------------------------
# loop safety (RFC 3834)

_ROBOT_LOCALPARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|noreply-.*|.*-noreply|bounces?(\+.*)?"
    r"|bounce-.*|auto-?reply|autoresponder|daemon|listserv|majordomo|nobody)$",
    re.IGNORECASE,
)


def auto_reply_reason(
    msg: InboundMessage,
    own_addresses: Iterable[str] = (),
    own_domains: Iterable[str] = (),
) -> str | None:
    """Why this message must get no automatic answer (RFC 3834), or None when it may get one.

    `own_addresses`: our own From addresses (the front desk); `own_domains`: the domains of the
    Message-IDs we generate — a message carrying one of them in its Message-ID is our own.
    """
    h = msg.headers
    auto = h.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = h.get("precedence", "").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    if "list-id" in h or "list-unsubscribe" in h:
        return "mailing list"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response"):
        if name in h:
            return name
    if "oof" in h.get("x-auto-response-suppress", "").lower() and "x-ms-exchange" in " ".join(h):
        return "Exchange auto-response"
    if msg.content_type == "multipart/report":
        return "delivery report"
    if h.get("return-path", "").strip() == "<>":
        return "null sender"
    if not msg.from_addr:
        return "no sender"
    local = msg.from_addr.partition("@")[0]
    if _ROBOT_LOCALPARTS.match(local):
        return f"robot sender {msg.from_addr}"
    own = {a.lower() for a in own_addresses}
    if msg.from_addr in own:
        return "our own address"
    domains = {d.lower() for d in own_domains if d}
    if domains and message_id_domain(msg.message_id) in domains:
        return "our own Message-ID"
    return None
