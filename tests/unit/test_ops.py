"""Operations without servers: the metrics' hooks and the log output (JSON lines, no secrets)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.ops import logs
from bot.ops.logs import JsonFormatter, SecretsFilter, configure, secrets_of
from bot.ops.metrics import Metrics
from bot.policy.secrets import REDACTED, redact

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    value = metrics.registry.get_sample_value(name, labels)
    return None if value is None else float(value)


# ----------------------------------------------------------------------------- metrics


def test_each_metrics_object_counts_on_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.update_received("telegram")
    first.update_received("telegram")
    assert sample(first, "frontdesk_updates_total", channel="telegram") == 2
    assert sample(second, "frontdesk_updates_total", channel="telegram") is None


@pytest.mark.parametrize(
    ("in_scope", "told", "out_of_scope"),
    [(True, False, {}), (False, True, {"true": 1.0}), (False, False, {"false": 1.0})],
)
def test_a_filed_ticket_is_counted_by_category_critical_and_scope(
    in_scope: bool, told: bool, out_of_scope: dict[str, float]
) -> None:
    metrics = Metrics()
    metrics.ticket_filed("error", critical=True, in_scope=in_scope, told=told, confidence=0.83)
    assert sample(metrics, "frontdesk_tickets_total", category="error", critical="true") == 1
    for label in ("true", "false"):
        got = sample(metrics, "frontdesk_out_of_scope_total", told=label)
        assert (got or None) == out_of_scope.get(label)
    assert sample(metrics, "frontdesk_classifier_confidence_sum") == pytest.approx(0.83)
    assert sample(metrics, "frontdesk_classifier_confidence_bucket", le="0.8") == 0
    assert sample(metrics, "frontdesk_classifier_confidence_bucket", le="0.9") == 1


def test_an_answered_event_counts_one_in_its_replies_out_and_its_latency() -> None:
    metrics = Metrics()
    metrics.event_answered("email", replies=3, seconds=0.02)
    metrics.notice_sent("email")
    assert sample(metrics, "frontdesk_messages_total", channel="email", direction="in") == 1
    assert sample(metrics, "frontdesk_messages_total", channel="email", direction="out") == 4
    assert sample(metrics, "frontdesk_reply_latency_seconds_count", channel="email") == 1
    assert (
        sample(metrics, "frontdesk_reply_latency_seconds_bucket", channel="email", le="0.01") == 0
    )
    assert (
        sample(metrics, "frontdesk_reply_latency_seconds_bucket", channel="email", le="0.025") == 1
    )


def test_outbox_figures_become_depth_and_oldest_age() -> None:
    metrics = Metrics()
    oldest = NOW - timedelta(minutes=5)
    metrics.outbox_read({"queued": 2, "sending": 1, "sent": 9, "oldest_waiting_at": oldest}, NOW)
    assert sample(metrics, "frontdesk_outbox_depth", status="queued") == 2
    assert sample(metrics, "frontdesk_outbox_depth", status="sending") == 1
    assert sample(metrics, "frontdesk_outbox_oldest_age_seconds") == 300
    metrics.outbox_read({"queued": 0, "sending": 0, "oldest_waiting_at": None}, NOW)
    assert sample(metrics, "frontdesk_outbox_oldest_age_seconds") == 0


def test_imap_lag_is_never_negative() -> None:
    """A mail server whose clock runs ahead stamps arrivals in our future."""
    metrics = Metrics()
    metrics.mail_handled(NOW + timedelta(seconds=30), NOW)
    metrics.mail_handled(NOW - timedelta(seconds=90), NOW)
    assert sample(metrics, "frontdesk_imap_lag_seconds_sum") == 90
    assert sample(metrics, "frontdesk_imap_lag_seconds_count") == 2


def test_the_exposition_parses_as_prometheus_text() -> None:
    metrics = Metrics()
    metrics.delivery_failed("ticket", final=True)
    metrics.delivered("reply")
    metrics.request_deflected("telegram")
    families = {f.name for f in text_string_to_metric_families(metrics.exposition().decode())}
    assert {
        "frontdesk_updates", "frontdesk_messages", "frontdesk_tickets", "frontdesk_out_of_scope",
        "frontdesk_deflected", "frontdesk_outbox_depth", "frontdesk_outbox_oldest_age_seconds",
        "frontdesk_deliveries", "frontdesk_delivery_failures", "frontdesk_imap_lag_seconds",
        "frontdesk_imap_last_check_timestamp_seconds", "frontdesk_classifier_confidence",
        "frontdesk_reply_latency_seconds",
    } <= families  # fmt: skip


# -------------------------------------------------------------------------------- logs


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


def logger_to(
    stream: io.StringIO, formatter: logging.Formatter, secrets: list[str]
) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(SecretsFilter(secrets, redact))
    logger = logging.getLogger(f"tests.ops.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_json_lines_carry_time_level_logger_message_and_extra_fields(out: io.StringIO) -> None:
    log = logger_to(out, JsonFormatter(), [])
    log.info("ticket queued id=%s", "WAS-000001", extra={"channel": "telegram", "n": 2})
    try:
        raise ValueError("broken «cart»")
    except ValueError:
        log.exception("e-mail failed")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "ticket queued id=WAS-000001"
    assert first["level"] == "INFO" and first["logger"] == log.name
    assert first["channel"] == "telegram" and first["n"] == 2
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert second["level"] == "ERROR"
    assert "ValueError: broken «cart»" in second["exception"]


@pytest.mark.parametrize("json_lines", [True, False])
def test_no_password_or_token_reaches_the_log(out: io.StringIO, json_lines: bool) -> None:
    formatter = JsonFormatter() if json_lines else logging.Formatter("%(message)s")
    log = logger_to(out, formatter, ["Smtp-Pa55word"])
    log.warning("GET https://api.telegram.org/bot%s/getUpdates failed", TOKEN)
    log.warning("login refused for smtp password Smtp-Pa55word")
    log.warning("redis://:R3dis-secret@cache:6379/0 unreachable")
    log.info("customer wrote: пароль от админки Qw3rty!")
    log.info("context", extra={"url": f"https://api.telegram.org/bot{TOKEN}/"})
    try:
        raise ConnectionError(f"https://api.telegram.org/bot{TOKEN}/getMe")
    except ConnectionError:
        log.exception("polling failed")
    written = out.getvalue()
    for secret in (TOKEN, TOKEN.split(":")[1], "Smtp-Pa55word", "R3dis-secret", "Qw3rty"):
        assert secret not in written
    assert written.count(REDACTED) >= 5  # the text format leaves out the extra field
    assert "ConnectionError" in written and "redis://:" in written


def test_the_configured_secrets_are_the_token_passwords_and_redis_password() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_token=TOKEN,  # type: ignore[arg-type]
        smtp_password="Smtp-Pa55word",  # type: ignore[arg-type]
        imap_password="Imap-Pa55word",  # type: ignore[arg-type]
        redis_url="redis://user:R3dis-secret@cache:6379/0",
    )
    assert set(secrets_of(settings)) == {
        TOKEN, TOKEN.split(":")[1], "Smtp-Pa55word", "Imap-Pa55word", "R3dis-secret",
    }  # fmt: skip


@pytest.fixture
def root_logging() -> Iterator[None]:
    """`configure` replaces the root logger's handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level


@pytest.mark.usefixtures("root_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_configure_writes_the_chosen_format(out: io.StringIO, fmt: str) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        log_format=fmt,  # type: ignore[arg-type]
        telegram_token=TOKEN,  # type: ignore[arg-type]
    )
    configure(settings, logging.StreamHandler(out), redact)
    logging.getLogger("frontdesk").info("token is %s", TOKEN)
    (line,) = out.getvalue().splitlines()
    assert TOKEN not in line
    if fmt == "json":
        record = json.loads(line)
        assert record["logger"] == "frontdesk" and record["message"] == f"token is {REDACTED}"
    else:  # the format of old: time, level, logger, message
        assert line.endswith(f" INFO frontdesk: token is {REDACTED}")
        datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")  # noqa: DTZ007


def test_the_log_marks_hidden_values_as_customer_text_does() -> None:
    assert logs.REDACTED == REDACTED
