"""IMAP watcher: hands every new message of the front-desk mailbox to a handler, exactly once.

- IDLE when the server offers it (pushes arrive within a second), else polling with NOOP every
  `poll_interval` seconds. An IDLE is renewed every `idle_renew` seconds, which also re-checks
  the mailbox as a safety net.
- Mail already in the mailbox is never left waiting for that safety net: after each batch the
  mailbox is searched again, and so after every IDLE notice, until a search finds nothing new and
  no new-mail notice (EXISTS) arrived meanwhile. A server announces a message once, in the answer
  to whatever command is running when it notices it (often the one marking the previous message
  \\Seen while the handler was busy); aioimaplib drops such notices, and the next IDLE does not
  repeat them, so the watcher counts them itself (`_note_untagged`).
- Reconnects with exponential backoff after any connection problem (server restart, network).
- UID-based: the last processed UID and the mailbox UIDVALIDITY are persisted in a small JSON
  state file (`$FRONTDESK_DATA_DIR/imap-state.json`), written atomically after every message, so
  a restart of the bot or of the server neither repeats nor skips a message. When UIDVALIDITY
  changes (the mailbox was recreated) UIDs mean nothing any more: the mailbox is rescanned from
  the start and messages already handled are recognised by their Message-ID (or content hash),
  remembered for the last `SEEN_KEYS` messages.
- The very first start (no state) handles the messages not yet marked \\Seen; the messages
  already read count as handled. Handled messages are marked \\Seen so people looking at the
  mailbox see what the desk took.
- aioimaplib has no STARTTLS: tls mode `tls` (or `starttls`) uses implicit TLS on the IMAPS port.

When the position is saved
--------------------------
A message's UID is written to the state file only after the handler has returned for it. A crash
(or a kill) while the handler runs, or between its return and that write, hands the same message
over again at the next start: delivery to the handler is at least once, and exactly once only
because the handler is idempotent (the e-mail channel records each processed Message-ID in the
same transaction as the ticket or reply it causes, and skips a message it has already done). The
`seen` keys of the state file cannot close that window: they are saved in the same write.

Stopping: `stop()`, or cancelling `run()`, lets the handler finish the message in hand (up to
`stop_grace` seconds when cancelled), saves its position, and only then ends `run()`.

A handler that raises is retried (after a reconnect backoff) up to `max_attempts` times, then the
message is logged and skipped so one poisonous message cannot stop the desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aioimaplib

from bot.clock import Clock, utc_now
from bot.config import Settings, TlsMode
from bot.ops.metrics import Metrics

__all__ = ["ImapError", "ImapWatcher", "UidState", "message_key", "state_path"]

log = logging.getLogger(__name__)

Handler = Callable[[bytes], Awaitable[None]]
SEEN_KEYS = 5000
_LOST = [b"frontdesk: connection lost"]
_UIDVALIDITY_RE = re.compile(rb"UIDVALIDITY (\d+)")
_EXISTS_RE = re.compile(rb"^\* \d+ EXISTS\b", re.IGNORECASE)
_FETCH_UID_RE = re.compile(rb"\bUID (\d+)")
_INTERNALDATE_RE = re.compile(rb'INTERNALDATE "([^"]+)"')
_MSGID_RE = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class ImapError(ConnectionError):
    """The IMAP server refused a command (login, select, search, fetch); the watcher reconnects."""


class _RetryLater(Exception):
    """The handler failed on a message that gets another attempt after a backoff."""


def message_key(raw: bytes) -> str:
    """Identity of a message across UIDVALIDITY changes: its Message-ID, else a content hash."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    m = _MSGID_RE.search(head)
    if m:
        return m.group(1).decode("ascii", "replace")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass
