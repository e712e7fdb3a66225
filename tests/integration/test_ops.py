"""Operations against real parts: the ops server of the real desk, its readiness against real
SMTP and Redis servers that are stopped under it, its metrics after real tickets, the real
`frontdesk run` with JSON logs, and a Bot API server that refuses the command menu."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App, build_app, build_desk
from bot.channels.telegram import setup
from bot.config import Settings
from bot.intake.events import ChoiceEvent, Reply, TextEvent
from bot.ops.metrics import Metrics
from bot.ops.server import OpsServer
from bot.policy.schedule import Schedule
from bot.tickets.render import POLICY
from classifier import Classifier
from tests.helpers import file_request, wait_until
from tests.integration.test_email_channel import COMPLETE
from tests.servers.botapi import BotApiServer
from tests.servers.mail import MailServers
from tests.servers.redis import RedisServer

REQUEST = (
    "Не работает оформление заказа в корзине: кнопка «Оформить» ничего не делает. Сайт "
    "example.ru, редакция Бизнес, версия 25.1.0, купон SM6-NS-ABCD12345, ivan@example.ru\n"
    "Шаги: 1. добавить товар 2. нажать Оформить"
)
ROOT = Path(__file__).resolve().parents[2]
FRONTDESK = Path(sys.executable).with_name("frontdesk")
WAIT = 120.0  # the child loads the classifier (and trains it, the first time) before it runs


# --------------------------------------------------------------------------------- helpers


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(30)) as resp,
    ):
        return resp.status, await resp.text()


async def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """/metrics parsed: (sample name, its labels) -> value."""
    status, page = await get(port, "/metrics")
    assert status == 200, page
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str):
    """The sum of `name`'s samples whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and wanted <= got)


async def ops_of(app: App) -> OpsServer:
    ops = app.ops_server()
    await ops.start("127.0.0.1", 0)
    return ops


@pytest.fixture
async def started() -> AsyncIterator[list[Any]]:
    """Apps and ops servers a test started, closed afterwards in reverse order."""
    things: list[Any] = []
    yield things
    for thing in reversed(things):
        await (thing.stop() if isinstance(thing, OpsServer) else thing.close())


# ------------------------------------------------------------------- readiness and metrics


