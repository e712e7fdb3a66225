"""Forgetting a customer (/forget, «Удалить мои данные») and the retention of drafts (152-FZ).

:func:`forget_customer` deletes what the desk keeps about one (channel, user): the conversation
draft, verified addresses and pending codes, the consent record and stored screenshots
(``data_dir/attachments/<sha256("channel:user")[:16]>/``). Filed tickets stay: they are official
records of the support service, and the report says how many.

:func:`purge_expired` deletes conversation drafts and attachment files older than the retention,
and the outbox copies of verification-code e-mails once their codes have expired. Files still
referenced by a remaining draft or by a ticket that has not been sent yet are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.identity.consent import withdraw_consent
from bot.identity.verification import CODE_TTL, VERIFICATION_KIND, forget_verification
from bot.tickets.shared_db import DbOrPath, SqlDb, connect

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForgetReport:
    conversation: bool  # a draft was deleted
    verified_addresses: int
    consent: bool  # a consent record was deleted
    attachment_files: int
    tickets_kept: int

    @property
    def deleted_anything(self) -> bool:
        return bool(
            self.conversation or self.verified_addresses or self.consent or self.attachment_files
        )


@dataclass(frozen=True)
class PurgeReport:
    conversations: int
    attachment_files: int
    verification_mails: int


def customer_key(channel: str, user_id: str) -> str:
    return f"{channel}:{user_id}"


def attachments_dir(data_dir: Path, channel: str, user_id: str) -> Path:
    """Where :func:`bot.intake.attachments.store_attachment` keeps this customer's files."""
    digest = hashlib.sha256(customer_key(channel, user_id).encode()).hexdigest()[:16]
    return data_dir / "attachments" / digest


def _remove_tree(directory: Path) -> int:
    if not directory.is_dir():
        return 0
    count = sum(1 for p in directory.rglob("*") if p.is_file())
    shutil.rmtree(directory)
    return count


async def forget_customer(
    store: DbOrPath, data_dir: Path, channel: str, user_id: str
) -> ForgetReport:
    """Delete one customer's data except filed tickets; see the module docstring.

    `store` is the Store (preferred: its write lock is shared), its connection, or a path. With
    Redis conversations, the caller also deletes the conversation there
    (``desk.conversations.delete``).
    """
    db = await connect(store)
    try:
        return await _forget(db, data_dir, channel, user_id)
    finally:
        await db.close()


async def _forget(db: SqlDb, data_dir: Path, channel: str, user_id: str) -> ForgetReport:
    key = customer_key(channel, user_id)
    conversation = False
    if await db.has_table("conversations"):
        cur = await db.write(
            "DELETE FROM conversations WHERE channel = ? AND user_id = ?", (channel, user_id)
        )
        conversation = cur.rowcount > 0
    verified = await forget_verification(db, key)
    consent = await withdraw_consent(db, key)
    files = await asyncio.to_thread(_remove_tree, attachments_dir(data_dir, channel, user_id))
    tickets = 0
    if await db.has_table("tickets"):
        row = await db.fetch_one(
            "SELECT COUNT(*) FROM tickets WHERE channel = ? AND customer_id = ?",
            (channel, user_id),
        )
        tickets = int(row[0]) if row else 0
    report = ForgetReport(conversation, verified, consent, files, tickets)
    log.info(
        "forgot a %s customer: draft=%s addresses=%d consent=%s files=%d tickets kept=%d",
        channel, conversation, verified, consent, files, tickets,
    )  # fmt: skip
    return report


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


async def _paths_in_use(db: SqlDb) -> set[str]:
    """Files a remaining draft or an unsent ticket still points to (as stored)."""
    used: set[str] = set()
    queries = []
    if await db.has_table("conversations"):
        queries.append("SELECT state FROM conversations")
    if await db.has_table("tickets"):
        queries.append("SELECT data FROM tickets WHERE status = 'queued'")
    for query in queries:
        for (raw,) in await db.fetch_all(query):
            try:
                data = json.loads(raw)
            except (TypeError, ValueError):
                continue
            used.update(s for s in _strings(data) if "attachments" in s)
    return used


