"""An optional look at the customer's site (off by default): does it answer, and how?

It gives the agent a first fact ("сайт отвечает 500") and the desk a hint for criticality (2.2:
restoring a site that is down). Because the URL comes from a stranger, the check is careful not to
become a way into the operator's network (SSRF):

- the host is resolved once (`asyncio` getaddrinfo, or an injected resolver); private, loopback,
  link-local, reserved, multicast and other non-global addresses are refused unless the operator's
  `allowed(addr)` says otherwise;
- the connection goes to exactly the address that was checked (aiohttp is handed a resolver pinned
  to it), while the URL keeps its host name, so the Host header and TLS SNI/certificate check are
  the site's own: no DNS rebinding between check and connect;
- one GET with a short overall timeout; the body is not read; redirects are not followed
  automatically — at most `MAX_REDIRECTS` are followed by hand, each target resolved and checked
  again; no proxies from the environment.

    status = await check_site(ticket.site_url, allowed=allowlist(["10.1.2.0/24"]))
    status.summary_ru   # «сайт отвечает 500»
    site_down(status)   # True: 5xx, timeout, connection refused
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
Reason = Literal[
    "ok",
    "http_error",
    "timeout",
    "refused",
    "dns",
    "forbidden",
    "bad_url",
    "tls",
    "redirects",
    "error",
]

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "frontdesk-sitecheck/1 (support intake; one GET, no redirects followed blindly)"


@dataclass(frozen=True)
class SiteStatus:
    """The outcome of a check. `status` is the last HTTP status seen (None when there was none).

    `ok`: the site answered with a non-error status (below 400) after redirects. `reason` is the
    machine-readable kind of outcome; `url` is the last URL requested.
    """

    ok: bool
    status: int | None
    summary_ru: str
    summary_en: str
    reason: Reason = "ok"
    url: str = ""

    def summary(self, lang: str) -> str:
        return self.summary_en if lang == "en" else self.summary_ru


def site_down(status: SiteStatus) -> bool:
    """A hint for 2.2 (restoring a site is urgent): 5xx, timeout or connection refused."""
    if status.reason in ("timeout", "refused"):
        return True
    return status.status is not None and status.status >= 500 and not status.ok


def deny_all(addr: IPAddress) -> bool:
    """The default policy: no internal address may be checked."""
    return False


def allowlist(networks: Iterable[str]) -> Callable[[IPAddress], bool]:
    """An `allowed` policy from the operator's addresses or networks ("10.0.0.0/8", "::1")."""
    nets = [ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()]

    def allowed(addr: IPAddress) -> bool:
        return any(addr.version == net.version and addr in net for net in nets)

    return allowed


