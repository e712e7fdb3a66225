"""Composition root helpers: build the classifier, schedule, store, outbox and desk from settings.

`bot/__main__.py` calls `build_app`; tests use the same functions so that what they exercise is
what runs in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from bot.clock import Clock, utc_now
from bot.config import Settings
from bot.desk import Desk, RenderFollowUp, RenderTicket, SiteProbe
from bot.identity.forget import purge_expired
from bot.identity.guard import Guard
from bot.intake.machine import DocSuggestion, IntakeContext
from bot.intake.questions import load_questions
from bot.mail.outbox import Outbox
from bot.mail.reply_address import ReplyAddresses, open_reply_addresses
from bot.mail.transport import transport_from_settings
from bot.ops.metrics import Metrics
from bot.ops.probes import Probe, redis_probe, smtp_probe
from bot.ops.server import OpsServer
from bot.policy import expectations
from bot.policy.kb import KnowledgeBase
from bot.policy.multiproblem import split_problems
from bot.policy.schedule import Schedule
from bot.policy.similar import most_similar
from bot.policy.sitecheck import allowlist, check_site, site_down
from bot.replicas.leader import Leadership
from bot.replicas.locks import connect as connect_redis
from bot.replicas.memory import RedisMemory
from bot.tickets.backends import coupon_lookup, open_store
from bot.tickets.conversations import RedisConversations
from bot.tickets.interface import TicketStore
from bot.tickets.model import AttachmentRef, Classification, Ticket
from bot.tickets.render import OutboundMessage, render_followup, render_ticket
from bot.tickets.store import OutboxRow
from classifier import Classifier, load_scope

log = logging.getLogger(__name__)

# Seconds a message written before consenting waits in Redis for the answer (several replicas).
PENDING_TTL = 3600.0


def load_classifier(model_dir: Path | None = None) -> Classifier:
    """Load the trained model, training it first when it is missing or stale (seconds)."""
    return Classifier.load_or_train(model_dir)


def intake_context(
    settings: Settings,
    classifier: Classifier,
    schedule: Schedule,
    channel: str = "",
    knowledge: KnowledgeBase | None = None,
) -> IntakeContext:
    """Everything the intake core consults, loaded once (a broken data file fails at start-up)."""
    scope = load_scope()
    kb = knowledge or KnowledgeBase.load()

    # Pure functions of the text, consulted several times per update (each step re-checks the
    # gates): cached, handing out fresh lists so that a caller cannot alter the cached value.
    @lru_cache(maxsize=2048)
    def cached_suggest(text: str, category: str, lang: str) -> tuple[DocSuggestion, ...]:
        return tuple(
            DocSuggestion(h.title(lang), h.url, h.answer(lang))
            for h in kb.suggest(text, category=category)
        )

    def suggest(text: str, category: str, lang: str) -> list[DocSuggestion]:
        return list(cached_suggest(text, category, lang))

    @lru_cache(maxsize=2048)
    def cached_problems(text: str) -> tuple[str, ...]:
        return tuple(split_problems(text, classifier.category_probabilities))

    def problems(text: str) -> list[str]:
        return list(cached_problems(text))

    @lru_cache(maxsize=2048)
    def similar(text: str, open_tickets: tuple[tuple[str, str], ...]) -> str | None:
        return most_similar(text, open_tickets)

    def find_similar(text: str, open_tickets: Sequence[tuple[str, str]]) -> str | None:
        return similar(text, tuple(open_tickets)) if open_tickets else None

    @lru_cache(maxsize=2048)
    def classify(text: str) -> Classification:
        p = classifier.predict(text)
        return Classification(
            p.category, p.in_scope, p.clause, p.critical, p.confidence, p.unsure,
            scope_confidence=p.scope_confidence,
        )  # fmt: skip

    def explanation(clause: str, lang: str) -> str:
        item = scope.get(clause)
        if item is None:
            return ""
        return item.explain_en if lang == "en" else item.explain_ru

    def status(now: datetime, lang: str) -> str:
        return expectations.status_text(schedule, now, lang)

    def working_hours(now: datetime) -> tuple[bool, datetime | None]:
        return schedule.is_open(now), schedule.next_opening(now)

    def filing_notice(now: datetime, lang: str, critical: bool) -> str:
        parts = [
            expectations.status_text(schedule, now, lang),
            expectations.expectations_text(lang, critical),
        ]
        if critical:
            parts.append(expectations.critical_after_hours_text(schedule, now, lang))
        return "\n".join(p for p in parts if p)

    return IntakeContext(
        channel=channel,
        coupon_pattern=settings.coupon_pattern,
        classify=classify,
        status_text=status,
        working_hours=working_hours,
        scope_explanation=explanation,
        filing_notice=filing_notice,
        questions=load_questions(),
        suggest_docs=suggest,
        split_problems=problems,
        find_similar=find_similar,
        coupon_check=coupon_lookup(settings),
        current_version=settings.current_version,
        reserved_addresses=settings.reserved_addresses,
    )


@dataclass
class App:
    settings: Settings
    store: TicketStore
    desk: Desk
    outbox: Outbox
    schedule: Schedule
    classifier: Classifier
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)

    async def drain_outbox(self, seconds: float) -> bool:
        """Wait until nothing is queued or in flight (the console waits before it exits)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            counts = await self.store.outbox_counts()
            if not counts.get("queued") and not counts.get("sending"):
                return True
            self.outbox.wake()
            await asyncio.sleep(0.05)
        return False

    async def run_email_channel(self) -> None:
        """The e-mail channel; with Redis only the elected replica watches the mailbox."""
        from bot.channels.email.channel import run_email_channel, watcher_leader_key

        s = self.settings
        if not s.redis_url:
            await run_email_channel(s, self.desk, metrics=self.metrics)
            return
        redis = connect_redis(s.redis_url)
        try:
            leadership = Leadership(redis, watcher_leader_key(s))
            await run_email_channel(s, self.desk, metrics=self.metrics, leadership=leadership)
        finally:
            await redis.aclose()

    async def run_web_channel(self) -> None:
        from bot.channels.web import run_web_channel

        await run_web_channel(self.settings, self.desk, self.metrics)

    def ops_server(self) -> OpsServer:
        """/healthz, /readyz and /metrics (bot/ops/server.py), with a readiness probe for each
        dependency the settings name: the database always, Redis and SMTP when configured."""
        s = self.settings
        probes: dict[str, Probe] = {"database": self.store.outbox_counts}
        if s.redis_url:
            probes["redis"] = redis_probe(s.redis_url)
        if s.smtp_host:
            probes["smtp"] = smtp_probe(s.smtp_host, s.smtp_port, s.smtp_tls)
        return OpsServer(self.metrics, probes, self.store.outbox_figures)

    async def close(self) -> None:
        """Stop the outbox (it finishes the message in flight), then everything else. The
        channels are stopped first by the caller: what they hand over still reaches the store."""
        await self.outbox.stop()
        for close in reversed(self.closers):
            await close()
        await self.store.close()


