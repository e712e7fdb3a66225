"""The desk's Prometheus metrics: defined here, counted where things happen, served on /metrics.

One `Metrics` object per running desk, on a `CollectorRegistry` of its own rather than
prometheus_client's global default: a test (or a benchmark running several desks in one process)
builds fresh ones and reads exact values, and nothing a library registers globally ends up on the
desk's page by accident. The composition root (bot/app.py) makes one and hands it to the desk,
the outbox and the channels; each of those takes it as an optional argument and makes a private
one when none is given, so the hooks below never need an "is it configured?" check.

The hooks are methods named after the event (`ticket_filed`, `delivery_failed`, …) so that a call
site reads as what happened, not as metric bookkeeping. Values read from the store (the outbox
queue) are not pushed: the /metrics handler asks the store at scrape time (`outbox_figures`).

IMAP lag is measured per message, from its arrival in the mailbox (the server's INTERNALDATE,
not the sender's Date header, which any sender sets as it likes) to the moment the desk has
finished with it. A watcher that is stuck handles nothing and so observes no lag at all: the
time of its last successful look at the mailbox is exported too, to alert on
`time() - frontdesk_imap_last_check_timestamp_seconds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

# Seconds the desk takes to answer one event: a classification and a few SQLite statements
# normally (~10 ms), a site check or a slow disk much more.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# From a mail's arrival to its handling: about a second with IDLE, up to the poll interval
# without it (60 s), hours when the desk was down.
IMAP_LAG_BUCKETS = (1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


class Metrics:
    """Every metric of the desk, registered on `registry` (a fresh one by default)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "frontdesk_updates",
            "Updates a channel received (a Telegram update, an inbound e-mail, a console line)",
            ["channel"],
            registry=r,
        )
        self.messages = Counter(
            "frontdesk_messages",
            "Messages through the desk: customer events handled (in), replies and notices (out)",
            ["channel", "direction"],
            registry=r,
        )
        self.tickets = Counter(
            "frontdesk_tickets",
            "Tickets filed (stored and queued for the support mailbox)",
            ["category", "critical"],
            registry=r,
        )
        self.out_of_scope = Counter(
            "frontdesk_out_of_scope",
            "Tickets filed although classified out of scope; told: the customer got the notice",
            ["told"],
            registry=r,
        )
        self.deflected = Counter(
            "frontdesk_deflected",
            "Requests answered by the knowledge base without a ticket",
            ["channel"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "frontdesk_outbox_depth",
            "Outbox messages not delivered yet, by status (read from the store at scrape time)",
            ["status"],
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "frontdesk_outbox_oldest_age_seconds",
            "Age of the oldest outbox message not delivered yet (0 when none waits)",
            registry=r,
        )
        self.deliveries = Counter(
            "frontdesk_deliveries",
            "Messages the mail server accepted",
            ["kind"],
            registry=r,
        )
        self.delivery_failures = Counter(
            "frontdesk_delivery_failures",
            "Failed delivery attempts; final: given up (the message will not be sent)",
            ["kind", "final"],
            registry=r,
        )
        self.imap_lag = Histogram(
            "frontdesk_imap_lag_seconds",
            "From a mail's arrival in the front-desk mailbox (INTERNALDATE) to its handling",
            buckets=IMAP_LAG_BUCKETS,
            registry=r,
        )
        self.imap_last_check = Gauge(
            "frontdesk_imap_last_check_timestamp_seconds",
            "Unix time of the IMAP watcher's last successful look at the mailbox",
            registry=r,
        )
        self.imap_watching = Gauge(
            "frontdesk_imap_watching",
            "1 while this replica watches the IMAP mailbox: the one leader among replicas sharing "
            "Redis, else the single process",
            registry=r,
        )
        self.confidence = Histogram(
            "frontdesk_classifier_confidence",
            "Classifier confidence of the category of filed tickets",
            buckets=CONFIDENCE_BUCKETS,
            registry=r,
        )
        self.reply_latency = Histogram(
            "frontdesk_reply_latency_seconds",
            "Time the desk takes to answer one customer event",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    # --- hooks, named after what happened ----------------------------------------------------

    def update_received(self, channel: str) -> None:
        self.updates.labels(channel).inc()

    def event_answered(self, channel: str, replies: int, seconds: float) -> None:
        self.messages.labels(channel, "in").inc()
        self.messages.labels(channel, "out").inc(replies)
        self.reply_latency.labels(channel).observe(seconds)

    def notice_sent(self, channel: str) -> None:
        """A message the desk sent a customer on its own (filed, an agent's answer, …)."""
        self.messages.labels(channel, "out").inc()

    def ticket_filed(
        self, category: str, *, critical: bool, in_scope: bool, told: bool, confidence: float
    ) -> None:
        self.tickets.labels(category, _bool(critical)).inc()
        if not in_scope:
            self.out_of_scope.labels(_bool(told)).inc()
        self.confidence.observe(confidence)

    def request_deflected(self, channel: str) -> None:
        self.deflected.labels(channel).inc()

    def delivered(self, kind: str) -> None:
        self.deliveries.labels(kind).inc()

    def delivery_failed(self, kind: str, *, final: bool) -> None:
        self.delivery_failures.labels(kind, _bool(final)).inc()

    def mailbox_checked(self) -> None:
        self.imap_last_check.set_to_current_time()

    def watching(self, leading: bool) -> None:
        """This replica started (True) or stopped (False) watching the IMAP mailbox."""
        self.imap_watching.set(1 if leading else 0)

    def mail_handled(self, arrived: datetime, now: datetime) -> None:
        # A server clock ahead of ours must not make a negative lag.
        self.imap_lag.observe(max(0.0, (now - arrived).total_seconds()))

    def outbox_read(self, figures: Mapping[str, Any], now: datetime) -> None:
        """The outbox as `Store.outbox_figures` reports it, at scrape time."""
        for status in ("queued", "sending"):
            self.outbox_depth.labels(status).set(int(figures.get(status) or 0))
        oldest = figures.get("oldest_waiting_at")
        age = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
        self.outbox_oldest_age.set(max(0.0, age))

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


def _bool(value: bool) -> str:
    return "true" if value else "false"
