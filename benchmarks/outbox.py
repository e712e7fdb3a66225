"""Outbox throughput: N tickets through Store + Outbox + SmtpTransport vs a bare aiosmtplib loop.

    python -m benchmarks.outbox [--tickets 1000]

The SMTP server is the test one (aiosmtpd delivering into a Maildir, tests/servers/mail.py) on
127.0.0.1, run in a child process so that its thread does not compete for this process's GIL (it
would penalise the outbox, which does its SQLite work between sends, more than a bare loop).
All runs send the same rendered ticket bytes to the same envelope (support + customer Cc).
Timed: the delivery only (the tickets are filed into the store beforehand).

- outbox: ``Outbox.deliver_due`` until the queue is empty: per message one SMTP transaction on a
  kept-alive connection plus two SQLite commits (mark_sending, mark_sent);
- outbox+copy: the same with the front-desk copy used for exactly-once confirmation (one more
  RCPT and one more mailbox write per message);
- bare send(): ``aiosmtplib.send`` per message (a new connection each time, the usual idiom);
- bare session: one connection, ``sendmail`` per message (the fastest a client can be).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib

# Run as a script, only this folder is on sys.path: the project root goes first (also before
# benchmarks/classifier.py, which would shadow the `classifier` package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Settings  # noqa: E402
from bot.mail.outbox import Outbox  # noqa: E402
from bot.mail.transport import SmtpTransport  # noqa: E402
from bot.tickets.render import render_ticket  # noqa: E402
from bot.tickets.store import Store  # noqa: E402
from tests.servers.mail import HOST, Dovecot, MailServers, free_port  # noqa: E402
from tests.unit.test_outbox import make_ticket  # noqa: E402


async def _fill(settings: Settings, n: int) -> Store:
    store = await Store.open(settings.database_path)
    render = functools.partial(render_ticket, settings=settings)
    for i in range(n):
        await store.create_ticket(make_ticket(i + 1), render, datetime.now(UTC))
    return store


class RemoteSmtp:
    """The test SMTP server in a child process (``--serve``), seen through its Maildir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.smtp_host = HOST
        self.smtp_port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.outbox", "--serve", str(root), str(self.smtp_port)],
            stdin=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection((HOST, self.smtp_port), timeout=1) as conn:
                    if conn.recv(64).startswith(b"220"):
                        break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def _dirs(self) -> list[Path]:
        md = self.root / "home" / "support" / "Maildir"
        return [md / "new", md / "cur"]

    def count(self, user: str = "support") -> int:
        return sum(1 for d in self._dirs() for _ in d.iterdir())

    def reset(self) -> None:
        for d in self._dirs():
            for path in d.iterdir():
                path.unlink()

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the child exits when its stdin closes
        self.proc.wait(timeout=30)


def serve(root: Path, port: int) -> None:
    servers = MailServers(Dovecot(root), smtp_port=port)
    servers.start_smtp()
    sys.stdin.read()
    servers.stop_smtp()


async def run_outbox(servers: RemoteSmtp, base: Settings, n: int, copy: bool) -> float:
    settings = base.model_copy(update={"data_dir": base.data_dir / ("copy" if copy else "plain")})
    store = await _fill(settings, n)
    transport = SmtpTransport(settings, copy_to=settings.from_address if copy else None)
    outbox = Outbox(store, transport, batch=100)
    start = time.perf_counter()
    while await outbox.deliver_due():
        pass
    elapsed = time.perf_counter() - start
    await outbox.stop()
    assert outbox.stats["sent"] == n, outbox.stats
    await store.close()
    return elapsed


async def run_bare(
    servers: RemoteSmtp,
    raws: list[bytes],
    envelopes: list[tuple[list[str], list[str]]],
    sender: str,
    session: bool,
) -> float:
    start = time.perf_counter()
    if session:
        client = aiosmtplib.SMTP(hostname=servers.smtp_host, port=servers.smtp_port)
        await client.connect()
        for raw, (to, cc) in zip(raws, envelopes, strict=True):
            await client.sendmail(sender, to + cc, raw)
        await client.quit()
    else:
        for raw, (to, cc) in zip(raws, envelopes, strict=True):
            await aiosmtplib.send(
                raw, sender=sender, recipients=to + cc, hostname=servers.smtp_host,
                port=servers.smtp_port,
            )  # fmt: skip
    return time.perf_counter() - start


async def main(n: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="frontdesk-bench-"))
    (root / "mail").mkdir()
    servers = RemoteSmtp(root / "mail")  # only Maildirs: Dovecot itself is not needed here
    try:
        base = Settings(
            _env_file=None,  # type: ignore[call-arg]
            smtp_host=servers.smtp_host,
            smtp_port=servers.smtp_port,
            support_address="support@whatasoft.test",
            from_address="frontdesk@whatasoft.test",
            data_dir=root / "var",
        )
        results: dict[str, float] = {}

        def check(label: str) -> None:
            got = servers.count("support")
            assert got == n, f"{label}: {got} messages in the support mailbox, expected {n}"
            servers.reset()

        results["outbox"] = await run_outbox(servers, base, n, copy=False)
        check("outbox")
        results["outbox+copy"] = await run_outbox(servers, base, n, copy=True)
        check("outbox+copy")

        raws: list[bytes] = []
        envelopes: list[tuple[list[str], list[str]]] = []
        for i in range(n):
            ticket = make_ticket(i + 1)
            ticket.id = f"WAS-{i + 1:06d}"
            message = render_ticket(ticket, base)
            raws.append(message.as_bytes())
            envelopes.append((list(message.envelope.to), list(message.envelope.cc)))
        results["bare send()"] = await run_bare(
            servers, raws, envelopes, base.from_address, session=False
        )
        check("bare send()")
        results["bare session"] = await run_bare(
            servers, raws, envelopes, base.from_address, session=True
        )
        check("bare session")
    finally:
        servers.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"{n} tickets, {len(raws[0])} bytes each, to aiosmtpd on 127.0.0.1 (Maildir delivery)")
    for label, seconds in results.items():
        print(f"  {label:<13} {seconds:7.2f} s  {n / seconds:8.1f} msg/s")
    for bare in ("bare send()", "bare session"):
        ratio = results[bare] / results["outbox"]
        ratio_copy = results[bare] / results["outbox+copy"]
        print(
            f"  outbox / {bare}: {ratio:.2f}  (with copy {ratio_copy:.2f})  "
            f"target >= 0.5: {'ok' if ratio >= 0.5 else 'MISSED'}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--serve", nargs=2, metavar=("ROOT", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
    else:
        asyncio.run(main(args.tickets))
