"""The site check against a real local aiohttp server on 127.0.0.1 — no other address is ever used.

Names other than 127.0.0.1 are resolved by an injected resolver (a dictionary), so no DNS query
leaves the machine either.
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import ssl
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.policy.sitecheck import (
    MAX_REDIRECTS,
    SiteStatus,
    allowlist,
    check_site,
    deny_all,
    is_public,
    site_down,
)

LOOPBACK = allowlist(["127.0.0.1"])


@dataclass
class Server:
    port: int
    hosts: list[str] = field(default_factory=list)  # Host headers seen
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server(port=0)

    async def ok(request: web.Request) -> web.Response:
        state.hosts.append(request.headers.get("Host", ""))
        return web.Response(text="hello")

    async def fail(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    async def slow(request: web.Request) -> web.Response:
        await state.release.wait()
        return web.Response(text="late")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def loop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/loop/{n + 1}")

    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_get("/500", fail)
    app.router.add_get("/404", missing)
    app.router.add_get("/slow", slow)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/loop/{n}", loop)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = int(runner.addresses[0][1])
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


class FakeResolver:
    """Resolves names from a table (no DNS query leaves the machine) and records the calls."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


resolver = FakeResolver


async def test_200(server: Server) -> None:
    status = await check_site(server.url(), allowed=LOOPBACK)
    assert status == SiteStatus(
        True, 200, "сайт отвечает (200)", "the site responds (200)", "ok", server.url()
    )
    assert not site_down(status)


async def test_500_is_down(server: Server) -> None:
    status = await check_site(server.url("/500"), allowed=LOOPBACK)
    assert (status.ok, status.status, status.summary_ru) == (False, 500, "сайт отвечает 500")
    assert status.summary("en") == "the site responds with 500"
    assert site_down(status)


async def test_404_answers_but_is_not_down(server: Server) -> None:
    status = await check_site(server.url("/404"), allowed=LOOPBACK)
    assert (status.ok, status.status, status.reason) == (False, 404, "http_error")
    assert not site_down(status)


async def test_loopback_refused_when_not_allowed(server: Server) -> None:
    status = await check_site(server.url())
    assert status.reason == "forbidden"
    assert status.summary_ru == "проверка запрещена: внутренний адрес"
    assert status.status is None and not site_down(status)
    assert server.hosts == []  # no request reached the server


async def test_operator_allowlist_permits_it(server: Server) -> None:
    assert (await check_site(server.url(), allowed=allowlist(["127.0.0.0/8"]))).ok
    assert (await check_site(server.url(), allowed=lambda addr: addr.is_loopback)).ok


async def test_name_resolving_to_loopback_is_refused(server: Server) -> None:
    resolve = resolver({"shop.example": ["127.0.0.1"]})
    status = await check_site(server.url(host="shop.example"), resolver=resolve)
    assert status.reason == "forbidden"
    assert server.hosts == []


async def test_connects_to_the_checked_address_and_keeps_the_host_header(server: Server) -> None:
    # Given a name that resolves (once) to the allowed local server
    resolve = resolver({"shop.example": ["127.0.0.1"]})
    status = await check_site(server.url(host="shop.example"), allowed=LOOPBACK, resolver=resolve)
    # Then the request went to that address with the site's own Host header
    assert status.ok
    assert server.hosts == [f"shop.example:{server.port}"]
    # and the name was resolved exactly once: aiohttp did not resolve it again (no rebinding)
    assert resolve.calls == ["shop.example"]


async def test_only_permitted_addresses_are_used(server: Server) -> None:
    # A name with a forbidden address first and an allowed one after: the allowed one is used
    resolve = resolver({"shop.example": ["10.0.0.1", "127.0.0.1"]})
    status = await check_site(server.url(host="shop.example"), allowed=LOOPBACK, resolver=resolve)
    assert status.ok


async def test_redirect_is_followed_and_rechecked(server: Server) -> None:
    resolve = resolver({"www.shop.example": ["127.0.0.1"]})
    target = server.url("/", host="www.shop.example")
    status = await check_site(
        server.url(f"/redirect?to={target}"), allowed=LOOPBACK, resolver=resolve
    )
    assert status.ok and status.url == target
    assert server.hosts == [f"www.shop.example:{server.port}"]
    assert resolve.calls == ["www.shop.example"]


