"""The coupon registry (4.2.5, 4.8.5, 4.8.8): which coupons the partner sold, to whom, until when.

Operators maintain it by importing a CSV export (`frontdesk coupons import FILE.csv`)::

    coupon,customer,product,edition,support_until
    ABCD-1234-EFGH,ООО «Ромашка»,1С-Битрикс: Управление сайтом,Бизнес,2025-12-31

Dates are `YYYY-MM-DD` or `DD.MM.YYYY`; the file is UTF-8 with or without a BOM; `,` or `;` (as
Excel writes in Russia) separate the fields; the columns may come in any order, extra columns are
ignored. Every row is checked (coupon in the configured format, known edition, a real date, no
duplicate within the file); good rows are upserted in one transaction, bad ones reported with their
line.

The desk looks the customer's coupon up (`CouponRegistry.lookup`) and `check_coupon` turns the
record into notes for the agent, a prefill for edition/product, and — when support has expired —
the 4.8.5 explanation for the customer with the renewal link.

The registry lives in its own table `coupons` of the desk's database (`Settings.database_path`,
or the shared PostgreSQL database with FRONTDESK_DATABASE_URL: bot/tickets/pg/coupons.py).
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import csv
import re
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal, TextIO

import aiosqlite

from bot.tickets.values import (
    DEFAULT_PRODUCT,
    KNOWN_EDITIONS,
    UNKNOWN,
    canonical_edition,
    clean_text,
    normalise_coupon,
)

DEFAULT_RENEW_URL = "https://готовый-сайт-для-бизнеса.рф/"
BATCH_SIZE = 5_000
EXPIRES_SOON_DAYS = 14
PROGRESS_MIN_BYTES = 1 << 20  # the CLI shows a progress bar for files from 1 MiB (~15,000 rows)
MAX_FIELD = 500

COLUMNS: tuple[str, ...] = ("coupon", "customer", "product", "edition", "support_until")
# Header names an operator may also use (Russian exports); compared case-insensitively.
COLUMN_ALIASES: dict[str, str] = {
    "купон": "coupon",
    "номер купона": "coupon",
    "клиент": "customer",
    "покупатель": "customer",
    "продукт": "product",
    "редакция": "edition",
    "поддержка до": "support_until",
    "срок поддержки": "support_until",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS coupons (
    coupon TEXT PRIMARY KEY,
    customer TEXT NOT NULL DEFAULT '',
    product TEXT NOT NULL,
    edition TEXT NOT NULL,
    support_until DATE NOT NULL
)
"""
_UPSERT = (
    "INSERT INTO coupons (coupon, customer, product, edition, support_until) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(coupon) DO UPDATE SET "
    "customer = excluded.customer, product = excluded.product, "
    "edition = excluded.edition, support_until = excluded.support_until"
)
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_RU_DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


class CouponImportError(Exception):
    """The CSV file as a whole cannot be imported (unreadable, empty, missing columns)."""


