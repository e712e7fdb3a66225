"""Composition root: `frontdesk` / `python -m bot`.

frontdesk [run]        every configured channel; the console chat when none is configured
frontdesk chat         the console chat (stdin/stdout)
frontdesk status       queue, deliveries and IMAP position, read-only (--json for tools)
frontdesk coupons import FILE.csv

SIGTERM stops the service cleanly: the channels stop taking messages (the e-mail channel finishes
the one in hand and saves its mailbox position), the outbox finishes the delivery in flight (what
is still queued stays queued for the next start), "frontdesk stopped" is logged, exit status 0.
The console chat is left by end of input (Ctrl-D).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any, TextIO

from bot import event_loop
from bot.app import build_app
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from bot.ops.logs import configure as configure_logging
from bot.policy.secrets import redact
from bot.tickets.backends import NotOnPostgres

log = logging.getLogger("frontdesk")


def _setup_logging(settings: Settings, console: bool) -> None:
    """In the console chat the log goes to a file, so that it does not mix with the dialog."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handler: logging.Handler = (
        logging.FileHandler(settings.data_dir / "frontdesk.log", encoding="utf-8")
        if console
        else logging.StreamHandler(sys.stderr)
    )
    configure_logging(settings, handler, redact)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


async def serve(
    settings: Settings, *, console: bool, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    if not console:
        # The console chat blocks a thread on stdin that cancelling cannot end: it stops on EOF.
        loop.add_signal_handler(signal.SIGTERM, stopping.set)
    app = await build_app(settings)
    channels: list[asyncio.Task[None]] = []
    ops = app.ops_server() if settings.ops_port is not None else None
    try:
        if ops is not None and settings.ops_port is not None:
            await ops.start(settings.ops_host, settings.ops_port)
        if settings.telegram_token is not None:
            from bot.channels.telegram.app import run as run_telegram

            telegram = run_telegram(settings, app.desk, app.metrics)
            channels.append(asyncio.create_task(telegram, name="telegram"))
        if settings.imap_enabled:
            channels.append(asyncio.create_task(app.run_email_channel(), name="email"))
        if settings.web_port is not None:
            channels.append(asyncio.create_task(app.run_web_channel(), name="web"))
        if console or not channels:
            eml_dir = None if settings.smtp_enabled else settings.outbox_dir
            chat = ConsoleChannel(app.desk, settings.data_dir, stdin, stdout, eml_dir=eml_dir)
            await chat.run()
            await app.drain_outbox(30)
            for task in channels:
                task.cancel()
            await asyncio.gather(*channels, return_exceptions=console)
        else:
            log.info("frontdesk running: %s", ", ".join(t.get_name() for t in channels))
            await _until_stopped(channels, stopping)
    finally:
        if not console:
            loop.remove_signal_handler(signal.SIGTERM)
        await _stop_channels(channels)
        await app.close()
        if ops is not None:  # last: /healthz answers while the desk finishes its work
            await ops.stop()
        log.info("frontdesk stopped")


# How long the channels get to stop: the e-mail channel finishes the message in hand (its
# watcher allows that 30 s), then the stop is repeated for a while in case one cancellation was
# swallowed by a library on the way; after that the desk stops without them.
CHANNELS_STOP_WAIT = 35.0
CHANNELS_STOP_RETRY = 15.0


async def _stop_channels(channels: list[asyncio.Task[None]]) -> None:
    """Cancel the channels and wait for them, bounded (see CHANNELS_STOP_WAIT)."""
    if not channels:
        return
    for task in channels:
        task.cancel()
    _, pending = await asyncio.wait(channels, timeout=CHANNELS_STOP_WAIT)
    deadline = asyncio.get_running_loop().time() + CHANNELS_STOP_RETRY
    while pending and asyncio.get_running_loop().time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
    for task in pending:
        log.error("channel %s did not stop; stopping without it", task.get_name())
    for task in channels:  # what a channel raised on its way out was logged by the channel
        if task.done() and not task.cancelled():
            task.exception()


async def _until_stopped(channels: list[asyncio.Task[None]], stopping: asyncio.Event) -> None:
    """Until SIGTERM, or until every channel has ended; a channel that fails fails the desk."""
    waiter = asyncio.create_task(stopping.wait(), name="sigterm")
    pending: set[asyncio.Task[Any]] = {*channels, waiter}
    try:
        while True:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if waiter in done:
                log.info("SIGTERM: stopping (finishing the messages in hand)")
                return
            for task in done:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
            if pending == {waiter}:
                return
    finally:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter


def parser() -> argparse.ArgumentParser:
    """The command line (also what the container image's `frontdesk run` is checked against)."""
    cli = argparse.ArgumentParser(
        prog="frontdesk",
        description="Support front desk: collects a complete request and files an e-mail ticket.",
    )
    sub = cli.add_subparsers(dest="command")
    sub.add_parser("run", help="every configured channel (the console chat when none is)")
    sub.add_parser("chat", help="the console chat on stdin/stdout")
    status = sub.add_parser(
        "status", help="outbox queue, deliveries and IMAP position (read-only)"
    )
    status.add_argument("--json", action="store_true", help="one JSON object, for tools")
    status.add_argument(
        "--no-imap", action="store_true", help="do not ask the IMAP server for the watcher's lag"
    )
    coupons = sub.add_parser("coupons", help="the coupon registry (4.2.5)")
    coupons_sub = coupons.add_subparsers(dest="action", required=True)
    imp = coupons_sub.add_parser(
        "import", help="import a CSV: coupon,customer,product,edition,support_until"
    )
    imp.add_argument("file")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    settings = Settings()
    if args.command == "status":
        from bot.status import main as status_main

        return status_main(settings, as_json=args.json, check_imap=not args.no_imap)
    if args.command == "coupons":
        from bot.tickets.backends import main_import_coupons

        return main_import_coupons([args.file])
    console = args.command == "chat" or (
        settings.telegram_token is None and not settings.imap_enabled and settings.web_port is None
    )
    _setup_logging(settings, console)
    try:
        event_loop.run(serve(settings, console=console))
    except KeyboardInterrupt:
        return 130
    except NotOnPostgres as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
