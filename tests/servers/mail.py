"""Real mail servers for tests: Dovecot (IMAP, IMAPS) + aiosmtpd delivering into its Maildirs.

Recipe: ../shared/TESTING.md. Everything listens on 127.0.0.1 only, on free ports.

Fixtures
- ``mail_servers`` (function scope): a :class:`MailServers` with empty mailboxes and fresh SMTP
  servers.
  Dovecot itself is session-scoped (``_dovecot``): started once, mailboxes wiped between tests.
- ``mail_settings``: a ``bot.config.Settings`` pointing SMTP (plain) and IMAP (plain) at the
  servers, support address ``support@whatasoft.test``, front-desk address
  ``frontdesk@whatasoft.test`` and a temporary data dir.

Mailboxes (users; password :data:`PASSWORD`): ``support``, ``frontdesk`` and ``customer``.
The SMTP server routes each envelope recipient by its local part (``support@anything`` goes to
``support``, ``frontdesk+x@...`` to ``frontdesk``); every other address lands in ``customer``.
Each message is stored once per distinct mailbox, as an MTA does.

SMTP listeners, all delivering the same way:
- ``smtp_port``: plain, no AUTH;
- ``smtp_starttls_port``: STARTTLS and AUTH (PLAIN/LOGIN, any user above) both required;
- ``smtp_tls_port``: implicit TLS, no AUTH.
Clients trust the self-signed certificate through :meth:`MailServers.client_ssl_context` (or
``cert_path``).

Faults: ``stop_smtp()``/``start_smtp()`` (same ports), ``fail_next(n, code, text)`` (the next ``n``
messages get that reply to DATA), ``hold_smtp()``/``release_smtp()`` (each message is stored, then
its 250 reply waits: a client killed meanwhile never learns it was accepted; ``holding`` counts
the replies waiting), ``stop_dovecot()``/``start_dovecot()``/``restart_dovecot()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import mailbox
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
HOST = "127.0.0.1"
PASSWORD = "Test-Pa55word"
USERS = ("support", "frontdesk", "customer")
CATCH_ALL = "customer"
MAIL_UID = 65534  # Dovecot refuses uid 0 for mail; "nobody"
MAIL_GID = 65534


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bind to port 0 and read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for_banner(port: int, prefix: bytes, timeout: float = 20.0) -> None:
    """Wait until a server on `port` greets with `prefix` (e.g. b"* OK")."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=2.0) as s:
                if s.recv(256).startswith(prefix):
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.02)
    raise RuntimeError(f"no {prefix!r} banner on port {port} after {timeout}s: {last}")


def _chown_tree(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, MAIL_UID, MAIL_GID)
        for name in dirs + files:
            os.chown(os.path.join(root, name), MAIL_UID, MAIL_GID)


