"""Coupon CSV import: 100,000 rows (a few malformed) into a fresh SQLite file; time and memory.

    python -m benchmarks.coupons_import [--rows N] [--semicolon]

Prints the import time (first import and a re-import, i.e. all upserts), the Python heap peak
(tracemalloc) and the process's peak RSS (resource.getrusage ru_maxrss).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bot.config import Settings
from bot.intake.fields import EDITIONS
from bot.tickets.coupons import CouponRegistry, ImportReport

PRODUCT = "1С-Битрикс: Управление сайтом"


def generate(path: Path, rows: int, delimiter: str, bad_every: int = 20_000) -> int:
    """Write a CSV of `rows` data rows, every `bad_every`-th malformed; returns the bad count."""
    rng = random.Random(10)
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        f.write(
            delimiter.join(("coupon", "customer", "product", "edition", "support_until")) + "\n"
        )
        for i in range(rows):
            coupon = f"WAS{i:07d}-{rng.randrange(16**6):06X}-BX"
            edition = EDITIONS[i % len(EDITIONS)]
            until = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2020, 2030)}"
            customer = f"ООО «Клиент {i}»"
            if i and i % bad_every == 0:
                bad += 1
                kind = bad % 4
                if kind == 0:
                    until = "31.02.2025"
                elif kind == 1:
                    coupon = ""
                elif kind == 2:
                    edition = "Премиум"
                else:
                    coupon = "not a coupon"
            f.write(delimiter.join((coupon, customer, PRODUCT, edition, until)) + "\n")
    return bad


async def _import(csv_path: Path, db_path: Path, *, progress: bool = False) -> ImportReport:
    registry = await CouponRegistry.open(db_path)
    try:
        return await registry.import_csv(
            csv_path, Settings().coupon_pattern, sys.stderr if progress else None
        )
    finally:
        await registry.close()


async def run(csv_path: Path, db_path: Path) -> None:
    size = await asyncio.to_thread(lambda: csv_path.stat().st_size)
    started = time.perf_counter()
    report = await _import(csv_path, db_path, progress=True)
    first = time.perf_counter() - started

    started = time.perf_counter()
    again = await _import(csv_path, db_path)
    second = time.perf_counter() - started

    registry = await CouponRegistry.open(db_path)
    try:
        count = await registry.count()
        started = time.perf_counter()
        for i in range(0, 100_000, 97):
            await registry.lookup(f"was{i:07d}-000000-bx")
        lookups = time.perf_counter() - started
    finally:
        await registry.close()

    # tracemalloc slows Python down several times: measure the heap in a separate, untimed run
    tracemalloc.start()
    await _import(csv_path, db_path.with_name("traced.sqlite3"))
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"file: {size / 2**20:.1f} MiB, {report.accepted + len(report.rejected)} data rows")
    print(f"accepted {report.accepted}, rejected {len(report.rejected)}; in table: {count}")
    print(f"import (fresh):   {first:.2f} s  ({report.accepted / first:,.0f} rows/s)")
    print(f"re-import upsert: {second:.2f} s  (accepted {again.accepted})")
    print(f"lookups: {lookups / 1031 * 1e6:.0f} µs each (1031 lookups)")
    print(f"peak Python heap during import (tracemalloc): {heap_peak / 2**20:.1f} MiB")
    print(f"peak RSS of the process (ru_maxrss): {maxrss_kib / 1024:.1f} MiB")
    for line, reason in report.rejected[:5]:
        print(f"  e.g. line {line}: {reason}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--semicolon", action="store_true", help="write ';' like Russian Excel")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coupons-bench-") as tmp:
        csv_path = Path(tmp) / "coupons.csv"
        started = time.perf_counter()
        bad = generate(csv_path, args.rows, ";" if args.semicolon else ",")
        took = time.perf_counter() - started
        print(f"generated {args.rows} rows ({bad} malformed) in {took:.2f} s")
        asyncio.run(run(csv_path, Path(tmp) / "frontdesk.sqlite3"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
