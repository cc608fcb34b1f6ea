"""Importing an Online Retail-sized file into SQLite and PostgreSQL: time, rows/s, peak RSS.

Run from the repository root: ``python -m bench.import_bench [--rows N] [--batch-size B]``.

The file has the shape of the UCI "Online Retail" CSV (541,909 rows, ~25,900 invoices,
~4,370 customers, ~4,070 products, ~25% guest rows, ~2% cancellation rows with negative
quantities, customer ids written as `17850.0`, a few Latin-1 descriptions written as
Latin-1 bytes). Each import runs in a child process so its peak RSS (ru_maxrss) is its own;
then the same file is imported again, which must add nothing. PostgreSQL gets a fresh
database `lifecycle_bench_<random>` on the local server, dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from domain import migrate
from domain.db import make_engine
from domain.imports.runner import ImportKind, run_import
from domain.imports.store import CUSTOMER, ORDER, ORDER_LINE, PRODUCT

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
ROWS = 541_909
INVOICES = 25_900
CUSTOMERS = 4_370
PRODUCTS = 4_070
CANCELLATION_ROWS = 0.02
GUEST_ROWS = 0.25
COUNTRIES = ["United Kingdom"] * 8 + ["Germany", "France", "EIRE", "Spain", "Netherlands"]
WORDS = [
    "RED",
    "WHITE",
    "HEART",
    "LANTERN",
    "METAL",
    "CAKE",
    "TIN",
    "SET",
    "OF",
    "3",
    "VINTAGE",
    "GLASS",
    "MUG",
    "BAG",
    "JUMBO",
    "PINK",
]
LATIN1_WORDS = ["CAFÉ", "CRÈME", "PIÑATA", "£5 GIFT", "SMÖRGÅSBORD", "FIANCÉE"]


def generate(path: Path, rows: int = ROWS, seed: int = 20101201) -> None:
    """Write the synthetic Online Retail CSV (Latin-1)."""
    rng = random.Random(seed)
    scale = rows / ROWS
    invoices = max(1, round(INVOICES * scale))
    cancellations = max(1, round(rows * CANCELLATION_ROWS / 3))
    products = [_product(rng, n) for n in range(max(1, round(PRODUCTS * scale)))]
    customers = [
        (f"{12346 + n}.0", rng.choice(COUNTRIES)) for n in range(max(1, round(CUSTOMERS * scale)))
    ]
    sizes = _invoice_sizes(rng, rows, invoices, cancellations)
    at = datetime(2010, 12, 1, 8, 26)
    step = timedelta(days=373) / len(sizes)
    next_customer = next_product = 0
    sale_no, cancel_no = 536365, 536379
    with path.open("w", encoding="latin-1", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for size, cancelled in sizes:
            at += step
            if cancelled:
                cancel_no += 1
                invoice, sign = f"C{cancel_no}", -1
            else:
                sale_no += 1
                invoice, sign = str(sale_no), 1
            guest = not cancelled and rng.random() < GUEST_ROWS
            if guest:
                customer, country = "", "United Kingdom"
            elif next_customer < len(customers):
                customer, country = customers[next_customer]
                next_customer += 1
            else:
                customer, country = rng.choice(customers)
            stamp = f"{at.month}/{at.day}/{at.year} {at.hour}:{at.minute:02d}"
            for _ in range(size):
                if next_product < len(products):
                    sku, description, price = products[next_product]
                    next_product += 1
                else:
                    sku, description, price = rng.choice(products)
                quantity = sign * rng.choice((1, 1, 2, 3, 4, 6, 12, 24))
                writer.writerow(
                    [invoice, sku, description, quantity, stamp, price, customer, country]
                )


def _product(rng: random.Random, n: int) -> tuple[str, str, str]:
    words = rng.sample(WORDS, 3)
    if n % 50 == 0:
        words[0] = rng.choice(LATIN1_WORDS)
    price = f"{rng.choice((0.42, 0.85, 1.25, 1.65, 2.55, 3.39, 4.95, 7.95, 12.75)):.2f}"
    if n % 400 == 0:
        price = "0.001"
    return f"{20000 + n}{'A' if n % 7 == 0 else ''}", " ".join(words), price


def _invoice_sizes(
    rng: random.Random, rows: int, invoices: int, cancellations: int
) -> list[tuple[int, bool]]:
    """(rows, is a cancellation) per invoice, rows summing to `rows`: cancellations of 3 rows,
    the rest spread over the sales."""
    small = [3] * cancellations
    sales = invoices - cancellations
    left = rows - sum(small)
    mean = left / sales
    sizes = [max(1, round(rng.expovariate(1 / mean))) for _ in range(sales)]
    while (excess := sum(sizes) - left) != 0:
        i = rng.randrange(sales)
        sizes[i] = max(1, sizes[i] - max(-50, min(50, excess)))
    mixed = [(size, False) for size in sizes] + [(size, True) for size in small]
    rng.shuffle(mixed)
    return mixed


def counts(url: str) -> dict[str, int]:
    """Rows in the tables an Online Retail import writes."""
    engine = make_engine(url)
    with engine.connect() as connection:
        found = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (CUSTOMER, PRODUCT, ORDER, ORDER_LINE)
        }
    engine.dispose()
    return found


def child(url: str, file: Path, batch_size: int | None) -> None:
    """Run one import in this process and print its figures as JSON."""
    engine = make_engine(url)
    summary = run_import(ImportKind.ONLINE_RETAIL, file, engine=engine, batch_size=batch_size)
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "summary": summary.as_dict(),
        # Linux reports ru_maxrss in KiB.
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    print(json.dumps(figures))


def run_child(url: str, file: Path, batch_size: int | None) -> dict[str, object]:
    """The figures of one import run in a child process."""
    command = [sys.executable, "-m", "bench.import_bench", "--child", url, str(file)]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return figures


def databases(workdir: Path) -> Iterator[tuple[str, str]]:
    """(name, migrated URL) of a temporary SQLite file, then of a fresh PostgreSQL database."""
    sqlite_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    _migrate(sqlite_url)
    yield "SQLite", sqlite_url
    name = f"lifecycle_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        pg_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        _migrate(pg_url)
        yield "PostgreSQL", pg_url
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.batch_size)
        return
    with tempfile.TemporaryDirectory(prefix="lifecycle_bench_") as tmp:
        workdir = Path(tmp)
        file = workdir / "online_retail.csv"
        generate(file, args.rows)
        print(f"file: {args.rows:,} rows, {file.stat().st_size / 2**20:.1f} MiB (Latin-1)")
        # Wall times depend on what else the machine runs; the importer's CPU time less so.
        print("load average before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        for name, url in databases(workdir):
            first = run_child(url, file, args.batch_size)
            after_first = counts(url)
            again = run_child(url, file, args.batch_size)
            after_again = counts(url)
            _report(name, first, again, after_first, after_again)
        print("\nload average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


def _report(
    name: str,
    first: dict[str, object],
    again: dict[str, object],
    after_first: dict[str, int],
    after_again: dict[str, int],
) -> None:
    summary = first["summary"]
    repeat = again["summary"]
    assert isinstance(summary, dict) and isinstance(repeat, dict)
    seconds = float(summary["seconds"])
    rows = int(summary["rows_read"])
    added = sum(after_again.values()) - sum(after_first.values())
    print(f"\n{name}")
    print(
        f"  import:    {seconds:6.1f} s  {rows / seconds:9,.0f} rows/s  "
        f"peak RSS {first['peak_rss_mib']:.0f} MiB  (importer CPU {first['cpu_seconds']:.1f} s)"
    )
    print(
        f"  loaded {summary['rows_loaded']:,} rows; guest rows {summary['guest_rows']:,}; "
        f"return rows {summary['return_rows']:,}; skipped {summary['skipped']}"
    )
    print(f"  created {summary['created']}; facts changed {summary['facts_changed']:,}")
    print(
        f"  re-import: {float(repeat['seconds']):6.1f} s  peak RSS {again['peak_rss_mib']:.0f} MiB"
        f"  rows loaded {repeat['rows_loaded']}  rows added to the tables {added}"
    )


if __name__ == "__main__":
    main()
