"""The outbox worker: delivers queued e-mails (tickets, follow-ups, replies) exactly once.

Rows are written by ``Store.create_ticket`` / ``Store.enqueue`` in the same transaction as the
ticket, before any network I/O. This worker loops over ``Store.due_messages``:

``queued`` → ``mark_sending`` → transport accepted → ``mark_sent`` → ``notify(row)``
  (only now may the customer's channel say "filed officially as WAS-000123", 4.1)
4xx / connection error → ``mark_retry`` with exponential backoff and jitter (base → cap)
5xx / bad credentials  → ``mark_failed`` → ``alert(row, error)`` (log + the agent chat)

An unreachable server pauses the whole queue, and the delays of the rows tried meanwhile grow up
to the ceiling (300 s by default) and are stored. Once the server answers again (a delivery, or a
4xx about one message) every queued row is made due at once (``Store.make_queued_due``), and so
at every start: otherwise the rows tried last during the outage would wait out their delay while
newer ones went straight through.

Exactly once
------------
SMTP cannot make "the server accepted it" and "we wrote that down" one atomic step. If the process
dies between the two, or the connection drops after the message data went out, the row is left
(or kept) in status ``sending``: *possibly delivered*. Status ``sending`` is therefore durable
uncertainty. Before such a row is sent again the worker asks the transport ``was_delivered(row)``:

* SMTP with IMAP configured: every message also goes, in the same SMTP transaction, to the
  front-desk address (an envelope-only Bcc). The server accepting the transaction means that copy
  is being delivered; ``ImapDeliveryCheck`` searches the front-desk mailbox for the row's
  Message-ID (stable per ticket: ``<WAS-000123.ticket@domain>``). Found → ``mark_sent`` without
  resending. Not found → wait `confirm_grace` seconds (a real MTA may deliver the copy a little
  later), search once more, and only then resend. IMAP unreachable → ask again later; never guess.
* .eml files: the file is written atomically, so its presence (with that Message-ID) decides.
* SMTP without IMAP: nothing can be asked; the row is resent (at least once) with a warning.

Workers
-------
On SQLite (one process) there is one worker, and rows in ``sending`` are a previous run's
leftovers. On PostgreSQL every replica runs one: ``due_messages`` claims rows with
``FOR UPDATE SKIP LOCKED`` and a lease, ``mark_sending`` goes ahead only while the claim is still
this worker's, and a dead replica's claim simply expires: its ``queued`` rows go to another
worker, its ``sending`` rows are confirmed as above before anything is resent. A new row wakes
every worker at once (``Store.listen_outbox``, LISTEN/NOTIFY); polling is only the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock, utc_now
from bot.config import Settings
from bot.mail.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UncertainDeliveryError,
)
from bot.mail.transport import Transport
from bot.ops.metrics import Metrics
from bot.tickets.interface import TicketStore
from bot.tickets.store import OutboxRow

log = logging.getLogger(__name__)

Notify = Callable[[OutboxRow], Awaitable[None]]
Alert = Callable[[OutboxRow, str], Awaitable[None]]


class Outbox:
    """Background delivery of the store's outbox through one transport. See the module docstring.

    `base_delay`/`max_delay` bound the backoff (seconds; tests use small values). A row that keeps
    getting 4xx replies fails after `max_attempts` tries; a server that cannot be reached at all
    only pauses the queue (an outage is not the ticket's fault) and never fails rows.
    """

    def __init__(
        self,
        store: TicketStore,
        transport: Transport,
        notify: Notify | None = None,
        *,
        alert: Alert | None = None,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        max_attempts: int = 30,
        confirm_grace: float = 10.0,
        poll_interval: float = 30.0,
        batch: int = 50,
        clock: Clock = utc_now,
        rng: Callable[[], float] = random.random,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics or Metrics()
        self.transport = transport
        self._notify = notify
        self._alert = alert
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_attempts = max_attempts
        self.confirm_grace = confirm_grace
        self.poll_interval = poll_interval
        self.batch = batch
        self._clock = clock
        self._rng = rng
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._outages = 0  # consecutive "server unreachable" failures
        self._paused_until: datetime | None = None
        self._not_before: dict[int, datetime] = {}  # uncertain rows waiting for a re-check
        self._checks: dict[int, int] = {}  # uncertain rows: confirmations found nothing so far
        self.stats: dict[str, int] = {"sent": 0, "confirmed": 0, "retried": 0, "failed": 0}
        # Delays stored before this start, or grown during an outage, are void once the server
        # answers: set at start and by every "server unreachable", cleared by `_server_answered`.
        self._stale_delays = True

    @classmethod
    def from_settings(
        cls,
        store: TicketStore,
        transport: Transport,
        settings: Settings,
        notify: Notify | None = None,
        **kwargs: Any,
    ) -> Outbox:
        """An outbox with the timings of FRONTDESK_OUTBOX_*; `kwargs` override them (tests)."""
        options: dict[str, Any] = {
            "base_delay": settings.outbox_retry_base,
            "max_delay": settings.outbox_retry_max,
            "confirm_grace": settings.outbox_confirm_wait,
        }
        options.update(kwargs)
        return cls(store, transport, notify, **options)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="outbox")
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(
                self.store.listen_outbox(self.wake), name="outbox-listen"
            )
        return self._task

    def wake(self) -> None:
        """Something was queued: deliver now instead of at the next poll (no-op during an outage
        pause: a burst of new tickets must not hammer a server that is down)."""
        self._wake.set()

    async def stop(self, grace: float = 30.0) -> None:
        """Finish the message in flight (up to `grace` s), then stop and close the transport."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), grace)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.transport.close()

    async def run(self) -> None:
        log.info("outbox started (transport=%s)", getattr(self.transport, "name", "?"))
        try:
            # Delays left by an earlier run (an outage before a restart) are not this run's: try
            # everything now; if the server is still down the queue pauses after one row.
            moved = await self.store.make_queued_due(self._clock())
            if moved:
                log.info("outbox: %s queued messages made due at start", moved)
        except Exception:
            log.exception("outbox: could not reset the retry delays at start")
        while not self._stopping:
            self._wake.clear()
            try:
                handled = await self.deliver_due()
            except Exception:
                log.exception("outbox pass failed; retrying in %.1fs", self.base_delay)
                handled = 0
                await self._sleep(self.base_delay, wakeable=False)
                continue
            if handled >= self.batch and not self._paused():
                continue  # more may be waiting
            await self._sleep(await self._idle_time(), wakeable=not self._paused())
        log.info("outbox stopped")

    async def _sleep(self, seconds: float, *, wakeable: bool) -> None:
        if seconds <= 0 or self._stopping:
            return
        if not wakeable:
            # Only stop() interrupts a pause: wake() sets the same event, so re-check the flag.
            deadline = asyncio.get_running_loop().time() + seconds
            while not self._stopping:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    return
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), left)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _idle_time(self) -> float:
        now = self._clock()
        if self._paused_until is not None and self._paused_until > now:
            return (self._paused_until - now).total_seconds()
        moments = list(self._not_before.values())
        next_due = getattr(self.store, "next_due_at", None)
        if next_due is not None:
            due = await next_due()
            if due is not None:
                moments.append(due)
        wait = self.poll_interval
        for moment in moments:
            wait = min(wait, max(0.0, (moment - now).total_seconds()))
        return wait

    def _paused(self) -> bool:
        return self._paused_until is not None and self._paused_until > self._clock()

    # --- delivery ----------------------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Seconds before try `attempt` + 1: base·2^(attempt-1) capped, with "equal jitter"
        (half fixed, half random) so that rows failed together do not retry together."""
        exponent = max(0, min(attempt - 1, 30))
        delay: float = min(self.max_delay, self.base_delay * float(2**exponent))
        return delay / 2 + self._rng() * delay / 2

    async def deliver_due(self) -> int:
        """One pass over the due rows; returns how many rows it looked at."""
        if self._paused():
            return 0
        rows = await self.store.due_messages(self._clock(), self.batch)
        handled = 0
        for row in rows:
            if self._stopping or self._paused():
                break
            not_before = self._not_before.get(row.id)
            if not_before is not None and not_before > self._clock():
                continue
            await self._deliver(row)
            handled += 1
        return handled

    async def _deliver(self, row: OutboxRow) -> None:
        if row.status == "sending" and not await self._confirm_uncertain(row):
            return
        now = self._clock()
        if not await self.store.mark_sending(row.id, now):
            # Another worker's now (our claim expired while earlier rows were sent): not ours.
            log.info("outbox row=%s %s taken over by another worker", row.id, row.message_id)
            self._not_before.pop(row.id, None)
            return
        try:
            await self.transport.send(row)
        except UncertainDeliveryError as exc:
            # Stays 'sending' (durable "maybe delivered"); confirmed before any resend.
            log.warning("outbox row=%s %s: %s; will confirm", row.id, row.message_id, exc)
            self._not_before[row.id] = self._clock() + timedelta(seconds=self.confirm_grace)
            self._checks.pop(row.id, None)
            self._note_outage(exc)
            return
        except TemporaryDeliveryError as exc:
            await self._retry(row, exc, attempts=row.attempts + 1)
            return
        except PermanentDeliveryError as exc:
            await self._fail(row, str(exc))
            return
        except Exception as exc:  # a bug in a transport must not kill the worker
            log.exception("outbox row=%s: unexpected transport error", row.id)
            await self._retry(row, TemporaryDeliveryError(repr(exc)), attempts=row.attempts + 1)
            return
        await self._sent(row)

    async def _confirm_uncertain(self, row: OutboxRow) -> bool:
        """For a row that may already be delivered: True = go ahead and send it (again)."""
        try:
            found = await self.transport.was_delivered(row)
        except DeliveryError as exc:
            log.warning("outbox row=%s: cannot confirm delivery yet: %s", row.id, exc)
            delay = self.backoff(self._checks.get(row.id, 0) + 1)
            self._not_before[row.id] = self._clock() + timedelta(seconds=delay)
            return False
        if found:
            log.info(
                "outbox row=%s %s was already delivered; not resending", row.id, row.message_id
            )
            self.stats["confirmed"] += 1
            await self._sent(row, resent=False)
            return False
        if found is None:
            log.warning(
                "outbox row=%s %s may have been delivered before a crash and the transport cannot "
                "check; resending (a duplicate is possible)", row.id, row.message_id,
            )  # fmt: skip
            return True
        checks = self._checks.get(row.id, 0) + 1
        self._checks[row.id] = checks
        if checks < 2 and self.confirm_grace > 0:
            # Not (yet) there: give a slow MTA time to deliver the copy, then look once more.
            self._not_before[row.id] = self._clock() + timedelta(seconds=self.confirm_grace)
            return False
        self._not_before.pop(row.id, None)
        self._checks.pop(row.id, None)
        log.info("outbox row=%s %s not delivered before; sending", row.id, row.message_id)
        return True

    async def _sent(self, row: OutboxRow, *, resent: bool = True) -> None:
        if not await self.store.mark_sent(row.id, self._clock()):
            # Another worker confirmed it first and told the customer: nothing more to do.
            self._not_before.pop(row.id, None)
            self._checks.pop(row.id, None)
            return
        self._not_before.pop(row.id, None)
        self._checks.pop(row.id, None)
        self._outages = 0
        if resent:
            await self._server_answered()
            self.stats["sent"] += 1
            self.metrics.delivered(row.kind)
            log.info(
                "outbox delivered row=%s kind=%s ticket=%s %s",
                row.id, row.kind, row.ticket_id, row.message_id,
            )  # fmt: skip
        if self._notify is not None:
            try:
                await self._notify(row)
            except Exception:
                log.exception("outbox notify failed row=%s ticket=%s", row.id, row.ticket_id)

    async def _retry(self, row: OutboxRow, exc: TemporaryDeliveryError, *, attempts: int) -> None:
        if exc.server_down:
            delay = self._note_outage(exc)
        else:
            await self._server_answered()  # a 4xx about this message: the server is up
            if attempts >= self.max_attempts:
                await self._fail(row, f"gave up after {attempts} attempts: {exc}")
                return
            delay = self.backoff(attempts)
        self.stats["retried"] += 1
        self.metrics.delivery_failed(row.kind, final=False)
        log.warning(
            "outbox row=%s ticket=%s attempt %s failed: %s; retry in %.1fs",
            row.id, row.ticket_id, attempts, exc, delay,
        )  # fmt: skip
        await self.store.mark_retry(row.id, str(exc), self._clock() + timedelta(seconds=delay))

    def _note_outage(self, exc: TemporaryDeliveryError) -> float:
        """The server is unreachable: pause the whole queue (growing with each failure)."""
        if not exc.server_down:
            return 0.0
        self._outages += 1
        self._stale_delays = True
        delay = self.backoff(self._outages)
        self._paused_until = self._clock() + timedelta(seconds=delay)
        if self._outages == 1 or self._outages % 10 == 0:
            log.error("outbox: mail server unreachable (%s failures): %s", self._outages, exc)
        return delay

    async def _server_answered(self) -> None:
        """The server took part in a transaction: end any outage pause, and make every row whose
        delay grew while it was unreachable due now (see the module docstring)."""
        self._paused_until = None
        if not self._stale_delays:
            return
        self._stale_delays = False
        try:
            moved = await self.store.make_queued_due(self._clock())
        except Exception:
            log.exception("outbox: could not reset the retry delays")
            self._stale_delays = True
            return
        if moved:
            log.info("outbox: mail server answers again; %s queued messages made due now", moved)

    async def _fail(self, row: OutboxRow, error: str) -> None:
        self.stats["failed"] += 1
        self.metrics.delivery_failed(row.kind, final=True)
        log.error(
            "outbox row=%s kind=%s ticket=%s failed permanently: %s",
            row.id, row.kind, row.ticket_id, error,
        )  # fmt: skip
        await self.store.mark_failed(row.id, error)
        self._not_before.pop(row.id, None)
        self._checks.pop(row.id, None)
        if self._alert is not None:
            try:
                await self._alert(row, error)
            except Exception:
                log.exception("outbox alert failed row=%s", row.id)