def _purge_files(root: Path, cutoff: float, referenced: set[str]) -> int:
    if not root.is_dir():
        return 0
    keep = {Path(s).resolve() for s in referenced}
    removed = 0
    for path in root.rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff and path.resolve() not in keep:
                path.unlink()
                removed += 1
        except OSError as exc:
            log.warning("cannot purge %s: %s", path.name, exc)
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            directory.rmdir()  # only empty ones
    return removed


async def purge_expired(
    store: DbOrPath, data_dir: Path, now: datetime, retention: timedelta
) -> PurgeReport:
    """Delete drafts and files older than `retention`, and expired code e-mails in the outbox.

    Run it daily (and at start-up) with ``retention=timedelta(days=30)``, as the policy says.
    `store` as in :func:`forget_customer`.
    """
    if now.tzinfo is None:
        raise ValueError("an aware datetime is required")
    db = await connect(store)
    try:
        return await _purge(db, data_dir, now, retention)
    finally:
        await db.close()


async def _purge(db: SqlDb, data_dir: Path, now: datetime, retention: timedelta) -> PurgeReport:
    cutoff = now - retention
    conversations = 0
    if await db.has_table("conversations"):
        rows = await db.fetch_all("SELECT channel, user_id, updated_at FROM conversations")
        for channel, user_id, updated_at in rows:
            if not _older(str(updated_at), cutoff):
                continue
            # Only if untouched since we read it: a customer may have just come back.
            cur = await db.write(
                "DELETE FROM conversations WHERE channel = ? AND user_id = ? AND updated_at = ?",
                (channel, user_id, updated_at),
            )
            conversations += max(cur.rowcount, 0)
    keep = await _paths_in_use(db)
    files = await asyncio.to_thread(
        _purge_files, data_dir / "attachments", cutoff.timestamp(), keep
    )
    mails = 0
    if await db.has_table("outbox"):
        # The raw message holds the code in clear; after CODE_TTL it is useless to everyone.
        # The Store writes created_at as the desk clock's ISO time (UTC).
        cur = await db.write(
            "DELETE FROM outbox WHERE kind = ? AND status != 'sending' AND created_at < ?",
            (VERIFICATION_KIND, (now - CODE_TTL).astimezone(UTC).isoformat()),
        )
        mails = max(cur.rowcount, 0)
    report = PurgeReport(conversations, files, mails)
    log.info("retention purge: %s", report)
    return report


def _older(timestamp: str, cutoff: datetime) -> bool:
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return False
    if moment.tzinfo is None:  # written by something else: read it as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment < cutoff


# --- texts -------------------------------------------------------------------------------------


def forget_text(report: ForgetReport, lang: str) -> str:
    if lang == "en":
        head = (
            "Done: I deleted your draft, verified addresses, consent record and screenshots."
            if report.deleted_anything
            else "I keep no other data about you: there was nothing to delete."
        )
        tail = (
            f" {report.tickets_kept} filed request(s) stay with the support service: they are "
            "official records. To ask about them, write to support@whatasoft.net."
            if report.tickets_kept
            else ""
        )
        return head + tail
    head = (
        "Готово: я удалил ваш черновик, подтверждённые адреса, согласие и скриншоты."
        if report.deleted_anything
        else "Других данных о вас у меня нет — удалять было нечего."
    )
    tail = (
        f" Поданные обращения ({report.tickets_kept}) остаются в службе поддержки: это "
        "официальные записи. По ним можно написать на support@whatasoft.net."
        if report.tickets_kept
        else ""
    )
    return head + tail


_FORGET_UNPROVEN = {
    "ru": (
        "Мы получили просьбу удалить ваши данные, но не можем подтвердить, что письмо отправлено "
        "с этого адреса (почтовый сервер не подтвердил отправителя). Удаление необратимо, "
        "поэтому ответьте, пожалуйста, на любое наше письмо по вашему обращению, указав тему "
        "«Удалить мои данные», или используйте команду /forget в Telegram."
    ),
    "en": (
        "We received a request to delete your data but cannot confirm it was sent from this "
        "address (the mail server did not authenticate the sender). Deleting cannot be undone, "
        "so please reply to any of our messages about your request with the subject "
        "“Forget me”, or use the /forget command in Telegram."
    ),
}


def forget_unproven_text(lang: str) -> str:
    """The answer to a forget request by e-mail whose sender proved nothing (nothing deleted)."""
    return _FORGET_UNPROVEN.get(lang, _FORGET_UNPROVEN["ru"])
