"""Benchmark `lifecycle demo-data` on a fresh PostgreSQL database.

Creates `lifecycle_bench_<random>`, migrates it, generates the demo business, prints the
seconds, rows per table and peak RSS, and drops the database again.

    .venv/bin/python bench/demo_data_bench.py --customers 1000000
"""

from __future__ import annotations

import argparse
import resource
import secrets
import time

import psycopg

from domain import migrate
from domain.db import make_engine
from domain.demo import generate

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    """Run the benchmark once and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--admin-dsn", default=ADMIN_DSN)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name = f"lifecycle_bench_{secrets.token_hex(4)}"
    with psycopg.connect(args.admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = args.admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = make_engine(f"{base}/{name}")
    started = time.perf_counter()

    def progress(step: str, done: int) -> None:
        print(f"{time.perf_counter() - started:8.1f}s  {step}: {done:,}", flush=True)

    try:
        migrate.upgrade(engine)
        summary = generate(
            engine=engine, customers=args.customers, seed=args.seed, progress=progress
        )
        with engine.connect() as connection:
            size = connection.exec_driver_sql(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            ).scalar_one()
    finally:
        engine.dispose()
        if not args.keep:
            with psycopg.connect(args.admin_dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total_rows = sum(summary.rows.values())
    print(f"\ncustomers {summary.customers:,}, seed {summary.seed}, as of {summary.as_of}")
    print(f"generate(): {summary.seconds:.1f} s, {total_rows / summary.seconds:,.0f} rows/s")
    print(f"peak RSS: {peak_mb:,.0f} MB, database size: {size}")
    for table, count in summary.rows.items():
        print(f"  {table:<12} {count:>12,}")
    print("archetypes:")
    for archetype, count in summary.archetypes.items():
        print(f"  {archetype:<16} {count:>10,}")
    if args.keep:
        print(f"kept database {name}")


if __name__ == "__main__":
    main()