async def test_metrics_follow_a_ticket_through_an_smtp_outage(
    mail_servers: MailServers,
    mail_settings: Settings,
    trained_classifier: Classifier,
    started: list[Any],
) -> None:
    # Given the desk with its ops server, and the support mail server down
    app = await build_app(
        mail_settings,
        classifier=trained_classifier,
        outbox_options={"base_delay": 0.05, "max_delay": 0.2},
    )
    started.append(app)
    ops = await ops_of(app)
    started.append(ops)
    status, body = await get(ops.port, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    mail_servers.stop_smtp()
    status, body = await get(ops.port, "/readyz")
    ready = json.loads(body)
    assert status == 503, body
    assert set(ready["failed"]) == {"smtp"} and ready["checks"]["database"] == "ok"

    # When a customer files a request
    notices: list[Reply] = []

    async def notify(user: str, reply: Reply) -> None:
        notices.append(reply)

    app.desk.subscribe("test", notify)
    await file_request(app, "m1", REQUEST)

    # Then it is counted at once, and waits in the outbox while delivery fails
    async def failing() -> bool:
        return value(await scrape(ops.port), "frontdesk_delivery_failures_total") >= 1

    await wait_until(failing, within=30)
    samples = await scrape(ops.port)
    assert value(samples, "frontdesk_tickets_total") == 1
    (ticket,) = await app.desk.tickets_of("test", "m1")
    c = ticket.classification
    critical = "true" if c.critical else "false"
    assert value(samples, "frontdesk_tickets_total", category=c.category, critical=critical) == 1
    assert value(samples, "frontdesk_classifier_confidence_count") == 1
    assert 0 < value(samples, "frontdesk_classifier_confidence_sum") <= 1
    events = value(samples, "frontdesk_messages_total", channel="test", direction="in")
    assert events >= 2  # the request and the Send press at least
    assert value(samples, "frontdesk_messages_total", channel="test", direction="out") >= events
    assert value(samples, "frontdesk_reply_latency_seconds_count", channel="test") == events
    assert value(samples, "frontdesk_delivery_failures_total", kind="ticket", final="false") >= 1
    assert value(samples, "frontdesk_deliveries_total") == 0
    assert value(samples, "frontdesk_outbox_depth") == 1
    assert value(samples, "frontdesk_outbox_oldest_age_seconds") > 0
    replies = value(samples, "frontdesk_messages_total", channel="test", direction="out")

    # When the mail server is back, the desk is ready again and the ticket goes out
    mail_servers.start_smtp()
    status, body = await get(ops.port, "/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"] == {"database": "ok", "smtp": "ok"}
    app.outbox.wake()

    async def delivered() -> bool:
        samples = await scrape(ops.port)
        return value(samples, "frontdesk_deliveries_total", kind="ticket") == 1

    await wait_until(delivered, within=30)
    samples = await scrape(ops.port)
    assert value(samples, "frontdesk_outbox_depth") == 0
    assert value(samples, "frontdesk_outbox_oldest_age_seconds") == 0
    # The customer was told "filed": a notice of its own, counted as a message out
    await wait_until(lambda: bool(notices), within=30)
    samples = await scrape(ops.port)
    out = value(samples, "frontdesk_messages_total", channel="test", direction="out")
    assert out == replies + len(notices)


async def test_readiness_names_redis_when_it_stops(
    settings: Settings,
    trained_classifier: Classifier,
    private_redis: RedisServer,
    started: list[Any],
) -> None:
    # Given the desk keeping its conversations in Redis
    app = await build_app(
        settings.model_copy(update={"redis_url": private_redis.url}),
        classifier=trained_classifier,
    )
    started.append(app)
    ops = await ops_of(app)
    started.append(ops)
    status, body = await get(ops.port, "/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok"}
    # When Redis stops
    private_redis.stop()
    # Then the desk is not ready, and says why
    status, body = await get(ops.port, "/readyz")
    ready = json.loads(body)
    assert status == 503, body
    assert set(ready["failed"]) == {"redis"} and ready["checks"]["database"] == "ok"


async def test_a_request_the_documentation_answers_is_counted_as_deflected(
    settings: Settings, trained_classifier: Classifier, started: list[Any]
) -> None:
    app = await build_app(settings, classifier=trained_classifier)
    started.append(app)
    ops = await ops_of(app)
    started.append(ops)
    # Given a request for which the summary offers documentation
    text = "Как настроить резервное копирование сайта? " + REQUEST.split(". ", 1)[1]
    replies = await app.desk.handle("test", "d1", TextEvent(text))
    for _ in range(10):
        options = [o.value for o in replies[-1].options]
        if "docs_helped" in options:
            break
        answer = next(o for o in options if o not in ("cancel", "edit"))
        replies = await app.desk.handle("test", "d1", ChoiceEvent(answer))
    else:
        pytest.fail(f"no documentation offered: {replies[-1].text}")
    # When the customer says it helped
    await app.desk.handle("test", "d1", ChoiceEvent("docs_helped"))
    # Then nothing is filed and the request counts as deflected
    samples = await scrape(ops.port)
    assert value(samples, "frontdesk_deflected_total", channel="test") == 1
    assert value(samples, "frontdesk_tickets_total") == 0


# ---------------------------------------------------------------- the real `frontdesk run`


class FrontdeskRun:
    """`frontdesk run` as a child process; its log (stderr) goes to a file."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        command = [str(FRONTDESK), "run"] if FRONTDESK.exists() else [sys.executable, "-m", "bot"]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            command, cwd=cwd, env={**clean, **env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    @property
    def lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    async def wait_record(self, prefix: str) -> dict[str, Any]:
        """The first JSON log record whose message starts with `prefix`."""
        deadline = time.monotonic() + WAIT
        while True:
            for line in self.lines:
                if line.startswith("{") and json.loads(line)["message"].startswith(prefix):
                    return dict(json.loads(line))
            if self.proc.poll() is not None:
                raise AssertionError(f"frontdesk exited ({self.proc.returncode}): {self.lines}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {prefix!r} logged after {WAIT}s: {self.lines}")
            await asyncio.sleep(0.05)

    async def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(self.proc.wait, WAIT)
        self._log.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture
def runs() -> Iterator[list[FrontdeskRun]]:
    started: list[FrontdeskRun] = []
    yield started
    for run in started:
        run.kill()


def customer_mail() -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = "Клиент <client@shop.example>"
    msg["To"] = "frontdesk@whatasoft.test"
    msg["Subject"] = "Не работает корзина"
    msg["Message-ID"] = "<ops-1@shop.example>"
    msg.set_content(COMPLETE)
    return msg


async def test_frontdesk_run_serves_ops_and_logs_json(
    mail_servers: MailServers, mail_settings: Settings, runs: list[FrontdeskRun], tmp_path: Path
) -> None:
    # Given the real `frontdesk run` on the mail servers, ops port 0 (a free one), JSON logs
    s = mail_settings
    env = {
        "FRONTDESK_SMTP_HOST": str(s.smtp_host),
        "FRONTDESK_SMTP_PORT": str(s.smtp_port),
        "FRONTDESK_IMAP_HOST": str(s.imap_host),
        "FRONTDESK_IMAP_PORT": str(s.imap_port),
        "FRONTDESK_IMAP_USER": str(s.imap_user),
        "FRONTDESK_IMAP_PASSWORD": mail_servers.password,
        "FRONTDESK_SUPPORT_ADDRESS": s.support_address,
        "FRONTDESK_FROM_ADDRESS": s.from_address,
        "FRONTDESK_DATA_DIR": str(s.data_dir),
        "FRONTDESK_OPS_PORT": "0",
        "FRONTDESK_LOG_FORMAT": "json",
    }
    run = FrontdeskRun(env, s.data_dir.parent, tmp_path / "frontdesk.log")
    runs.append(run)
    record = await run.wait_record("ops server on http://127.0.0.1:")
    port = int(record["message"].split("127.0.0.1:")[1].split(" ")[0])
    await run.wait_record("IMAP INBOX: first start")

    # Then it is alive and ready
    status, body = await get(port, "/healthz")
    assert status == 200, body
    status, body = await get(port, "/readyz")
    assert status == 200, body

    # When a customer writes a complete request by e-mail
    mail_servers.deliver(customer_mail())

    # Then the metrics show the update, the ticket, its delivery and the mail's lag
    async def delivered() -> bool:
        samples = await scrape(port)
        return value(samples, "frontdesk_deliveries_total", kind="ticket") == 1

    await wait_until(delivered, within=WAIT)
    samples = await scrape(port)
    assert value(samples, "frontdesk_updates_total", channel="email") >= 1
    assert value(samples, "frontdesk_tickets_total") == 1
    assert value(samples, "frontdesk_imap_lag_seconds_count") >= 1
    assert value(samples, "frontdesk_imap_last_check_timestamp_seconds") > time.time() - WAIT

    # When the support mail server stops, the desk is not ready and says which part failed
    mail_servers.stop_smtp()
    status, body = await get(port, "/readyz")
    assert status == 503, body
    assert set(json.loads(body)["failed"]) == {"smtp"}

    # SIGTERM stops it cleanly; every log line was one JSON object, and no password is in it
    assert await run.terminate() == 0
    records = [json.loads(line) for line in run.lines]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert records[-1]["message"] == "frontdesk stopped"
    assert mail_servers.password not in "\n".join(run.lines)


# ------------------------------------------------------- the Bot API refuses the menu


async def test_a_refused_command_menu_does_not_stop_the_bot(
    botapi: BotApiServer,
    tmp_path: Path,
    trained_classifier: Classifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a Bot API server without setMyCommands
    botapi.refuse("setMyCommands")
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    store, desk = await build_desk(settings, trained_classifier, Schedule.from_settings(settings))
    metrics = Metrics()
    dp = setup(desk, token="424242:ops-test", data_dir=tmp_path, metrics=metrics)
    bot = botapi.make_bot("424242:ops-test")
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        # When the bot starts and a customer writes
        await botapi.wait_for(lambda: bool(botapi.calls("getUpdates")) or polling.done())
        botapi.user_command(42, "/start")
        # Then the bot answers, and the refusal was a warning
        [reply] = await botapi.wait_bot_messages(42)
        assert reply["text"]
        assert botapi.calls("setmycommands")  # it was asked, and refused
        warnings = [r for r in caplog.records if "command menu was not set" in r.getMessage()]
        assert warnings and warnings[0].levelname == "WARNING"
        assert metrics.updates.labels("telegram")._value.get() >= 1
    finally:
        if not polling.done():
            await dp.stop_polling()
        await polling
        await bot.session.close()
        await store.close()
