"""The PostgreSQL schema, one numbered migration per change; never edit one that has shipped.

The tables mirror the SQLite ones (bot/tickets/store.py and the table owners' `_SCHEMA`s), so
that the owners' statements run unchanged on both; the differences are PostgreSQL's own:
- ticket numbers come from the sequence `ticket_number` (a sequence never hands a number out
  twice, even when the transaction that took it rolls back, so ids stay unique across replicas);
- outbox rows carry a claim (`claimed_by`, `claimed_until`): the worker holding it delivers;
- `limit_events` names its key column `rowid`, the name SQLite gives its implicit one, because
  `Limits.undo` deletes by it.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "tickets, conversations, outbox, identity, limits",
        """
        CREATE SEQUENCE ticket_number;
        CREATE TABLE tickets (
            number BIGINT PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            status TEXT NOT NULL,
            message_id TEXT,
            created_at TIMESTAMPTZ NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX tickets_customer ON tickets (channel, customer_id, number DESC);
        CREATE TABLE conversations (
            channel TEXT NOT NULL,
            user_id TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (channel, user_id)
        );
        CREATE TABLE outbox (
            id BIGSERIAL PRIMARY KEY,
            ticket_id TEXT,
            kind TEXT NOT NULL,
            message_id TEXT NOT NULL UNIQUE,
            raw BYTEA NOT NULL,
            envelope TEXT,
            status TEXT NOT NULL DEFAULT 'queued',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TIMESTAMPTZ NOT NULL,
            last_error TEXT,
            created_at TIMESTAMPTZ NOT NULL,
            sent_at TIMESTAMPTZ,
            claimed_by TEXT,
            claimed_until TIMESTAMPTZ
        );
        CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
        CREATE TABLE inbound_processed (
            message_key TEXT PRIMARY KEY,
            outcome TEXT NOT NULL,
            ticket_id TEXT,
            processed_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE desk_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE limit_events (
            rowid BIGSERIAL PRIMARY KEY,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX limit_events_key ON limit_events (kind, key, at);
        CREATE INDEX limit_events_at ON limit_events (at);
        CREATE TABLE consents (
            customer_key TEXT PRIMARY KEY,
            given_at TEXT NOT NULL,
            version TEXT NOT NULL
        );
        CREATE TABLE verification_codes (
            customer_key TEXT NOT NULL,
            address TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            sent_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (customer_key, address)
        );
        CREATE TABLE verified_addresses (
            customer_key TEXT NOT NULL,
            address TEXT NOT NULL,
            verified_at TEXT NOT NULL,
            PRIMARY KEY (customer_key, address)
        );
        """,
    ),
    (
        2,
        "the e-mail channel's replies",
        # The channel's statements name the table `sent`, as in its SQLite file.
        """
        CREATE TABLE sent (
            message_id TEXT PRIMARY KEY,
            ticket_id TEXT,
            kind TEXT NOT NULL,
            recipient TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        "the coupon registry",
        """
        CREATE TABLE coupons (
            coupon TEXT PRIMARY KEY,
            customer TEXT NOT NULL DEFAULT '',
            product TEXT NOT NULL,
            edition TEXT NOT NULL,
            support_until DATE NOT NULL
        );
        """,
    ),
    (
        4,
        "the web form's status links, notices and signing key",
        # The channel's statements name the tables as in its SQLite file.
        """
        CREATE TABLE status_links (
            token_hash TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            said TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE notices (ticket_id TEXT NOT NULL, at TEXT NOT NULL, text TEXT NOT NULL);
        CREATE INDEX notices_ticket ON notices (ticket_id, at);
        CREATE TABLE web_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
)
