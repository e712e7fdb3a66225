"""`frontdesk status`: what an operator needs to know about the mail side, read without changing
anything.

Figures: the outbox queue (depth, age of the oldest message waiting, next attempt, last error),
the last successful delivery, the messages that failed for good, and the IMAP watcher's stored
position (UIDVALIDITY / last UID) with its lag: how many messages of the front-desk mailbox it
has not handled yet and how long the oldest has waited (one short, read-only IMAP session;
`--no-imap` skips it).

The database is opened read-only and never created: with no database the command says so and
exits with 1 (with FRONTDESK_DATABASE_URL: the shared database, in read-only transactions; "none"
when the desk has not migrated it yet). A database the desk closed cleanly has no WAL file; it
is then read as immutable, so that not even SQLite's shared-memory file is created (as root it
would belong to root and lock the desk's own user out). While the desk runs, the WAL and its
index exist and are only read.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import json
import re
import sqlite3
import ssl
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.mail.imap import UidState, state_path
from bot.tickets import sqlite as desk_sqlite
from bot.tickets.store import Store

__all__ = ["collect", "main", "render_text"]

IMAP_TIMEOUT = 10.0  # an operator is waiting at the terminal


def open_read_only(path: Path) -> sqlite3.Connection:
    """The database at `path`, read-only; FileNotFoundError when there is none (never made)."""
    if not path.is_file():
        raise FileNotFoundError(path)
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    conn.execute("PRAGMA query_only = ON")
    return conn


async def _outbox_figures(conn: sqlite3.Connection) -> dict[str, Any]:
    return await Store(desk_sqlite.Connection(conn)).outbox_figures()


def collect(settings: Settings, *, now: datetime, check_imap: bool = True) -> dict[str, Any]:
    """Every figure as plain JSON values (timestamps ISO 8601 in UTC, durations in seconds)."""
    db_path = settings.database_path
    report: dict[str, Any] = {
        "now": _iso(now),
        "data_dir": str(settings.data_dir),
        "database": str(db_path),
        "database_found": db_path.is_file(),
        "outbox": None,
        "imap": _imap(settings, now, check_imap),
    }
    if settings.database_url:
        from bot.tickets.pg.store import read_outbox_figures, without_password

        report["database"] = without_password(settings.database_url)
        shared = asyncio.run(read_outbox_figures(settings.database_url))
        report["database_found"] = shared is not None
        if shared is None:
            return report
        figures = shared
    else:
        if not report["database_found"]:
            return report
        conn = open_read_only(db_path)
        try:
            figures = asyncio.run(_outbox_figures(conn))
        finally:
            conn.close()
    oldest: datetime | None = figures["oldest_waiting_at"]
    report["outbox"] = {
        "depth": figures["queued"] + figures["sending"],
        "queued": figures["queued"],
        "sending": figures["sending"],
        "oldest_waiting_at": _iso(oldest),
        "oldest_waiting_age_seconds": _age(now, oldest),
        "next_attempt_at": _iso(figures["next_attempt_at"]),
        "next_attempt_in_seconds": _until(now, figures["next_attempt_at"]),
        "last_error": figures["last_error"],
        "last_delivery_at": _iso(figures["last_sent_at"]),
        "last_delivery_age_seconds": _age(now, figures["last_sent_at"]),
        "sent": figures["sent"],
        "failed": figures["failed"],
    }
    return report


def _imap(settings: Settings, now: datetime, check: bool) -> dict[str, Any]:
    path = state_path(settings)
    info: dict[str, Any] = {
        "configured": settings.imap_enabled,
        "mailbox": settings.imap_mailbox,
        "state_file": str(path),
        "position_saved": path.is_file(),
        "uidvalidity": None,
        "last_uid": None,
        "saved_at": None,
        "lag": None,
    }
    if info["position_saved"]:
        state = UidState.load(path)  # only reads: it writes nothing back
        info["uidvalidity"] = state.uidvalidity
        info["last_uid"] = state.last_uid
        info["saved_at"] = _iso(datetime.fromtimestamp(path.stat().st_mtime, UTC))
    if settings.imap_enabled and check:
        info["lag"] = _mailbox_lag(settings, info["uidvalidity"], info["last_uid"], now)
    return info


def _mailbox_lag(
    settings: Settings, uidvalidity: int | None, last_uid: int | None, now: datetime
) -> dict[str, Any]:
    """Messages after the stored position, and the arrival time of the oldest (EXAMINE: the
    mailbox is opened read-only, no flag changes)."""
    assert settings.imap_host
    tls = settings.imap_tls != "none"  # as the watcher: "starttls" means IMAPS (aioimaplib)
    port = settings.imap_port or (993 if tls else 143)
    password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    lag: dict[str, Any] = {"checked": False, "error": None}
    client: imaplib.IMAP4 | None = None
    try:
        if tls:
            client = imaplib.IMAP4_SSL(
                settings.imap_host, port, ssl_context=ssl.create_default_context(),
                timeout=IMAP_TIMEOUT,
            )  # fmt: skip
        else:
            client = imaplib.IMAP4(settings.imap_host, port, timeout=IMAP_TIMEOUT)
        client.login(settings.imap_user or settings.from_address, password)
        typ, _ = client.select(_quote(settings.imap_mailbox), readonly=True)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot open {settings.imap_mailbox}")
        current = _response_int(client, "UIDVALIDITY")
        lag["uidvalidity"] = current
        lag["uidnext"] = _response_int(client, "UIDNEXT")
        lag["checked"] = True
        if uidvalidity is None or last_uid is None or last_uid < 0:
            lag["note"] = "the watcher has not stored a position yet"
            return lag
        if current != uidvalidity:
            lag["note"] = "UIDVALIDITY changed: the watcher will rescan the mailbox"
            return lag
        typ, data = client.uid("SEARCH", f"UID {last_uid + 1}:*")
        uids = sorted(
            u
            for chunk in data
            if isinstance(chunk, bytes)
            for u in map(int, chunk.split())
            if u > last_uid  # "N:*" always matches the highest UID, even below N
        )
        lag["unhandled"] = len(uids)
        lag["oldest_unhandled_at"] = None
        lag["lag_seconds"] = 0.0
        if uids:
            typ, data = client.uid("FETCH", str(uids[0]), "(INTERNALDATE)")
            arrived = _internaldate(data)
            lag["oldest_unhandled_at"] = _iso(arrived)
            lag["lag_seconds"] = _age(now, arrived)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        lag["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.logout()
    return lag


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _response_int(client: imaplib.IMAP4, code: str) -> int | None:
    """The number of an untagged `OK [CODE n]` answer of SELECT/EXAMINE."""
    _, data = client.response(code)
    for item in data or []:
        m = re.match(rb"\d+", item) if isinstance(item, bytes) else None
        if m:
            return int(m.group(0))
    return None


def _internaldate(data: list[Any]) -> datetime | None:
    for item in data:
        raw = item[0] if isinstance(item, tuple) else item
        if isinstance(raw, bytes):
            parsed = imaplib.Internaldate2tuple(raw)
            if parsed is not None:
                return datetime.fromtimestamp(time.mktime(parsed), UTC)
    return None


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _age(now: datetime, moment: datetime | None) -> float | None:
    return max(0.0, round((now - moment).total_seconds(), 1)) if moment else None


def _until(now: datetime, moment: datetime | None) -> float | None:
    return max(0.0, round((moment - now).total_seconds(), 1)) if moment else None


# --- text ----------------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """A short human duration: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _when(iso: str | None, age: float | None) -> str:
    if iso is None:
        return "never"
    shown = datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{shown} ({duration(age)} ago)" if age is not None else shown


