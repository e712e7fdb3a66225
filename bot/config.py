"""Settings: environment variables prefixed FRONTDESK_, also read from `.env` (ARCHITECTURE.md)."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.address import parse_address

TlsMode = Literal["none", "starttls", "tls"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FRONTDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    telegram_token: SecretStr | None = None
    telegram_api: str | None = None
    webhook_url: str | None = None
    webhook_host: str = "127.0.0.1"  # where the webhook server listens (behind the proxy)
    webhook_port: int = 8080
    agent_chat_id: int | None = None

    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: TlsMode = "none"

    imap_host: str | None = None
    imap_port: int | None = None
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_tls: TlsMode = "none"
    imap_mailbox: str = "INBOX"

    # Mail timings, in seconds (bot/mail/outbox.py, bot/mail/imap.py). Positive: a zero would
    # make the outbox or the watcher spin.
    outbox_confirm_wait: float = Field(10.0, gt=0)  # for the front-desk copy of an uncertain send
    outbox_retry_base: float = Field(1.0, gt=0)  # first retry delay; doubles with each failure
    outbox_retry_max: float = Field(300.0, gt=0)  # ceiling of that delay
    # On PostgreSQL: how long a replica's claim on outbox rows holds without renewal, i.e. how
    # long the rows of a replica that died wait for another one. Longer than one delivery.
    outbox_lease: float = Field(120.0, gt=0)
    imap_poll_interval: float = Field(60.0, gt=0)  # NOOP polling when the server has no IDLE
    imap_idle_renew: float = Field(60.0, gt=0)  # an IDLE is renewed (and the mailbox re-checked)

    # Inbound mail trust (README "Privacy and abuse safety"): the authserv-id(s) of the mail
    # server in front of the front-desk mailbox, comma-separated. Only the topmost
    # Authentication-Results header with one of these ids is believed; unset: none is.
    authserv_id: str = ""

    support_address: str = "support@whatasoft.net"
    from_address: str = "frontdesk@localhost"
    data_dir: Path = Path("var")
    redis_url: str | None = None
    # postgresql://… : the store shared by several replicas (bot/tickets/pg/); unset: SQLite.
    database_url: str | None = Field(None, pattern=r"^postgres(ql)?://")

    # Operations (bot/ops/): health, readiness and Prometheus metrics on a port of their own,
    # never the public web form's, so /metrics is not exposed to customers. Unset: no server.
    ops_host: str = "127.0.0.1"
    ops_port: int | None = Field(None, ge=0, le=65535)
    log_format: Literal["text", "json"] = "text"  # json: one object per line (bot/ops/logs.py)

    # 4.2.5: coupon numbers; the default accepts the usual letter/digit groups of a partner coupon.
    coupon_pattern: str = r"[A-Z0-9]{2,10}(?:-[A-Z0-9]{2,10}){1,5}"
    # 4.8.2: versions older than this make the desk warn that support may ask to update first.
    current_version: str = "25.0.0"
    default_language: Literal["ru", "en"] = "ru"
    # 4.8.5: where a customer renews support when the coupon's support period has ended.
    renew_url: str = "https://готовый-сайт-для-бизнеса.рф/"
    privacy_policy_url: str = "https://готовый-сайт-для-бизнеса.рф/"

    # Check that the customer's site answers before filing (off by default). Only
    # public addresses are contacted, plus the networks listed here (comma-separated CIDRs).
    site_check: bool = False
    site_check_allow: str = ""

    # Where personal-data consent is asked and the contact e-mail verified by a code.
    consent_channels: str = "telegram,web"
    verify_channels: str = "telegram,web"
    retention_days: int = 30  # attachments and drafts older than this are purged
    limit_tickets_per_hour: int = 5
    limit_tickets_per_day: int = 20
    limit_codes_per_hour: int = 5
    limit_guided_replies_per_hour: int = 5
    # Posts of the web form from one IP address (bots that rotate sessions meet this one).
    limit_web_posts_per_hour: int = 60

    # The guided web form (bot/channels/web/): served when the port is set, on 127.0.0.1 unless
    # told otherwise (it is meant to sit behind the site's reverse proxy), under `web_prefix`.
    web_host: str = "127.0.0.1"
    web_port: int | None = Field(None, ge=0, le=65535)
    web_prefix: str = ""  # e.g. "/support"; no trailing slash
    # The key that signs the web session cookies; unset: a random one kept in the data dir.
    web_secret: SecretStr | None = None
    # The address customers reach the form at (for the status links e-mailed to them), e.g.
    # "https://example.ru/support"; unset: http://web_host:web_port + web_prefix.
    web_public_url: str | None = None

    # 2.1: working hours; the calendar itself lives in bot/policy/schedule.py.
    timezone: str = "Europe/Moscow"
    work_start: str = "07:00"
    work_end: str = "16:00"

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def imap_enabled(self) -> bool:
        return bool(self.imap_host)

    @property
    def reserved_addresses(self) -> frozenset[str]:
        """Addresses that are never a customer's contact: support's and the desk's own (4.1)."""
        own = (parseaddr(a)[1] for a in (self.support_address, self.from_address))
        return frozenset(a.ascii.lower() for a in map(parse_address, own) if a is not None)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "frontdesk.sqlite3"
