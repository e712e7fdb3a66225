"""Forgetting a customer and the retention purge, with a real Store and files on disk."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.identity.consent import Consents
from bot.identity.forget import (
    ForgetReport,
    attachments_dir,
    forget_customer,
    forget_text,
    purge_expired,
)
from bot.identity.verification import VERIFICATION_KIND, Verifier
from bot.intake.attachments import store_attachment
from bot.tickets.model import AttachmentRef, Classification, Ticket
from bot.tickets.render import Envelope, OutboundMessage
from bot.tickets.store import Store

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def ticket(user_id: str, attachments: list[AttachmentRef] | None = None) -> Ticket:
    return Ticket(
        channel="telegram", customer_id=user_id, lang="ru", description="Не работает корзина",
        site_url="http://example.ru/", contact_email="ivan@mail.ru",
        classification=Classification("error", True, "3.4.1.1", False, 0.9), created_at=NOW,
        attachments=attachments or [],
    )  # fmt: skip


def render(t: Ticket) -> OutboundMessage:
    message = OutboundMessage()
    message.envelope = Envelope(("support@whatasoft.test",))
    message["Message-ID"] = f"<{t.id}.ticket@test>"
    message.set_content(t.description)
    return message


def is_file(path: str) -> bool:
    return Path(path).is_file()


def exists(path: str | Path) -> bool:
    return Path(path).exists()


def age(path: Path, days: float) -> None:
    moment = (NOW - timedelta(days=days)).timestamp()
    os.utime(path, (moment, moment))


@pytest.fixture
async def store(tmp_path: Path):
    store = await Store.open(tmp_path / "var" / "db.sqlite3")
    yield store
    await store.close()


async def test_forget_deletes_everything_but_filed_tickets(store: Store, tmp_path: Path):
    data = tmp_path / "var"
    # Given a customer with a draft, a verified address, consent, screenshots and two tickets
    await store.save_conversation("telegram", "42", {"lang": "ru", "step": "site"}, NOW)
    verifier = await Verifier.open(store, data)
    started = await verifier.start("telegram:42", "ivan@mail.ru", NOW)
    await verifier.check("telegram:42", "ivan@mail.ru", started.code or "", NOW)
    consents = await Consents.open(store)
    await consents.record("telegram:42", NOW)
    ref, _ = await store_attachment(data, "telegram:42", "shot.png", PNG)
    assert ref is not None and is_file(ref.path)
    await store.create_ticket(ticket("42"), render, NOW)
    await store.create_ticket(ticket("42"), render, NOW)
    # and another customer who must not be touched
    await store.save_conversation("telegram", "43", {"lang": "ru"}, NOW)
    await consents.record("telegram:43", NOW)
    other, _ = await store_attachment(data, "telegram:43", "shot.png", PNG)
    assert other is not None

    # When the customer sends /forget
    report = await forget_customer(store, data, "telegram", "42")

    # Then their data is gone and the tickets stay
    assert report == ForgetReport(
        conversation=True, verified_addresses=1, consent=True, attachment_files=1, tickets_kept=2
    )
    assert await store.load_conversation("telegram", "42") is None
    assert not await verifier.is_verified("telegram:42", "ivan@mail.ru")
    assert not await consents.has_consent("telegram:42")
    assert not exists(attachments_dir(data, "telegram", "42"))
    assert len(await store.tickets_of("telegram", "42")) == 2
    assert await store.load_conversation("telegram", "43") is not None
    assert await consents.has_consent("telegram:43")
    assert is_file(other.path)
    # A second /forget finds nothing left
    again = await forget_customer(store, data, "telegram", "42")
    assert not again.deleted_anything and again.tickets_kept == 2


async def test_forget_works_before_the_identity_tables_exist(store: Store, tmp_path: Path):
    report = await forget_customer(store._db, tmp_path / "var", "email", "ivan@mail.ru")
    assert report == ForgetReport(False, 0, False, 0, 0)


async def test_attachments_dir_matches_store_attachment(tmp_path: Path):
    ref, _ = await store_attachment(tmp_path, "email:ivan@mail.ru", "a.png", PNG)
    assert ref is not None
    assert Path(ref.path).parent == attachments_dir(tmp_path, "email", "ivan@mail.ru")


@pytest.mark.parametrize(
    ("report", "lang", "expected"),
    [
        (ForgetReport(True, 1, True, 2, 0), "ru",
         "Готово: я удалил ваш черновик, подтверждённые адреса, согласие и скриншоты."),
        (ForgetReport(True, 0, True, 0, 3), "ru",
         "Готово: я удалил ваш черновик, подтверждённые адреса, согласие и скриншоты. Поданные "
         "обращения (3) остаются в службе поддержки: это официальные записи. По ним можно "
         "написать на support@whatasoft.net."),
        (ForgetReport(False, 0, False, 0, 0), "en",
         "I keep no other data about you: there was nothing to delete."),
        (ForgetReport(False, 0, False, 0, 1), "en",
         "I keep no other data about you: there was nothing to delete. 1 filed request(s) stay "
         "with the support service: they are official records. To ask about them, write to "
         "support@whatasoft.net."),
    ],
)  # fmt: skip
def test_forget_texts(report: ForgetReport, lang: str, expected: str):
    assert forget_text(report, lang) == expected


async def test_purge_drops_old_drafts_and_files_but_keeps_what_is_in_use(
    store: Store, tmp_path: Path
):
    data = tmp_path / "var"
    retention = timedelta(days=30)
    # Given an abandoned draft (40 days) with a screenshot, and a fresh draft (2 days)
    await store.save_conversation("telegram", "old", {"step": "site"}, NOW - timedelta(days=40))
    old_file, _ = await store_attachment(data, "telegram:old", "old.png", PNG)
    await store.save_conversation("telegram", "new", {"step": "site"}, NOW - timedelta(days=2))
    # and a screenshot 35 days old still referenced by a live draft
    kept, _ = await store_attachment(data, "telegram:new", "kept.png", PNG)
    await store.save_conversation(
        "telegram", "new", {"attachments": [kept.path if kept else ""]}, NOW - timedelta(days=2)
    )
    # and one 35 days old in a ticket that is still queued (SMTP outage)
    queued, _ = await store_attachment(data, "telegram:q", "queued.png", PNG)
    assert old_file and kept and queued
    await store.create_ticket(ticket("q", [queued]), render, NOW)
    # and a fresh file of nobody's
    fresh, _ = await store_attachment(data, "telegram:f", "fresh.png", PNG)
    assert fresh is not None
    for ref in (old_file, kept, queued):
        age(Path(ref.path), 35)

    # When the purge runs
    report = await purge_expired(store, data, NOW, retention)

    # Then only the old draft and its file go
    assert (report.conversations, report.attachment_files) == (1, 1)
    assert await store.load_conversation("telegram", "old") is None
    assert await store.load_conversation("telegram", "new") is not None
    assert not exists(old_file.path)
    assert not exists(Path(old_file.path).parent)  # the empty directory too
    assert all(is_file(r.path) for r in (kept, queued, fresh))


async def test_purge_removes_expired_code_mails_from_the_outbox(store: Store, tmp_path: Path):
    def mail(n: int) -> OutboundMessage:
        message = OutboundMessage()
        message.envelope = Envelope(("support@whatasoft.test",))
        message["Message-ID"] = f"<code{n}@test>"
        message.set_content("Код: 123456.")
        return message

    await store.enqueue(VERIFICATION_KIND, mail(1), NOW - timedelta(minutes=20))
    await store.enqueue(VERIFICATION_KIND, mail(2), NOW - timedelta(minutes=5))
    await store.enqueue("reply", mail(3), NOW - timedelta(days=90))
    report = await purge_expired(store, tmp_path / "var", NOW, timedelta(days=30))
    assert report.verification_mails == 1
    assert await store.outbox_counts() == {"queued": 2}


async def test_purge_on_an_empty_data_dir(store: Store, tmp_path: Path):
    path = tmp_path / "var" / "db.sqlite3"  # a connection of its own, beside the Store's
    report = await purge_expired(path, tmp_path / "nothing", NOW, timedelta(days=30))
    assert (report.conversations, report.attachment_files, report.verification_mails) == (0, 0, 0)
