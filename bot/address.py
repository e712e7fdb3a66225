"""What counts as a deliverable e-mail address: one validator for every place that needs one.

A customer types a contact address (4.2), an e-mail arrives with a From header, a ticket is
rendered with the contact in Cc, an outbox row gets its envelope: each of these asks the same
question, so an address the desk accepted from a customer is never refused later when it is
mailed (or the other way round).

Only the plain ``local@domain`` form is accepted: a dot-atom local part (no quoted local parts,
no comments, no display names) and a host name whose labels are letters, digits and hyphens
(Cyrillic hosts are turned into punycode). Anything else — a second address, a line break, an
encoded word, a quoted string — is not an address the desk sends mail to.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

__all__ = ["MailAddress", "host_to_ascii", "host_to_unicode", "parse_address"]

# RFC 5322 atext, in dot-atom form: no quotes, no spaces, no "(", ")", "<", ">", "@", ",", ";".
# "=" followed by "?" would start an encoded word, which no address needs.
_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_HOST_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD_RE = re.compile(r"^(?:[a-z]{2,24}|xn--[a-z0-9-]{2,59})$")


@dataclass(frozen=True)
class MailAddress:
    """A validated address: `ascii` is what goes on the wire, `display` what a person reads."""

    local: str
    ascii_domain: str

    @property
    def ascii(self) -> str:
        return f"{self.local}@{self.ascii_domain}"

    @property
    def display(self) -> str:
        return f"{self.local}@{host_to_unicode(self.ascii_domain)}"


def host_to_ascii(host: str) -> str | None:
    """A host name in punycode, lowercased; None when it is not a valid host name."""
    host = host.strip(".").lower()
    if not host or len(host) > 253:
        return None
    labels = []
    for label in host.split("."):
        try:
            ascii_label = label.encode("idna").decode("ascii") if not label.isascii() else label
        except UnicodeError:
            return None
        if not _HOST_LABEL_RE.match(ascii_label):
            return None
        labels.append(ascii_label)
    if len(labels) < 2 or not _TLD_RE.match(labels[-1]):
        return None
    return ".".join(labels)


def host_to_unicode(host: str) -> str:
    """The readable form of a punycode host (``xn--...`` labels decoded)."""
    out = []
    for label in host.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                label = label.encode("ascii").decode("idna")
        out.append(label)
    return ".".join(out)


def parse_address(text: str) -> MailAddress | None:
    """The address `text` is, exactly (no surrounding text), or None."""
    if not text or len(text) > 254 or not text.isprintable() or any(c.isspace() for c in text):
        return None
    local, at, domain = text.rpartition("@")
    if not at or not local or len(local) > 64 or "=?" in local:
        return None
    if not local.isascii() or _LOCAL_RE.fullmatch(local) is None:
        return None
    ascii_domain = host_to_ascii(domain)
    if ascii_domain is None:
        return None
    return MailAddress(local, ascii_domain)