@dataclass(frozen=True)
class CouponRecord:
    """One coupon of the registry; `support_until` is the last day of active support."""

    coupon: str
    customer: str
    product: str
    edition: str
    support_until: date


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows upserted, and rows refused as (line number in the file, reason)."""

    accepted: int
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def format(self, source: str = "", limit: int | None = 200) -> str:
        """A human-readable report; at most `limit` rejected rows are listed (None: all)."""
        head = f"{source}: " if source else ""
        lines = [f"{head}{self.accepted} accepted, {len(self.rejected)} rejected"]
        shown = self.rejected if limit is None else self.rejected[:limit]
        lines.extend(f"  line {line}: {reason}" for line, reason in shown)
        if len(shown) < len(self.rejected):
            lines.append(f"  … and {len(self.rejected) - len(shown)} more (use --all)")
        return "\n".join(lines)


def parse_date(text: str) -> date | None:
    """`YYYY-MM-DD` or `DD.MM.YYYY` to a date; None when it is neither or not a real day."""
    text = text.strip()
    if match := _ISO_DATE_RE.fullmatch(text):
        y, m, d = match.groups()
    elif match := _RU_DATE_RE.fullmatch(text):
        d, m, y = match.groups()
    else:
        return None
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


class _Progress:
    """A plain progress bar on a text stream, redrawn every 5% of the file's bytes."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self._stream = stream
        self._total = max(total, 1)
        self._shown = -1

    def update(self, done: int, rows: int) -> None:
        if self._stream is None:
            return
        step = min(100, done * 100 // self._total) // 5 * 5
        if step > self._shown:
            self._shown = step
            bar = "#" * (step // 5) + "." * (20 - step // 5)
            self._stream.write(f"\rimport [{bar}] {step:3d}%  {rows} rows")
            self._stream.flush()

    def finish(self, rows: int) -> None:
        if self._stream is not None:
            self.update(self._total, rows)
            self._stream.write("\n")
            self._stream.flush()


def _lines(binary: Iterator[bytes], counter: list[int]) -> Iterator[str]:
    """Decode a binary file line by line, counting bytes read; bad UTF-8 becomes U+FFFD."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    first = True
    for raw in binary:
        counter[0] += len(raw)
        text = decoder.decode(raw)
        if first:
            text = text.removeprefix("\ufeff")
            first = False
        yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_map(row: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for i, name in enumerate(row):
        key = " ".join(name.strip().strip("\ufeff\"'").lower().split())
        key = COLUMN_ALIASES.get(key, key)
        if key in COLUMNS and key not in positions:
            positions[key] = i
    missing = [c for c in COLUMNS if c not in positions]
    if missing:
        raise CouponImportError(
            f"the header lacks column(s) {', '.join(missing)}; "
            f"expected: {','.join(COLUMNS)} (got: {','.join(row)[:200]})"
        )
    return positions


def _edition(raw: str) -> str | None:
    edition = canonical_edition(raw)
    return None if edition == UNKNOWN else edition


class _RowChecker:
    """Checks rows; editions, products and dates repeat in an export, so they are memoised."""

    def __init__(self, cols: dict[str, int], pattern: re.Pattern[str]) -> None:
        self._cols = cols
        self._width = max(cols.values()) + 1
        self._pattern = pattern
        self._editions: dict[str, str | None] = {}
        self._products: dict[str, str] = {}
        self._dates: dict[str, str | None] = {}

    def __call__(self, row: list[str]) -> tuple[str, str, str, str, str] | str:
        """A row to upsert (coupon, customer, product, edition, ISO date) or why it is refused."""
        cols = self._cols
        if len(row) < self._width:
            return f"expected at least {self._width} fields, got {len(row)}"
        if any("\ufffd" in value for value in row):
            return "not valid UTF-8 (in Excel: save as «CSV UTF-8»)"
        raw_coupon = row[cols["coupon"]]
        coupon = normalise_coupon(raw_coupon, self._pattern.pattern)
        if not coupon:
            return "empty coupon"
        if self._pattern.fullmatch(coupon) is None:
            return (
                f"coupon {raw_coupon.strip()[:60]!r} does not match the configured coupon format"
            )
        raw_edition = row[cols["edition"]]
        if raw_edition in self._editions:
            edition = self._editions[raw_edition]
        else:
            edition = self._editions.setdefault(raw_edition, _edition(raw_edition))
        if edition is None:
            shown = clean_text(raw_edition)[:60]
            if not shown:
                return "empty edition"
            return f"unknown edition {shown!r} (known: {', '.join(KNOWN_EDITIONS)})"
        raw_date = row[cols["support_until"]]
        if raw_date in self._dates:
            until = self._dates[raw_date]
        else:
            parsed = parse_date(raw_date)
            until = self._dates.setdefault(raw_date, parsed.isoformat() if parsed else None)
        if until is None:
            return f"bad date {raw_date.strip()[:30]!r} (expected YYYY-MM-DD or DD.MM.YYYY)"
        raw_product = row[cols["product"]]
        product = self._products.get(raw_product)
        if product is None:
            product = clean_text(raw_product)[:MAX_FIELD] or DEFAULT_PRODUCT
            if len(self._products) < 1000:
                self._products[raw_product] = product
        customer = clean_text(row[cols["customer"]])[:MAX_FIELD]
        return coupon, customer, product, edition, until


class _CsvRows:
    """The checked rows of a coupon CSV, read in batches (blocking; run it in a thread)."""

    def __init__(self, path: Path, pattern: re.Pattern[str], progress: TextIO | None) -> None:
        try:
            size = path.stat().st_size
            self._file = path.open("rb")
        except OSError as exc:
            raise CouponImportError(f"cannot read {path}: {exc.strerror or exc}") from exc
        self._bytes = [0]
        self._bar = _Progress(progress, size)
        self.accepted = 0
        self.rejected: list[tuple[int, str]] = []
        self._seen: dict[str, int] = {}
        try:
            lines = _lines(iter(self._file), self._bytes)
            header = next(lines, None)
            if header is None or not header.strip():
                raise CouponImportError(f"{path}: empty file or blank header line")
            self._reader = csv.reader(_chain_first(header, lines), delimiter=_delimiter(header))
            self._check = _RowChecker(_header_map(next(self._reader)), pattern)
        except OSError as exc:
            self._file.close()
            raise CouponImportError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except (csv.Error, CouponImportError) as exc:
            self._file.close()
            raise CouponImportError(f"{path}: {exc}") from exc

    def next_batch(self) -> list[tuple[str, str, str, str, str]]:
        """Up to BATCH_SIZE good rows, normalised for the upsert; [] at the end of the file."""
        batch: list[tuple[str, str, str, str, str]] = []
        reader = self._reader
        while len(batch) < BATCH_SIZE:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.rejected.append((reader.line_num, f"bad CSV: {exc}"))
                continue
            if not row or all(not value.strip() for value in row):
                continue  # blank line
            line = reader.line_num
            checked = self._check(row)
            if isinstance(checked, str):
                self.rejected.append((line, checked))
                continue
            first = self._seen.setdefault(checked[0], line)
            if first != line:
                self.rejected.append((line, f"duplicate of line {first} ({checked[0]})"))
                continue
            batch.append(checked)
        self.accepted += len(batch)
        self._bar.update(self._bytes[0], self.accepted + len(self.rejected))
        return batch

    def finish(self) -> None:
        self._bar.finish(self.accepted + len(self.rejected))

    def close(self) -> None:
        self._file.close()


class CouponRegistry:
    """The coupon table in the desk's SQLite database: `await CouponRegistry.open(path)`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, db_path: Path) -> CouponRegistry:
        """Connect to the database file (created if missing) and create the table if needed."""
        db_path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(db_path, isolation_level=None)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA busy_timeout=5000")
            await db.execute(SCHEMA)
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> CouponRegistry:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def import_csv(
        self, path: Path, coupon_pattern: str, progress: TextIO | None = None
    ) -> ImportReport:
        """Check every row of the CSV and upsert the good ones in one transaction.

        Raises `CouponImportError` when the file cannot be read, is empty or lacks a column; a bad
        row never stops the import. Progress is drawn on `progress` (e.g. sys.stderr) if given.
        The file is read and checked in a worker thread, batch by batch, off the event loop.
        """
        rows = await asyncio.to_thread(_CsvRows, path, re.compile(coupon_pattern), progress)
        try:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                while batch := await asyncio.to_thread(rows.next_batch):
                    await self._db.executemany(_UPSERT, batch)
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
        finally:
            rows.close()
        rows.finish()
        return ImportReport(rows.accepted, rows.rejected)

    async def lookup(self, coupon: str) -> CouponRecord | None:
        """The record of a coupon, matched after `normalise_coupon` (case, spaces, dashes)."""
        key = normalise_coupon(coupon)
        if not key:
            return None
        async with self._db.execute(
            "SELECT coupon, customer, product, edition, support_until FROM coupons"
            " WHERE coupon = ?",
            (key,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return CouponRecord(row[0], row[1], row[2], row[3], date.fromisoformat(row[4]))

    async def count(self) -> int:
        async with self._db.execute("SELECT COUNT(*) FROM coupons") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def check(
        self,
        coupon: str,
        today: date,
        stated_edition: str | None,
        *,
        renew_url: str = DEFAULT_RENEW_URL,
    ) -> CouponCheck | None:
        """`check_coupon` of the coupon's record; None while the registry is empty (not in use)."""
        if await self.count() == 0:
            return None
        record = await self.lookup(coupon)
        return check_coupon(record, today, stated_edition, renew_url=renew_url, coupon=coupon)


def _chain_first(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


CouponStatus = Literal["ok", "unknown", "expired"]


@dataclass(frozen=True)
class CouponCheck:
    """What the registry says about the customer's coupon.

    `notes` go to the agent (`Ticket.notes`, Russian). `edition`/`product`: the registry's values,
    to prefill the ticket when the customer did not state them. `customer_ru`/`customer_en`:
    what to tell the customer ("" when there is nothing to say).
    """

    status: CouponStatus
    notes: tuple[str, ...] = ()
    edition: str | None = None
    product: str | None = None
    support_until: date | None = None
    edition_mismatch: bool = False
    customer_ru: str = ""
    customer_en: str = ""

    def customer_text(self, lang: str) -> str:
        return self.customer_en if lang == "en" else self.customer_ru


def renew_url(settings: object) -> str:
    """The renewal link: `settings.renew_url` when that setting exists and is set, else default."""
    value = getattr(settings, "renew_url", None)
    return str(value) if value else DEFAULT_RENEW_URL


def check_coupon(
    record: CouponRecord | None,
    today: date,
    stated_edition: str | None,
    *,
    renew_url: str = DEFAULT_RENEW_URL,
    coupon: str = "",
) -> CouponCheck:
    """Compare the customer's coupon (its registry record, or None) with today and what they said.

    - not in the registry → "unknown": a note asks the agent to check the license by hand (4.8.8);
      the customer is asked to double-check the number, the request still goes on;
    - support ended before `today` → "expired": the 4.8.5 explanation and the renewal link;
    - otherwise "ok", with a note when support ends within 14 days.
    A stated edition that differs from the registry's is noted for the agent (`edition_mismatch`).
    """
    shown = normalise_coupon(record.coupon if record else coupon)
    if record is None:
        return CouponCheck(
            status="unknown",
            notes=(
                f"Купон {shown or '(не указан)'} не найден в реестре партнёра: проверить лицензию "
                "вручную (п. 4.2.5, 4.8.8).",
            ),
            customer_ru=(
                "Мы не нашли этот купон в нашем реестре. Проверьте, пожалуйста, номер; если он "
                "верный — обращение всё равно будет передано, специалист проверит лицензию."
            ),
            customer_en=(
                "We could not find this coupon in our registry. Please double-check the number; "
                "if it is correct, your request will still be passed on and the specialist will "
                "check the license."
            ),
        )
    notes = [
        f"Купон {shown} по реестру: {record.product}, редакция «{record.edition}», "
        f"клиент: {record.customer or '—'}, поддержка до {record.support_until:%d.%m.%Y}."
    ]
    mismatch = False
    stated = None
    if stated_edition:
        stated = canonical_edition(stated_edition)
        if stated is None:  # not an edition: the agent sees the customer's own words
            stated = clean_text(stated_edition)
        if stated == UNKNOWN:
            stated = None
    if stated and stated != record.edition:
        mismatch = True
        notes.append(f"Редакция по реестру: {record.edition}; клиент указал: {stated}.")
    base = CouponCheck(
        status="ok",
        edition=record.edition,
        product=record.product,
        support_until=record.support_until,
        edition_mismatch=mismatch,
    )
    if record.support_until < today:
        notes.append(
            f"Срок поддержки истёк {record.support_until:%d.%m.%Y}: решение может быть отложено "
            "или невозможно (п. 4.8.5); клиенту предложено продление."
        )
        return replace(
            base,
            status="expired",
            notes=tuple(notes),
            customer_ru=(
                f"По нашему реестру срок технической поддержки по купону {shown} закончился "
                f"{record.support_until:%d.%m.%Y}. По п. 4.8.5 регламента в этом случае решение "
                "обращения может быть отложено или даже невозможно. Продлить поддержку можно "
                f"здесь: {renew_url}. Если вы уже продлили её, пришлите, пожалуйста, номер "
                "нового купона."
            ),
            customer_en=(
                f"According to our registry, technical support for coupon {shown} ended on "
                f"{record.support_until:%Y-%m-%d}. Under clause 4.8.5 of the support regulation, "
                "your request may then be delayed or may not be resolved at all. You can renew "
                f"support here: {renew_url}. If you have already renewed it, please send the new "
                "coupon number."
            ),
        )
    left = (record.support_until - today).days
    if left <= EXPIRES_SOON_DAYS:
        notes.append(
            f"Поддержка заканчивается через {left} дн. ({record.support_until:%d.%m.%Y})."
        )
    return replace(base, notes=tuple(notes))


async def _import(
    path: Path, db_path: Path, pattern: str, progress: TextIO | None
) -> ImportReport:
    registry = await CouponRegistry.open(db_path)
    try:
        return await registry.import_csv(path, pattern, progress)
    finally:
        await registry.close()


# The import into the shared database (bot/tickets/pg/coupons.py), handed in by the caller
# (bot/tickets/backends.py) so that this module never imports the PostgreSQL one.
SharedImport = Callable[[str, Path, str, TextIO | None], Coroutine[Any, Any, ImportReport]]


def main_import(argv: list[str], shared_import: SharedImport | None = None) -> int:
    """`frontdesk coupons import FILE.csv [--database PATH] [--all]`: import and print the report.

    Exit status: 0 when at least one row was accepted; 1 when the file could not be read (missing,
    empty, no proper header) or the database failed; 2 when the file was read but no row was good.
    """
    from bot.config import Settings

    parser = argparse.ArgumentParser(prog="frontdesk coupons import")
    parser.add_argument(
        "file", type=Path, help="CSV: coupon,customer,product,edition,support_until"
    )
    parser.add_argument("--database", type=Path, help="SQLite file (default: the desk's database)")
    parser.add_argument("--all", action="store_true", help="list every rejected row")
    args = parser.parse_args(argv)
    settings = Settings()
    db_path: Path = args.database or settings.database_path
    url = None if args.database is not None else settings.database_url  # a given file wins
    if url and shared_import is None:
        sys.stderr.write("coupons: FRONTDESK_DATABASE_URL is set: use frontdesk coupons import\n")
        return 1
    path: Path = args.file
    try:
        big = path.stat().st_size >= PROGRESS_MIN_BYTES
    except OSError:
        big = False
    progress = sys.stderr if big else None
    try:
        if url and shared_import is not None:
            report = asyncio.run(shared_import(url, path, settings.coupon_pattern, progress))
        else:
            report = asyncio.run(_import(path, db_path, settings.coupon_pattern, progress))
    except CouponImportError as exc:
        sys.stderr.write(f"coupons: {exc}\n")
        return 1
    except (OSError, aiosqlite.Error) as exc:
        where = "the shared database" if url else f"database {db_path}"
        sys.stderr.write(f"coupons: {where}: {exc}\n")
        return 1
    sys.stdout.write(report.format(str(path), None if args.all else 200) + "\n")
    return 0 if report.accepted else 2


class CouponLookup:
    """A synchronous, read-only view of the registry for the intake core (local SQLite reads of
    a fraction of a millisecond). Without an imported registry every check answers None."""

    def __init__(self, db_path: Path, renew: str = DEFAULT_RENEW_URL) -> None:
        self._db_path = db_path
        self._renew = renew

    def _record(self, coupon: str) -> tuple[bool, CouponRecord | None]:
        if not self._db_path.exists():
            return False, None
        uri = f"{self._db_path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            try:
                if db.execute("SELECT 1 FROM coupons LIMIT 1").fetchone() is None:
                    return False, None
                row = db.execute(
                    "SELECT coupon, customer, product, edition, support_until FROM coupons"
                    " WHERE coupon = ?",
                    (normalise_coupon(coupon),),
                ).fetchone()
            except sqlite3.OperationalError:  # no registry table yet
                return False, None
        if row is None:
            return True, None
        return True, CouponRecord(row[0], row[1], row[2], row[3], date.fromisoformat(row[4]))

    def __call__(self, coupon: str, stated_edition: str | None, today: date) -> CouponCheck | None:
        in_use, record = self._record(coupon)
        if not in_use:
            return None
        return check_coupon(record, today, stated_edition, renew_url=self._renew, coupon=coupon)