class UidState:
    """What the watcher has handled, persisted as JSON (atomic replace)."""

    path: Path
    uidvalidity: int | None = None
    last_uid: int = 0
    seen: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> UidState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                path,
                int(data["uidvalidity"]) if data.get("uidvalidity") is not None else None,
                int(data.get("last_uid", 0)),
                [str(k) for k in data.get("seen", [])],
            )
        except FileNotFoundError:
            return cls(path)
        except (ValueError, KeyError, TypeError, OSError) as exc:
            log.error("IMAP state file %s unreadable (%s); starting afresh", path, exc)
            return cls(path)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        data = {"uidvalidity": self.uidvalidity, "last_uid": self.last_uid, "seen": self.seen}
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.path)

    def mark(self, uid: int, key: str) -> None:
        self.last_uid = max(self.last_uid, uid)
        if key not in self.seen:
            self.seen.append(key)
            del self.seen[:-SEEN_KEYS]
        self.save()


class ImapWatcher:
    """Watch one mailbox; call `handler(raw_bytes)` once per new message. See the module doc."""

    def __init__(
        self,
        *,
        host: str,
        port: int | None,
        user: str,
        password: str,
        handler: Handler,
        state_path: Path,
        tls: TlsMode = "none",
        mailbox: str = "INBOX",
        ssl_context: ssl.SSLContext | None = None,
        poll_interval: float = 60.0,
        idle_renew: float = 60.0,
        use_idle: bool = True,
        backoff_initial: float = 0.5,
        backoff_max: float = 60.0,
        timeout: float = 30.0,
        max_attempts: int = 3,
        stop_grace: float = 30.0,
        metrics: Metrics | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.metrics = metrics or Metrics()
        self._clock = clock
        self.host = host
        self.tls = tls != "none"
        self.port = port or (993 if self.tls else 143)
        self.user = user
        self._password = password
        self.handler = handler
        self.mailbox = mailbox
        self.ssl_context = ssl_context
        self.poll_interval = poll_interval
        self.idle_renew = idle_renew
        self.use_idle = use_idle
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.stop_grace = stop_grace
        self.state = UidState.load(state_path)
        self.processed = 0  # messages handed to the handler by this watcher
        self.connects = 0  # successful logins (1 + reconnects)
        self.idling = asyncio.Event()  # set while an IDLE is active (tests, benchmarks)
        self.connected = asyncio.Event()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._attempts: dict[int, int] = {}
        self._client: aioimaplib.IMAP4 | None = None
        self._announced = 0  # new-mail notices (EXISTS) received so far, on any connection
        self._in_hand: tuple[int, str] | None = None  # (UID, key) while the handler runs

    @classmethod
    def from_settings(cls, settings: Settings, handler: Handler, **kwargs: Any) -> ImapWatcher:
        if not settings.imap_host:
            raise ValueError("FRONTDESK_IMAP_HOST is not set: the e-mail channel is off")
        password = settings.imap_password.get_secret_value() if settings.imap_password else ""
        options: dict[str, Any] = {
            "poll_interval": settings.imap_poll_interval,
            "idle_renew": settings.imap_idle_renew,
        }
        options.update(kwargs)  # explicit options (tests, benchmarks) win over the settings
        return cls(
            host=settings.imap_host,
            port=settings.imap_port,
            user=settings.imap_user or settings.from_address,
            password=password,
            handler=handler,
            state_path=state_path(settings),
            tls=settings.imap_tls,
            mailbox=settings.imap_mailbox,
            **options,
        )

    # --- control ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask `run()` to return (it ends an IDLE at once, and lets the message in hand finish
        first)."""
        if self._in_hand is not None and not self._stop.is_set():
            log.info("IMAP: stopping; finishing UID %s (%s) first", *self._in_hand)
        self._stop.set()
        self._wake.set()
        client = self._client
        if client is not None and client.protocol is not None:
            with contextlib.suppress(Exception):
                client.protocol.idle_queue.put_nowait(_LOST)

    def poke(self) -> None:
        """Check the mailbox now (e.g. after delivering from the same process)."""
        self._wake.set()
        client = self._client
        if client is not None and client.protocol is not None:
            with contextlib.suppress(Exception):
                client.protocol.idle_queue.put_nowait([b"frontdesk: poke"])

    async def run(self) -> None:
        """Watch until `stop()`: connect, handle, IDLE or poll; reconnect with backoff."""
        delay = self.backoff_initial
        while not self._stop.is_set():
            logged_in_before = self.connects
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except _RetryLater as exc:
                log.warning("IMAP: handler failed, retrying after %.1fs: %s", delay, exc)
            except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
                log.warning(
                    "IMAP %s:%s: %s: %s; reconnecting in %.1fs",
                    self.host, self.port, type(exc).__name__, exc, delay,
                )  # fmt: skip
            finally:
                self.idling.clear()
                self.connected.clear()
            if self._stop.is_set():
                break
            if self.connects > logged_in_before:
                delay = self.backoff_initial  # the session had worked: start the backoff afresh
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(delay * 2, self.backoff_max)

    # --- one connection --------------------------------------------------------------------
    async def _connect(self) -> aioimaplib.IMAP4:
        client: aioimaplib.IMAP4
        if self.tls:
            client = aioimaplib.IMAP4_SSL(
                host=self.host, port=self.port, ssl_context=self.ssl_context, timeout=self.timeout
            )
        else:
            client = aioimaplib.IMAP4(host=self.host, port=self.port, timeout=self.timeout)
        # A lost connection ends a pending wait for server pushes at once.
        queue = client.protocol.idle_queue

        def lost(_exc: Exception | None) -> None:
            client.protocol.state = "LOGOUT"
            queue.put_nowait(_LOST)

        client.protocol.conn_lost_cb = lost
        self._note_untagged(client)
        try:
            await client.wait_hello_from_server()
            resp = await client.login(self.user, self._password)
            if resp.result != "OK":
                raise ImapError(f"IMAP login as {self.user} refused: {_text(resp.lines)}")
        except BaseException:
            close_client(client)
            raise
        self._client = client
        return client

    def _note_untagged(self, client: aioimaplib.IMAP4) -> None:
        """Count the server's new-mail notices (`* n EXISTS`) whatever command they come with:
        aioimaplib keeps them only during IDLE or NOOP and drops those that answer a SEARCH,
        FETCH or STORE, which is exactly when mail lands while a message is being handled."""
        protocol = client.protocol
        untagged = protocol._untagged_response

        def note(line: bytes) -> Any:
            if _EXISTS_RE.match(line):
                self._announced += 1
            return untagged(line)

        protocol._untagged_response = note

    async def _session(self) -> None:
        client = await self._connect()
        try:
            resp = await client.select(self.mailbox)
            if resp.result != "OK":
                raise ImapError(f"IMAP select {self.mailbox} refused: {_text(resp.lines)}")
            self._check_uidvalidity(resp.lines)
            self.connects += 1
            self.connected.set()
            idle = self.use_idle and client.has_capability("IDLE")
            while not self._stop.is_set():
                self._wake.clear()
                await self._drain(client)
                if self._stop.is_set():
                    break
                if idle:
                    await self._idle(client)
                else:
                    await self._poll(client)
        finally:
            self._client = None
            if client.protocol.state != "LOGOUT":
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.logout(), 5)
            close_client(client)

    def _check_uidvalidity(self, lines: list[Any]) -> None:
        found = next(
            (int(m.group(1)) for ln in lines if (m := _UIDVALIDITY_RE.search(bytes(ln)))), None
        )
        if found is None:
            raise ImapError("IMAP server sent no UIDVALIDITY")
        st = self.state
        if st.uidvalidity is None:
            log.info("IMAP %s: first start (UIDVALIDITY %s): unseen messages", self.mailbox, found)
            st.uidvalidity, st.last_uid = found, -1  # -1: "unseen ones" on this first drain
        elif st.uidvalidity != found:
            log.warning(
                "IMAP %s: UIDVALIDITY changed %s → %s; rescanning, known Message-IDs skipped",
                self.mailbox, st.uidvalidity, found,
            )  # fmt: skip
            st.uidvalidity, st.last_uid = found, 0
        st.save()

    async def _drain(self, client: aioimaplib.IMAP4) -> None:
        """Handle every message after the last handled UID, in UID order; search again after each
        batch until a search finds nothing and no new-mail notice came meanwhile (module doc)."""
        st = self.state
        if st.last_uid < 0:
            # First start: the unseen messages are new; the ones already read count as handled.
            # ALL before UNSEEN: a message arriving between the two is unseen, so never skipped.
            everything = await self._search(client, "ALL")
            await self._handle(client, await self._search(client, "UNSEEN"))
            if self._stop.is_set() and st.last_uid < 0:
                return  # stopped before any message was done: still a first start next time
            st.last_uid = max(st.last_uid, *everything, 0)
            st.save()
        while not self._stop.is_set():
            announced = self._announced
            # "N:*" always matches the highest UID, even when it is below N
            uids = [u for u in await self._search(client, "UID", f"{st.last_uid + 1}:*")
                    if u > st.last_uid]  # fmt: skip
            await self._handle(client, uids)
            if not uids and self._announced == announced:
                return

    async def _search(self, client: aioimaplib.IMAP4, *criteria: str) -> list[int]:
        resp = await client.uid_search(*criteria, charset=None)
        if resp.result != "OK":
            raise ImapError(f"IMAP search refused: {_text(resp.lines)}")
        self.metrics.mailbox_checked()
        return sorted(set(_search_uids(resp.lines)))

    async def _handle(self, client: aioimaplib.IMAP4, uids: list[int]) -> None:
        """Hand each message to the handler, saving the position after each one."""
        st = self.state
        for uid in uids:
            if self._stop.is_set():
                return
            fetched = await self._fetch(client, uid)
            if fetched is None:  # expunged meanwhile
                st.mark(uid, f"uid:{st.uidvalidity}:{uid}")
                continue
            raw, arrived = fetched
            key = message_key(raw)
            if key in st.seen:
                log.info("IMAP: UID %s (%s) already handled; skipped", uid, key)
                st.mark(uid, key)
                continue
            try:
                await self._call_handler(uid, key, raw)
                if arrived is not None:
                    self.metrics.mail_handled(arrived, self._clock())
            except Exception as exc:
                attempts = self._attempts.get(uid, 0) + 1
                self._attempts[uid] = attempts
                if attempts < self.max_attempts:
                    raise _RetryLater(f"UID {uid} ({key}), attempt {attempts}: {exc!r}") from exc
                log.exception(
                    "IMAP: giving up on UID %s (%s) after %s attempts", uid, key, attempts
                )
            self._attempts.pop(uid, None)
            st.mark(uid, key)
            self.processed += 1
            with contextlib.suppress(Exception):
                await client.uid("store", str(uid), "+FLAGS", r"(\Seen)")

    async def _call_handler(self, uid: int, key: str, raw: bytes) -> None:
        """Run the handler; when the watcher is cancelled meanwhile (the desk is stopping), let it
        finish the message in hand first and record it, then let the cancellation through."""
        task = asyncio.ensure_future(self.handler(raw))
        self._in_hand = (uid, key)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                log.info("IMAP: stopping; finishing UID %s (%s) first", uid, key)
                await asyncio.wait({task}, timeout=self.stop_grace)
            if not task.done():
                task.cancel()
                log.error("IMAP: UID %s (%s) not finished after %.0fs; it will be handed "
                          "over again at the next start", uid, key, self.stop_grace)  # fmt: skip
            elif not task.cancelled() and task.exception() is None:
                self.state.mark(uid, key)
                self.processed += 1
            raise
        finally:
            self._in_hand = None

    async def _fetch(
        self, client: aioimaplib.IMAP4, uid: int
    ) -> tuple[bytes, datetime | None] | None:
        """The message and when it arrived in the mailbox (its INTERNALDATE, for the lag
        metric), or None when it is gone."""
        resp = await client.uid("fetch", str(uid), "(UID INTERNALDATE BODY.PEEK[])")
        if resp.result != "OK":
            raise ImapError(f"IMAP fetch {uid} refused: {_text(resp.lines)}")
        lines = resp.lines
        for i, ln in enumerate(lines[:-1]):
            if isinstance(ln, bytes | bytearray) and b"FETCH" in ln:
                m = _FETCH_UID_RE.search(bytes(ln))
                nxt = lines[i + 1]
                if m and int(m.group(1)) == uid and isinstance(nxt, bytearray):
                    # The server may put INTERNALDATE before the body or after it.
                    rest = lines[i + 2] if i + 2 < len(lines) - 1 else b""
                    return bytes(nxt), _internaldate(bytes(ln), rest)
        return None

    async def _idle(self, client: aioimaplib.IMAP4) -> None:
        """One IDLE round: until a server push, a poke, `idle_renew`, or a lost connection."""
        idle_task = await client.idle_start(timeout=self.idle_renew + 30)
        self.idling.set()
        lost = False
        try:
            push = await client.wait_server_push(timeout=self.idle_renew)
            lost = push is _LOST or any(b"BYE" in bytes(x) for x in push if _is_bytes(x))
        except TimeoutError:
            pass
        finally:
            self.idling.clear()
        if lost and (client.protocol.state == "LOGOUT" or not self._stop.is_set()):
            raise ConnectionResetError("IMAP connection lost during IDLE")
        client.idle_done()
        await asyncio.wait_for(idle_task, self.timeout)
        if client.protocol.state == "LOGOUT":
            raise ConnectionResetError("IMAP server logged us out")

    async def _poll(self, client: aioimaplib.IMAP4) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        resp = await client.noop()
        if resp.result != "OK":
            raise ImapError(f"IMAP noop refused: {_text(resp.lines)}")


def state_path(settings: Settings) -> Path:
    """Where the watcher keeps its mailbox position (read by `frontdesk status` too)."""
    return settings.data_dir / "imap-state.json"


def close_client(client: aioimaplib.IMAP4) -> None:
    """Close an aioimaplib client for good, whatever state it is in (after LOGOUT or not): its
    socket, and its connection attempt if that is still under way (it would open a socket that
    nobody closes)."""
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        # abort, not close: the session is over (LOGOUT answered, or the connection is gone), and
        # a TLS close waits for the server's close_notify, leaving the socket open meanwhile —
        # for good if the loop ends first.
        transport.abort()
    task = getattr(client, "_client_task", None)
    if task is not None and not task.done():
        task.cancel()


def _search_uids(lines: list[Any]) -> list[int]:
    """UIDs of a SEARCH answer (aioimaplib may or may not keep the `SEARCH` word)."""
    uids: list[int] = []
    for ln in lines[:-1]:  # the last line is the tagged completion text
        toks = bytes(ln).split() if _is_bytes(ln) else []
        if toks and toks[0].upper() == b"SEARCH":
            toks = toks[1:]
        uids.extend(int(t) for t in toks if t.isdigit())
    return uids


def _internaldate(*parts: Any) -> datetime | None:
    """`INTERNALDATE "25-Nov-2026 10:04:12 +0300"` in a FETCH answer, as an aware datetime."""
    for part in parts:
        m = _INTERNALDATE_RE.search(bytes(part)) if _is_bytes(part) else None
        if m:
            try:
                text = m.group(1).decode("ascii").strip()
                return datetime.strptime(text, "%d-%b-%Y %H:%M:%S %z")
            except (UnicodeDecodeError, ValueError):
                return None
    return None


def _is_bytes(x: object) -> bool:
    return isinstance(x, bytes | bytearray)


def _text(lines: list[Any]) -> str:
    return " ".join(bytes(x).decode("utf-8", "replace") for x in lines if _is_bytes(x))[:300]