class Dovecot:
    """A private Dovecot instance (child process) with its own config, certificate and users."""

    def __init__(self, root: Path, users: tuple[str, ...] = USERS, password: str = PASSWORD):
        self.root = root
        self.users = users
        self.password = password
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.cert_path = root / "cert.pem"
        self.key_path = root / "key.pem"
        self.conf_path = root / "dovecot.conf"
        self.log_path = root / "dovecot.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._setup()

    def home(self, user: str) -> Path:
        return self.root / "home" / user

    def maildir(self, user: str) -> Path:
        return self.home(user) / "Maildir"

    def _setup(self) -> None:
        root = self.root
        root.chmod(0o755)  # Dovecot's auth process (user dovecot) must traverse it
        for sub in ("run", "state"):
            (root / sub).mkdir()
        subprocess.run(
            [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(self.key_path), "-out", str(self.cert_path), "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
        (root / "passwd").write_text(
            "".join(f"{u}:{{PLAIN}}{self.password}\n" for u in self.users), encoding="utf-8"
        )
        (root / "passwd").chmod(0o644)
        (root / "home").mkdir(mode=0o755)
        for user in self.users:
            self.reset_mailbox(user)
        (root / "dovecot.conf").write_text(
            f"""base_dir = {root}/run
state_dir = {root}/state
instance_name = test-dovecot-{self.imap_port}
log_path = {self.log_path}
protocols = imap
listen = {HOST}
ssl = yes
ssl_cert = <{self.cert_path}
ssl_key = <{self.key_path}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_GID} home={root}/home/%u
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.imaps_port}
  }}
}}
""",
            encoding="utf-8",
        )

    def reset_mailbox(self, user: str) -> None:
        """Remove all of `user`'s messages, folders and indexes; recreate an empty Maildir."""
        home = self.home(user)
        if home.exists():
            shutil.rmtree(home)
        for sub in ("cur", "new", "tmp"):
            (self.maildir(user) / sub).mkdir(parents=True)
        _chown_tree(home)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_banner(self.imap_port, b"* OK")
        except RuntimeError as exc:
            self.stop()
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            raise RuntimeError(f"{exc}\n--- dovecot.log ---\n{log[-3000:]}") from exc

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()


@dataclass
class Received:
    """One SMTP transaction the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mailboxes: list[str]


@dataclass
class _Failure:
    code: int
    text: str


class _Handler:
    """aiosmtpd handler: optional scripted failures, then delivery into Dovecot's Maildirs."""

    def __init__(self, servers: MailServers) -> None:
        self.servers = servers

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        failure = self.servers._take_failure()
        if failure is not None:
            return f"{failure.code} {failure.text}"
        content: bytes = envelope.original_content or envelope.content
        targets = self.servers.route(envelope.rcpt_tos)
        for user in targets:
            self.servers._store(user, content)
        self.servers._record(
            Received(envelope.mail_from, list(envelope.rcpt_tos), content, targets)
        )
        if not self.servers._released.is_set():
            # Stored, but the client hears nothing until release_smtp(): a delivery in flight.
            with self.servers._lock:
                self.servers.holding += 1
            try:
                await asyncio.to_thread(self.servers._released.wait)
            finally:
                with self.servers._lock:
                    self.servers.holding -= 1
        return "250 OK delivered"


def _bindable(port: int) -> bool:
    """Whether a listener can bind the port now (as asyncio's servers do, with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _authenticator(users: tuple[str, ...], password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            ok = login in users and auth_data.password.decode("utf-8", "replace") == password
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    return check


@dataclass
class MailServers:
    """Handles of the running servers for one test. See the module docstring."""

    dovecot: Dovecot
    smtp_host: str = HOST
    smtp_port: int = 0
    smtp_starttls_port: int = 0
    smtp_tls_port: int = 0
    user: str = "support"
    password: str = PASSWORD
    domain: str = "whatasoft.test"
    received: list[Received] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    holding: int = 0  # messages stored whose 250 reply waits for release_smtp()
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)
    _controllers: list[Any] = field(default_factory=list)

    # --- addresses and paths -------------------------------------------------------------
    @property
    def imap_host(self) -> str:
        return HOST

    @property
    def imap_port(self) -> int:
        return self.dovecot.imap_port

    @property
    def imaps_port(self) -> int:
        return self.dovecot.imaps_port

    @property
    def users(self) -> tuple[str, ...]:
        return self.dovecot.users

    @property
    def maildir(self) -> Path:
        """The Maildir of `user` (``support``)."""
        return self.dovecot.maildir(self.user)

    def maildir_of(self, user: str) -> Path:
        return self.dovecot.maildir(user)

    def address(self, user: str) -> str:
        return f"{user}@{self.domain}"

    @property
    def cert_path(self) -> Path:
        return self.dovecot.cert_path

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the servers' self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.dovecot.cert_path))

    def server_ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.dovecot.cert_path), str(self.dovecot.key_path))
        return ctx

    # --- routing and delivery ------------------------------------------------------------
    def route(self, recipients: list[str]) -> list[str]:
        """Distinct mailboxes (users) for these envelope recipients, in order."""
        out: list[str] = []
        for rcpt in recipients:
            local = rcpt.rsplit("@", 1)[0].split("+", 1)[0].lower()
            user = local if local in self.users else CATCH_ALL
            if user not in out:
                out.append(user)
        return out

    def _store(self, user: str, content: bytes) -> None:
        with self._lock:
            box = mailbox.Maildir(str(self.dovecot.maildir(user)), factory=None, create=False)
            key = box.add(content)
            path = Path(self.dovecot.maildir(user)) / "new" / key
            with contextlib.suppress(FileNotFoundError):
                os.chown(path, MAIL_UID, MAIL_GID)

    def _record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)

    def deliver(self, msg: EmailMessage | bytes, user: str = "frontdesk") -> None:
        """Drop a message straight into `user`'s Maildir (inbound tests); no SMTP involved."""
        raw = msg if isinstance(msg, bytes) else msg.as_bytes(policy=email.policy.SMTP)
        self._store(user, raw)

    def count(self, user: str = "support") -> int:
        """Messages in `user`'s Maildir (new + cur), read from disk: cheap, for big counts."""
        md = self.dovecot.maildir(user)
        return sum(1 for sub in ("new", "cur") for _ in (md / sub).iterdir())

    def raw_messages(self, user: str = "support") -> list[bytes]:
        """Raw messages of `user` read from disk (no IMAP)."""
        md = self.dovecot.maildir(user)
        return [p.read_bytes() for sub in ("new", "cur") for p in sorted((md / sub).iterdir())]

    # --- faults --------------------------------------------------------------------------
    def fail_next(self, n: int, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        """Answer DATA of the next `n` messages with `code` (4xx temporary, 5xx permanent)."""
        with self._lock:
            self._failures.extend(_Failure(code, text) for _ in range(n))

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def hold_smtp(self) -> None:
        """From now on store each message, then hold its 250 reply until `release_smtp()`."""
        self._released.clear()

    def release_smtp(self) -> None:
        self._released.set()

    def start_smtp(self) -> None:
        """Start the three SMTP listeners (on the same ports as before, if restarted)."""
        if self._controllers:
            return
        from aiosmtpd.controller import Controller

        self._released.set()
        handler = _Handler(self)
        for attr in ("smtp_port", "smtp_starttls_port", "smtp_tls_port"):
            port = getattr(self, attr)
            if not port:  # a first start may take any free port
                port = free_port()
                while not _bindable(port):  # taken meanwhile by another server of the run
                    port = free_port()
                setattr(self, attr, port)
        specs: list[dict[str, Any]] = [
            {"port": self.smtp_port},
            {
                "port": self.smtp_starttls_port,
                "tls_context": self.server_ssl_context(),
                "require_starttls": True,
                "authenticator": _authenticator(self.users, self.password),
                "auth_required": True,
                "auth_require_tls": True,
            },
            {"port": self.smtp_tls_port, "ssl_context": self.server_ssl_context()},
        ]
        for spec in specs:
            for attempt in range(20):  # the same port may linger briefly after stop_smtp()
                # A fresh controller each time: one whose start timed out may still run its
                # loop, and starting it again would wait on that loop for ever.
                controller = Controller(
                    handler, hostname=HOST, server_hostname="localhost", ready_timeout=30.0,
                    **spec,
                )  # fmt: skip
                if not _bindable(spec["port"]):  # aiosmtpd would wait out its timeout first
                    time.sleep(0.2)
                    continue
                try:
                    controller.start()
                    break
                except (OSError, RuntimeError):
                    with contextlib.suppress(Exception):
                        controller.stop()
                    if attempt == 19:
                        raise
                    time.sleep(0.2)
            else:
                raise OSError(f"SMTP port {spec['port']} stays in use")
            self._controllers.append(controller)

    def stop_smtp(self) -> None:
        """Stop all SMTP listeners: clients get "connection refused" until start_smtp()."""
        self._released.set()
        controllers, self._controllers = self._controllers, []
        for controller in controllers:
            controller.stop()

    def stop_dovecot(self) -> None:
        self.dovecot.stop()

    def start_dovecot(self) -> None:
        self.dovecot.start()

    def restart_dovecot(self) -> None:
        self.dovecot.stop()
        self.dovecot.start()

    # --- IMAP ----------------------------------------------------------------------------
    async def fetch_all(
        self, user: str | None = None, folder: str = "INBOX", tls: bool = False
    ) -> list[EmailMessage]:
        """All messages of `user` (default ``support``) read back over IMAP, in mailbox order."""
        return [
            email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for raw in await self.fetch_raw(user, folder, tls)
        ]

    async def fetch_raw(
        self, user: str | None = None, folder: str = "INBOX", tls: bool = False
    ) -> list[bytes]:
        import aioimaplib

        client: aioimaplib.IMAP4
        if tls:
            client = aioimaplib.IMAP4_SSL(
                host=HOST, port=self.imaps_port, ssl_context=self.client_ssl_context(), timeout=30
            )
        else:
            client = aioimaplib.IMAP4(host=HOST, port=self.imap_port, timeout=30)
        await client.wait_hello_from_server()
        try:
            resp = await client.login(user or self.user, self.password)
            if resp.result != "OK":
                raise RuntimeError(f"IMAP login failed: {resp.lines}")
            resp = await client.select(folder)
            if resp.result != "OK":
                raise RuntimeError(f"IMAP select {folder} failed: {resp.lines}")
            exists = next(
                (int(line.split()[0]) for line in resp.lines if line.endswith(b"EXISTS")), 0
            )
            if not exists:
                return []
            resp = await client.fetch("1:*", "(BODY.PEEK[])")
            if resp.result != "OK":
                raise RuntimeError(f"IMAP fetch failed: {resp.lines}")
            return [bytes(line) for line in resp.lines if isinstance(line, bytearray)]
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), 10)
            # aioimaplib never closes its transport; without this a test can end before
            # Dovecot's EOF arrives and pytest reports an unclosed transport (ResourceWarning).
            transport = getattr(client.protocol, "transport", None)
            if transport is not None:
                transport.close()

    async def wait_for(
        self, count: int, user: str | None = None, wait: float = 30.0
    ) -> list[EmailMessage]:
        """Poll over IMAP until `user` has at least `count` messages (or `wait` s passed)."""
        deadline = time.monotonic() + wait
        while True:
            msgs = await self.fetch_all(user)
            if len(msgs) >= count or time.monotonic() > deadline:
                return msgs
            await asyncio.sleep(0.05)

    def reset(self) -> None:
        """Empty every mailbox and forget recorded transactions and pending failures."""
        for user in self.users:
            self.dovecot.reset_mailbox(user)
        with self._lock:
            self.received.clear()
            self._failures.clear()


def _skip_reason() -> str | None:
    if not Path(DOVECOT).exists():
        return "dovecot not installed (apt-get install -y dovecot-imapd)"
    if not Path(OPENSSL).exists():
        return "openssl not installed"
    if os.geteuid() != 0:
        return "the Dovecot fixture runs Dovecot's master as root (mail as uid 65534)"
    try:
        import aioimaplib  # noqa: F401
        import aiosmtpd  # noqa: F401
    except ImportError as exc:
        return f"missing test dependency: {exc}"
    return None


@pytest.fixture(scope="session")
def _dovecot() -> Iterator[Dovecot]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="frontdesk-dovecot-"))
    dovecot = Dovecot(root)
    try:
        dovecot.start()
        yield dovecot
    finally:
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mail_servers(_dovecot: Dovecot) -> Iterator[MailServers]:
    """Dovecot (shared, emptied) + fresh SMTP servers for this test."""
    if not _dovecot.running:
        _dovecot.start()
    servers = MailServers(_dovecot)
    servers.reset()
    servers.start_smtp()
    try:
        yield servers
    finally:
        servers.stop_smtp()
        if not _dovecot.running:  # a test stopped it: leave it running for the next one
            _dovecot.start()


@pytest.fixture
def mail_settings(mail_servers: MailServers, tmp_path: Path) -> Any:
    """Settings wired to `mail_servers` (plain SMTP, plain IMAP of the front-desk mailbox)."""
    from bot.config import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        smtp_host=HOST,
        smtp_port=mail_servers.smtp_port,
        smtp_tls="none",
        imap_host=HOST,
        imap_port=mail_servers.imap_port,
        imap_user="frontdesk",
        imap_password=mail_servers.password,  # type: ignore[arg-type]
        imap_tls="none",
        support_address=mail_servers.address("support"),
        from_address=mail_servers.address("frontdesk"),
        data_dir=tmp_path / "var",
    )