async def test_redirect_to_a_private_address_is_refused(server: Server) -> None:
    # Given a site the operator allowed (127.0.0.1) that redirects to an internal address
    for target in ("http://10.1.2.3/admin", "http://intranet.example/"):
        resolve = resolver({"intranet.example": ["192.168.0.10"]})
        status = await check_site(
            server.url(f"/redirect?to={target}"), allowed=LOOPBACK, resolver=resolve
        )
        # Then nothing is sent there and the refusal is reported with the redirect's status
        assert status.reason == "forbidden"
        assert status.summary_ru == "проверка запрещена: перенаправление на внутренний адрес"
        assert status.status == 302
        assert status.url == target


async def test_at_most_three_redirects(server: Server) -> None:
    status = await check_site(server.url("/loop/0"), allowed=LOOPBACK)
    assert status.reason == "redirects"
    assert status.url == server.url(f"/loop/{MAX_REDIRECTS}")
    assert status.summary_ru == "слишком много перенаправлений (больше 3)"


async def test_timeout(server: Server) -> None:
    status = await check_site(server.url("/slow"), allowed=LOOPBACK, timeout=0.5)
    assert status.reason == "timeout"
    assert status.summary_ru == "сайт не отвечает (таймаут 0.5 с)"
    assert status.summary_en == "the site does not respond (timeout 0.5 s)"
    assert site_down(status)


async def test_connection_refused_is_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on that port now
    status = await check_site(f"http://127.0.0.1:{port}/", allowed=LOOPBACK)
    assert status.reason == "refused"
    assert status.summary_ru == "сайт не отвечает (соединение отклонено)"
    assert site_down(status)


async def test_dns_not_found() -> None:
    status = await check_site("http://no-such-host.invalid/", resolver=resolver({}))
    assert status.reason == "dns"
    assert status.summary_ru == "адрес не найден в DNS"
    assert not site_down(status)


@pytest.mark.parametrize("url", ["ftp://example.com/", "http:///nohost", "not a url"])
async def test_bad_urls(url: str) -> None:
    status = await check_site(url, resolver=resolver({}))
    assert status.reason == "bad_url"
    assert status.summary_ru == "некорректный адрес сайта"


@pytest.mark.parametrize(
    ("addr", "public"),
    [
        ("8.8.8.8", True),
        ("2a00:1450:4010:c0b::64", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_public_addresses(addr: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(addr)) is public


def test_allowlist_and_default_policy() -> None:
    allowed = allowlist(["10.1.0.0/16", " ::1 ", ""])
    assert allowed(ipaddress.ip_address("10.1.2.3"))
    assert allowed(ipaddress.ip_address("::1"))
    assert not allowed(ipaddress.ip_address("10.2.0.1"))
    assert not allowed(ipaddress.ip_address("127.0.0.1"))
    assert not deny_all(ipaddress.ip_address("127.0.0.1"))


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[int, ssl.SSLContext, list[str]]]:
    """HTTPS on 127.0.0.1 with a self-signed certificate for `shop.example` only."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    proc = await asyncio.create_subprocess_exec(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", str(key), "-out", str(cert), "-subj", "/CN=shop.example",
        "-addext", "subjectAltName=DNS:shop.example",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert await proc.wait() == 0
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    sni: list[str] = []

    def remember_sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        sni.append(name or "")

    server_ctx.sni_callback = remember_sni

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="secure")

    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    try:
        yield int(runner.addresses[0][1]), client_ctx, sni
    finally:
        await runner.cleanup()


async def test_https_keeps_sni_and_certificate_check_on_the_name(
    tls_server: tuple[int, ssl.SSLContext, list[str]],
) -> None:
    port, client_ctx, sni = tls_server
    resolve = resolver({"shop.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    # Given the pinned address, TLS still names the site: SNI and the certificate match it
    status = await check_site(
        f"https://shop.example:{port}/", allowed=LOOPBACK, resolver=resolve, ssl_context=client_ctx
    )
    assert status.ok, status
    assert sni == ["shop.example"]
    # and a certificate for another name is refused
    status = await check_site(
        f"https://other.example:{port}/",
        allowed=LOOPBACK,
        resolver=resolve,
        ssl_context=client_ctx,
    )
    assert status.reason == "tls"
    assert not site_down(status)