def render_text(report: dict[str, Any]) -> str:
    lines = [f"frontdesk status at {_when(report['now'], None)}"]
    lines.append(f"data dir: {report['data_dir']}")
    outbox = report["outbox"]
    if not report["database_found"]:
        lines.append(
            f"database: none at {report['database']} (the desk has not run with this data "
            "dir: check FRONTDESK_DATA_DIR); nothing was created"
        )
    else:
        lines.append("")
        lines.append("Outbox")
        waiting = f"{outbox['depth']} waiting"
        if outbox["sending"]:
            waiting += (
                f" ({outbox['queued']} queued, {outbox['sending']} being sent, or being "
                "confirmed after an interrupted send)"
            )
        lines.append(f"  queue:          {waiting}")
        if outbox["depth"]:
            lines.append(
                "  oldest waiting: "
                f"{_when(outbox['oldest_waiting_at'], outbox['oldest_waiting_age_seconds'])}"
            )
            if outbox["next_attempt_at"]:
                wait = outbox["next_attempt_in_seconds"]
                when = _when(outbox["next_attempt_at"], None)
                due = f"{when} (in {duration(wait)})" if wait else "due now"
                lines.append(f"  next attempt:   {due}")
            if outbox["last_error"]:
                lines.append(f"  last error:     {outbox['last_error']}")
        last = _when(outbox["last_delivery_at"], outbox["last_delivery_age_seconds"])
        lines.append(f"  last delivery:  {last}")
        lines.append(f"  delivered:      {outbox['sent']}")
        failed = f"{outbox['failed']}"
        if outbox["failed"]:
            failed += " (refused for good; customers and agents were told)"
        lines.append(f"  failed:         {failed}")
    lines.append("")
    lines.extend(_imap_text(report["imap"]))
    return "\n".join(lines) + "\n"


def _imap_text(imap: dict[str, Any]) -> list[str]:
    lines = [f"IMAP watcher ({imap['mailbox']})"]
    if not imap["configured"]:
        lines.append("  not configured (FRONTDESK_IMAP_HOST unset): the e-mail channel is off")
    if not imap["position_saved"]:
        lines.append(f"  position:       none saved yet ({imap['state_file']})")
    elif imap["last_uid"] is not None and imap["last_uid"] < 0:
        lines.append(
            f"  position:       first start under way (UIDVALIDITY {imap['uidvalidity']})"
        )
    else:
        lines.append(
            f"  position:       UIDVALIDITY {imap['uidvalidity']}, last UID {imap['last_uid']} "
            f"(saved {_when(imap['saved_at'], None)})"
        )
    lag = imap["lag"]
    if lag is None:
        if imap["configured"]:
            lines.append("  lag:            not checked (--no-imap)")
        return lines
    if lag["error"]:
        lines.append(f"  lag:            unknown: mailbox not reachable: {lag['error']}")
    elif "note" in lag:
        lines.append(f"  lag:            unknown: {lag['note']}")
    elif lag["unhandled"]:
        lines.append(
            f"  lag:            {lag['unhandled']} message(s) not handled yet, the oldest "
            f"arrived {duration(lag['lag_seconds'])} ago"
        )
    else:
        lines.append("  lag:            none (every message in the mailbox is handled)")
    return lines


def main(
    settings: Settings,
    *,
    as_json: bool = False,
    check_imap: bool = True,
    out: TextIO | None = None,
) -> int:
    """Print the status (to stdout by default); 0, or 1 when there is no database to read."""
    out = out or sys.stdout
    report = collect(settings, now=datetime.now(UTC), check_imap=check_imap)
    if as_json:
        out.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(render_text(report))
    return 0 if report["database_found"] else 1
