"""Authentication-Results (RFC 8601) to one verdict for the From domain."""

from __future__ import annotations

import pytest

from bot.identity.authres import auth_results_verdict, parse_auth_results

GMAIL_PASS = (
    "mx.google.com;\r\n       dkim=pass header.i=@mail.ru header.s=mail4 header.b=Xj3F2aQd;\r\n"
    "       spf=pass (google.com: domain of ivan@mail.ru designates 94.100.1.1 as permitted "
    "sender) smtp.mailfrom=ivan@mail.ru;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) "
    "header.from=mail.ru"
)
YANDEX_DKIM_ONLY = (
    "mxback5o.mail.yandex.net; dkim=pass header.i=@corp.example.ru; spf=softfail "
    "(mxback5o.mail.yandex.net: domain of corp.example.ru does not designate 1.2.3.4)"
)
SPOOFED = (
    "mx.whatasoft.net; dkim=fail (signature verification failed) header.d=bank.ru "
    "header.s=s1; spf=fail smtp.mailfrom=bank.ru; dmarc=fail (p=reject) header.from=bank.ru"
)
UNALIGNED_ESP = (
    "mx.whatasoft.net; dkim=pass header.d=sendgrid.net header.s=s1; "
    "spf=pass smtp.mailfrom=bounces+123@sendgrid.net; dmarc=fail header.from=shop.ru"
)
SPF_ONLY = "mx.whatasoft.net; spf=pass smtp.mailfrom=shop.ru; dkim=none"
NOTHING = "mx.whatasoft.net; none"
NEUTRAL = "mx.whatasoft.net; spf=neutral smtp.mailfrom=shop.ru; dkim=temperror"
VERSIONED = 'mx.whatasoft.net 1; dkim/1=pass header.d="shop.ru" header.s=s (quoted; odd)'
TRUSTED = {"mx.google.com", "mxback5o.mail.yandex.net", "mx.whatasoft.net"}


@pytest.mark.parametrize(
    ("headers", "domain", "verdict"),
    [
        ([GMAIL_PASS], "mail.ru", "pass"),
        ([GMAIL_PASS], "MAIL.RU", "pass"),
        ([YANDEX_DKIM_ONLY], "corp.example.ru", "pass"),
        ([YANDEX_DKIM_ONLY], "example.ru", "pass"),  # relaxed alignment: subdomain signer
        ([YANDEX_DKIM_ONLY], "other.ru", "none"),  # unaligned pass, softfail is not a fail
        ([SPOOFED], "bank.ru", "fail"),
        ([UNALIGNED_ESP], "shop.ru", "fail"),  # the ESP passed for itself, DMARC failed
        ([SPF_ONLY], "shop.ru", "pass"),
        ([NOTHING], "shop.ru", "none"),
        ([NEUTRAL], "shop.ru", "none"),
        ([], "shop.ru", "none"),
        ([VERSIONED], "shop.ru", "pass"),
    ],
)
def test_verdicts(headers, domain, verdict):
    assert auth_results_verdict(headers, domain, TRUSTED) == verdict


def test_no_header_is_believed_without_trusted_ids():
    assert auth_results_verdict([GMAIL_PASS], "mail.ru") == "none"
    assert auth_results_verdict([SPOOFED], "bank.ru", set()) == "none"


def test_only_the_topmost_header_of_the_trusted_server_counts():
    # A sender's own header with the desk's authserv-id sits below the one the server added.
    forged = "mx.whatasoft.net; dkim=pass header.d=bank.ru; dmarc=pass header.from=bank.ru"
    assert auth_results_verdict([SPOOFED, forged], "bank.ru", {"mx.whatasoft.net"}) == "fail"
    real_none = "mx.whatasoft.net; none"
    assert auth_results_verdict([real_none, forged], "bank.ru", {"mx.whatasoft.net"}) == "none"


def test_trusted_authserv_ids_ignore_headers_from_anyone_else():
    forged = "mx.whatasoft.net.evil; dkim=pass header.d=bank.ru"
    real = "mx.whatasoft.net; dmarc=fail header.from=bank.ru"
    assert auth_results_verdict([forged, real], "bank.ru", {"mx.whatasoft.net"}) == "fail"
    assert auth_results_verdict([forged], "bank.ru", {"mx.whatasoft.net"}) == "none"
    assert auth_results_verdict([GMAIL_PASS], "mail.ru", {"MX.google.com"}) == "pass"


def test_parse_keeps_methods_and_properties_and_drops_comments():
    parsed = parse_auth_results(GMAIL_PASS)
    assert parsed is not None and parsed.authserv_id == "mx.google.com"
    assert [(r.method, r.result) for r in parsed.results] == [
        ("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass"),
    ]  # fmt: skip
    assert parsed.results[0].properties["header.i"] == "@mail.ru"
    assert parsed.results[1].properties == {"smtp.mailfrom": "ivan@mail.ru"}
    assert parse_auth_results("") is None