async def build_app(
    settings: Settings,
    *,
    classifier: Classifier | None = None,
    clock: Clock = utc_now,
    outbox_options: dict[str, float] | None = None,
) -> App:
    """Everything but the channels, wired and started (the outbox task runs)."""
    classifier = classifier or load_classifier()
    schedule = Schedule.from_settings(settings)
    metrics = Metrics()
    store, desk = await build_desk(settings, classifier, schedule, clock=clock, metrics=metrics)
    closers: list[Callable[[], Awaitable[object]]] = []
    if settings.redis_url:
        conversations = RedisConversations.from_url(settings.redis_url)
        desk.conversations = conversations
        closers.append(conversations.close)

    async def alert(row: OutboxRow, error: str) -> None:
        log.error("delivery failed for good: %s ticket=%s: %s", row.kind, row.ticket_id, error)
        await desk.on_failed(row, error)

    outbox = Outbox.from_settings(
        store,
        transport_from_settings(settings),
        settings,
        desk.on_delivered,
        alert=alert,
        clock=clock,
        metrics=metrics,
        **(outbox_options or {}),
    )
    desk.set_outbox_waker(outbox.wake)
    outbox.start()
    desk.guard = await Guard.open(settings, store)
    if settings.redis_url:  # what one replica holds for a customer, another may need next
        pending = connect_redis(settings.redis_url)
        desk.guard.pending = RedisMemory(pending, "frontdesk:pending:", ttl=PENDING_TTL)
        closers.append(pending.aclose)
    purging = asyncio.create_task(_purge_daily(store, settings, clock), name="purge")

    async def stop_purging() -> None:
        purging.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purging

    closers.append(stop_purging)
    return App(settings, store, desk, outbox, schedule, classifier, closers, metrics)


async def _purge_daily(store: TicketStore, settings: Settings, clock: Clock) -> None:
    """Attachments and drafts older than the retention are deleted, daily."""
    retention = timedelta(days=settings.retention_days)
    while True:
        try:
            report = await purge_expired(store, settings.data_dir, clock(), retention)
            log.info("retention purge: %s", report)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(24 * 3600)


async def build_desk(
    settings: Settings,
    classifier: Classifier,
    schedule: Schedule,
    *,
    clock: Clock = utc_now,
    metrics: Metrics | None = None,
) -> tuple[TicketStore, Desk]:
    store = await open_store(settings)
    replies = await open_reply_addresses(settings, store)
    ticket_mail, followup_mail = mail_renderers(settings, replies)
    desk = Desk(
        store,
        intake_context(settings, classifier, schedule),
        ticket_mail,
        followup_mail,
        support_address=settings.support_address,
        clock=clock,
        delivers_to_files=not settings.smtp_enabled,
        site_probe=site_probe(settings) if settings.site_check else None,
        reply_addresses=replies,
        metrics=metrics,
    )
    return store, desk


def mail_renderers(
    settings: Settings, replies: ReplyAddresses | None
) -> tuple[RenderTicket, RenderFollowUp]:
    """The desk's ticket and follow-up renderers; replies are asked for at the ticket's own
    reply address (bot/mail/reply_address.py) when the desk has one."""

    def ticket_mail(ticket: Ticket) -> OutboundMessage:
        reply = replies.for_ticket(ticket.id) if replies else None
        return render_ticket(ticket, settings, reply_address=reply)

    def followup_mail(
        ticket: Ticket, text: str, files: tuple[AttachmentRef, ...], n: int
    ) -> OutboundMessage:
        reply = replies.for_ticket(ticket.id) if replies else None
        return render_followup(ticket, text, list(files), settings, n, reply_address=reply)

    return ticket_mail, followup_mail


def site_probe(settings: Settings) -> SiteProbe:
    allowed = allowlist(settings.site_check_allow.split(","))

    async def probe(url: str) -> tuple[str, bool]:
        status = await check_site(url, allowed=allowed)
        return status.summary_ru, site_down(status)

    return probe