def is_public(addr: IPAddress) -> bool:
    """True for globally routable unicast addresses (IPv4-mapped IPv6 judged by its IPv4 part)."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast and not addr.is_unspecified


async def system_resolve(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver (getaddrinfo), in its order, deduplicated."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]).split("%", 1)[0], None)
    return list(seen)


class _PinnedResolver(AbstractResolver):
    """aiohttp resolver that knows one host name: the checked address, nothing else."""

    def __init__(self, host: str, addr: IPAddress) -> None:
        self._host = host
        self._addr = addr

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:
            raise OSError(f"sitecheck: unexpected host {host!r}")
        fam = socket.AF_INET6 if self._addr.version == 6 else socket.AF_INET
        return [
            ResolveResult(
                hostname=host,
                host=str(self._addr),
                port=port,
                family=fam,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


class _Refused(Exception):
    def __init__(self, result: SiteStatus) -> None:
        super().__init__(result.summary_en)
        self.result = result


def _result(
    reason: Reason, ru: str, en: str, url: URL | str, status: int | None = None
) -> SiteStatus:
    return SiteStatus(reason == "ok", status, ru, en, reason, str(url))


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:g}"


async def _pick_address(
    url: URL, allowed: Callable[[IPAddress], bool], resolve: Resolver, redirected: bool
) -> tuple[str, IPAddress]:
    """The address to connect to for `url`, checked against the policy; raises _Refused."""
    if url.scheme not in ("http", "https") or not url.host:
        raise _Refused(
            _result("bad_url", "некорректный адрес сайта", "the site address is not valid", url)
        )
    host = url.host.rstrip(".")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        candidates: list[IPAddress] = [literal]
    else:
        try:
            addresses = await resolve(host, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise _Refused(
                _result("dns", "адрес не найден в DNS", "the host name is not found in DNS", url)
            ) from exc
        candidates = []
        for text in addresses:
            try:
                candidates.append(ipaddress.ip_address(text))
            except ValueError:
                continue
        if not candidates:
            raise _Refused(
                _result("dns", "адрес не найден в DNS", "the host name is not found in DNS", url)
            )
    for addr in candidates:
        if is_public(addr) or allowed(addr):
            return host, addr
    what_ru = "перенаправление на внутренний адрес" if redirected else "внутренний адрес"
    what_en = "a redirect to an internal address" if redirected else "an internal address"
    raise _Refused(
        _result(
            "forbidden",
            f"проверка запрещена: {what_ru}",
            f"check refused: {what_en}",
            url,
        )
    )


async def _get(
    url: URL, host: str, addr: IPAddress, ssl_context: ssl.SSLContext | None
) -> tuple[int, str | None]:
    """One GET to `addr` for `url` (Host and SNI from the URL); the status and Location header."""
    connector = aiohttp.TCPConnector(
        resolver=_PinnedResolver(host, addr),
        use_dns_cache=False,
        force_close=True,
        limit=1,
        ssl=ssl_context if ssl_context is not None else True,
    )
    async with (
        aiohttp.ClientSession(connector=connector, trust_env=False) as session,
        session.get(
            url,
            allow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
        ) as response,
    ):
        return response.status, response.headers.get("Location")


async def check_site(
    url: str,
    *,
    allowed: Callable[[IPAddress], bool] = deny_all,
    timeout: float = 5.0,  # noqa: ASYNC109 - the API asked for; bounds DNS + all redirects
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> SiteStatus:
    """GET `url` safely and describe the outcome in Russian and English.

    `allowed(addr)` is asked only about non-public addresses (the operator's allowlist; default:
    none). `timeout` bounds the whole check, redirects included. `resolver(host, port)` returns
    the host's IP addresses as strings (default: the system's getaddrinfo); `ssl_context` replaces
    the default certificate verification (tests). Never raises for network trouble.
    """
    resolve = resolver or system_resolve
    seconds = _fmt_seconds(timeout)
    try:
        current = URL(url.strip())
    except (ValueError, TypeError):
        return _result("bad_url", "некорректный адрес сайта", "the site address is not valid", url)
    status: int | None = None
    try:
        async with asyncio.timeout(timeout):
            for hop in range(MAX_REDIRECTS + 1):
                host, addr = await _pick_address(current, allowed, resolve, redirected=hop > 0)
                status, location = await _get(current, host, addr, ssl_context)
                if status not in REDIRECT_STATUSES or not location:
                    break
                try:
                    target = current.join(URL(location))
                except ValueError:
                    return _result(
                        "error",
                        f"сайт отвечает {status} с некорректным перенаправлением",
                        f"the site answers {status} with an invalid redirect",
                        current,
                        status,
                    )
                if hop == MAX_REDIRECTS:
                    return _result(
                        "redirects",
                        f"слишком много перенаправлений (больше {MAX_REDIRECTS})",
                        f"too many redirects (more than {MAX_REDIRECTS})",
                        current,
                        status,
                    )
                current = target
    except _Refused as refused:
        return SiteStatus(
            refused.result.ok,
            status,
            refused.result.summary_ru,
            refused.result.summary_en,
            refused.result.reason,
            refused.result.url,
        )
    except TimeoutError:
        return _result(
            "timeout",
            f"сайт не отвечает (таймаут {seconds} с)",
            f"the site does not respond (timeout {seconds} s)",
            current,
        )
    except aiohttp.ClientConnectorCertificateError:
        return _result(
            "tls",
            "ошибка TLS-сертификата сайта",
            "the site's TLS certificate is not valid",
            current,
        )
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, ConnectionRefusedError):
            return _result(
                "refused",
                "сайт не отвечает (соединение отклонено)",
                "the site does not respond (connection refused)",
                current,
            )
        return _result(
            "error",
            f"не удалось подключиться к сайту ({exc.os_error.strerror or exc.os_error})",
            f"could not connect to the site ({exc.os_error.strerror or exc.os_error})",
            current,
        )
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return _result(
            "error",
            f"ошибка при проверке сайта ({type(exc).__name__})",
            f"error while checking the site ({type(exc).__name__})",
            current,
        )
    assert status is not None
    if status < 400:
        return _result(
            "ok", f"сайт отвечает ({status})", f"the site responds ({status})", current, status
        )
    return _result(
        "http_error",
        f"сайт отвечает {status}",
        f"the site responds with {status}",
        current,
        status,
    )
