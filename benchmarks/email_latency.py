"""Latency of the e-mail channel: a message's arrival → the guided reply accepted by SMTP.

    python -m benchmarks.email_latency [--messages 30] [--poll]

Real servers (tests/servers/mail.py: Dovecot + aiosmtpd on 127.0.0.1; needs root for Dovecot's
mail uid) and the production pieces: ImapWatcher (IDLE, or polling every second with --poll),
EmailChannel, the desk with the trained classifier, Store, Outbox, SmtpTransport.

Each message is an incomplete request from a new sender (no hourly limit in play), dropped into
the front-desk Maildir one at a time once the watcher is idling again. Measured per message:
- pickup: arrival → the channel starts handling it (IDLE push + FETCH),
- total: arrival → the SMTP server accepted the guided reply (store, outbox, SMTP).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

# Run as a script, only this folder is on sys.path: the project root goes first (also before
# benchmarks/classifier.py, which would shadow the `classifier` package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_desk, load_classifier  # noqa: E402
from bot.channels.email.channel import EmailChannel  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.mail.outbox import Outbox  # noqa: E402
from bot.mail.transport import transport_from_settings  # noqa: E402
from bot.policy.schedule import Schedule  # noqa: E402
from bot.tickets.render import POLICY  # noqa: E402
from tests.servers.mail import HOST, Dovecot, MailServers  # noqa: E402

TEXT = "Здравствуйте! После обновления корзина на сайте выдаёт ошибку 500 при оформлении заказа."


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _workdir() -> Path:
    root = Path(tempfile.mkdtemp(prefix="frontdesk-bench-mail-"))
    root.chmod(0o755)  # Dovecot's auth process must traverse it (TESTING.md)
    (root / "dovecot").mkdir()
    return root


async def run(messages: int, poll: bool) -> None:
    root = _workdir()
    dovecot = Dovecot(root / "dovecot")
    dovecot.start()
    servers = MailServers(dovecot)
    servers.start_smtp()
    try:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            smtp_host=HOST,
            smtp_port=servers.smtp_port,
            imap_host=HOST,
            imap_port=servers.imap_port,
            imap_user="frontdesk",
            imap_password=servers.password,  # type: ignore[arg-type]
            support_address=servers.address("support"),
            from_address=servers.address("frontdesk"),
            data_dir=root / "var",
        )
        classifier = load_classifier(root / "model")
        store, desk = await build_desk(settings, classifier, Schedule.from_settings(settings))
        outbox = Outbox(store, transport_from_settings(settings), desk.on_delivered)
        desk.set_outbox_waker(outbox.wake)
        channel = EmailChannel(desk, settings)
        await channel.start()
        picked: dict[str, float] = {}
        handle = channel.handle_raw

        async def timed(raw: bytes) -> None:
            mid = raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
            picked.setdefault(mid, time.perf_counter())
            await handle(raw)

        watcher = channel.watcher(use_idle=not poll, poll_interval=1.0 if poll else 60.0)
        watcher.handler = timed
        outbox.start()
        task = asyncio.create_task(watcher.run())
        await asyncio.wait_for(watcher.connected.wait(), 30)

        pickups: list[float] = []
        totals: list[float] = []
        for i in range(messages):
            if not poll:
                await asyncio.wait_for(watcher.idling.wait(), 30)
            sender = f"customer{i}@shop.example"
            msg = EmailMessage(policy=POLICY)
            msg["From"] = sender
            msg["To"] = settings.from_address
            msg["Subject"] = f"Ошибка {i}"
            msg["Message-ID"] = f"<bench-{i}@shop.example>"
            msg.set_content(TEXT)
            before = len(servers.received)
            start = time.perf_counter()
            servers.deliver(msg)
            # (filled by the SMTP server's thread: polled, 2 ms resolution)
            while not any(sender in r.rcpt_tos for r in servers.received[before:]):  # noqa: ASYNC110
                await asyncio.sleep(0.002)
            end = time.perf_counter()
            totals.append(end - start)
            pickups.append(picked[msg["Message-ID"]] - start)

        watcher.stop()
        await task
        await outbox.stop(grace=5)
        await channel.close()
        await store.close()
    finally:
        servers.stop_smtp()
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)

    mode = "polling every 1 s" if poll else "IDLE"
    print(f"e-mail channel latency, {messages} messages, {mode}")
    for name, values in (("pickup", pickups), ("total ", totals)):
        ms = [v * 1000 for v in values]
        print(
            f"  {name}  p50 {pct(ms, 50):7.1f} ms   p99 {pct(ms, 99):7.1f} ms   "
            f"mean {statistics.mean(ms):7.1f} ms   max {max(ms):7.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--poll", action="store_true", help="poll instead of IDLE")
    args = parser.parse_args()
    if not shutil.which("dovecot"):
        sys.exit("dovecot is not installed (apt-get install -y dovecot-imapd)")
    asyncio.run(run(args.messages, args.poll))


if __name__ == "__main__":
    main()
