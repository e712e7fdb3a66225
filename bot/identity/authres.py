"""Is an inbound e-mail really from its From address? ``Authentication-Results`` (RFC 8601).

E-mail customers are identified by their From address, which anyone can type. The receiving mail
server checks DKIM, SPF and DMARC and writes the outcome into ``Authentication-Results``:

    Authentication-Results: mx.example.net;
        dkim=pass header.i=@mail.ru header.s=mail4 header.b=Xj3F2aQd;
        spf=pass (mx.example.net: domain of ivan@mail.ru designates 94.100.1.1 as permitted
            sender) smtp.mailfrom=ivan@mail.ru;
        dmarc=pass (p=REJECT) header.from=mail.ru

:func:`auth_results_verdict` turns those header values into one word:

- ``"pass"``: DKIM passed for a domain aligned with the From domain (equal, or one a subdomain of
  the other: DMARC relaxed alignment), or SPF passed (for an aligned ``smtp.mailfrom`` when the
  header names one), or DMARC passed for the From domain;
- ``"fail"``: no aligned pass and DKIM, SPF or DMARC failed explicitly (``fail``; ``softfail``
  and ``neutral`` are not explicit);
- ``"none"``: nothing usable (no header, ``none``, ``temperror``, only unaligned passes).

A sender can write an ``Authentication-Results`` header of their own, with any authserv-id. So
only the ids of the operator's own receiving server count (``trusted_authserv_ids``, e.g.
``{"mx.whatasoft.net"}``, FRONTDESK_AUTHSERV_ID), and of those only the topmost header: the
receiving server adds its header above everything that came with the message (RFC 8601 §5 also
asks it to remove look-alikes). Without trusted ids no header is believed: the verdict is
``"none"``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["pass", "fail", "none"]

_EXPLICIT_FAIL = {"fail"}
_CHECKED = ("dkim", "spf", "dmarc")


@dataclass(frozen=True)
class MethodResult:
    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str
    results: tuple[MethodResult, ...]


def _strip_comments(value: str) -> str:
    """Drop RFC 5322 comments (nested parentheses), keeping quoted strings intact."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            if ch == '"':
                quoted = False
            out.append(ch)
            continue
        if ch == "(":
            depth += 1
            continue
        if ch == ")" and depth:
            depth -= 1
            out.append(" ")
            continue
        if depth:
            continue
        if ch == '"':
            quoted = True
        out.append(ch)
    return "".join(out)


def _split(value: str, sep: str) -> list[str]:
    """Split on `sep` outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


_TOKEN = re.compile(r'([^\s=]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]*)')


def parse_auth_results(value: str) -> AuthResults | None:
    """One header value; None when it has no authserv-id."""
    text = _strip_comments(value.replace("\r", " ").replace("\n", " "))
    segments = [s.strip() for s in _split(text, ";")]
    if not segments or not segments[0]:
        return None
    authserv_id = segments[0].split()[0].lower()
    results: list[MethodResult] = []
    for segment in segments[1:]:
        if not segment or segment.lower() == "none":
            continue
        pairs = _TOKEN.findall(segment)
        if not pairs:
            continue
        method, result = pairs[0]
        props: dict[str, str] = {}
        for key, raw in pairs[1:]:
            props.setdefault(key.lower(), raw.strip('"').lower())
        results.append(
            MethodResult(method.split("/")[0].lower(), result.strip('"').lower(), props)
        )
    return AuthResults(authserv_id, tuple(results))


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().strip("<>.").lower()


def aligned(domain: str, from_domain: str) -> bool:
    """DMARC relaxed alignment, approximated: equal, or one is a subdomain of the other."""
    a, b = _domain(domain), _domain(from_domain)
    if not a or not b:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _passes(result: MethodResult, from_domain: str) -> bool:
    if result.result != "pass":
        return False
    props = result.properties
    if result.method == "dkim":
        signer = props.get("header.d") or props.get("header.i")
        return bool(signer) and aligned(signer or "", from_domain)
    if result.method == "spf":
        envelope = props.get("smtp.mailfrom") or props.get("smtp.helo")
        return aligned(envelope, from_domain) if envelope else True
    if result.method == "dmarc":
        header_from = props.get("header.from")
        return aligned(header_from, from_domain) if header_from else True
    return False


def _considered(
    headers: Iterable[AuthResults], trusted: Collection[str] | None
) -> list[AuthResults]:
    """The topmost header written by a trusted server, if any."""
    ids = {t.strip().lower() for t in trusted or () if t.strip()}
    return [h for h in headers if h.authserv_id in ids][:1]


def auth_results_verdict(
    header_values: list[str],
    from_domain: str,
    trusted_authserv_ids: Collection[str] | None = None,
) -> Verdict:
    """ "pass", "fail" or "none" for the From domain; see the module docstring."""
    parsed = [p for p in (parse_auth_results(v) for v in header_values if v) if p is not None]
    results = [r for h in _considered(parsed, trusted_authserv_ids) for r in h.results]
    if any(_passes(r, from_domain) for r in results):
        return "pass"
    if any(r.method in _CHECKED and r.result in _EXPLICIT_FAIL for r in results):
        return "fail"
    return "none"


def trusted_ids(setting: str) -> frozenset[str]:
    """FRONTDESK_AUTHSERV_ID as a set of lowercase ids."""
    return frozenset(i.strip().lower() for i in setting.split(",") if i.strip())
