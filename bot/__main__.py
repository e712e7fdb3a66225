"""Composition root: `frontdesk` / `python -m bot`.

frontdesk              every configured channel; the console chat when none is configured
frontdesk chat         the console chat (stdin/stdout)
frontdesk coupons import FILE.csv
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TextIO

from bot.app import build_app
from bot.channels.console import ConsoleChannel
from bot.config import Settings

log = logging.getLogger("frontdesk")


def _setup_logging(settings: Settings, console: bool) -> None:
    """In the console chat the log goes to a file, so that it does not mix with the dialog."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handler: logging.Handler = (
        logging.FileHandler(settings.data_dir / "frontdesk.log", encoding="utf-8")
        if console
        else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=logging.INFO,
        handlers=[handler],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


async def serve(
    settings: Settings, *, console: bool, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    app = await build_app(settings)
    try:
        channels: list[asyncio.Task[None]] = []
        if settings.telegram_token is not None:
            from bot.channels.telegram.app import run as run_telegram

            channels.append(asyncio.create_task(run_telegram(settings, app.desk), name="telegram"))
        if settings.imap_enabled:
            channels.append(asyncio.create_task(app.run_email_channel(), name="email"))
        if console or not channels:
            eml_dir = None if settings.smtp_enabled else settings.outbox_dir
            chat = ConsoleChannel(app.desk, settings.data_dir, stdin, stdout, eml_dir=eml_dir)
            await chat.run()
            await app.drain_outbox(30)
            for task in channels:
                task.cancel()
        await asyncio.gather(*channels, return_exceptions=console)
    finally:
        await app.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="frontdesk",
        description="Support front desk: collects a complete request and files an e-mail ticket.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="every configured channel (the console chat when none is)")
    sub.add_parser("chat", help="the console chat on stdin/stdout")
    coupons = sub.add_parser("coupons", help="the coupon registry (4.2.5)")
    coupons_sub = coupons.add_subparsers(dest="action", required=True)
    imp = coupons_sub.add_parser(
        "import", help="import a CSV: coupon,customer,product,edition,support_until"
    )
    imp.add_argument("file")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "coupons":
        from bot.tickets.coupons import main_import

        return main_import([args.file])
    console = args.command == "chat" or (
        settings.telegram_token is None and not settings.imap_enabled
    )
    _setup_logging(settings, console)
    try:
        asyncio.run(serve(settings, console=console))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
