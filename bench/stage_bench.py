"""Bulk stage passes at scale on PostgreSQL: time and peak memory (target: 1M in <= 60 s, <= 2 GB).

Creates the database `lifecycle_bench_<random>`, migrates it, fills it with the demo
generator (`domain.demo.generate`; `--populate sql` fills customer facts set-wise with
generate_series instead), classifies everyone once with `recompute_all` (as after an
import), then runs the measured `decay_pass` a month later, and drops the database.

    .venv/bin/python bench/stage_bench.py [--customers 1000000] [--populate demo|sql]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain import migrate
from domain.db import make_engine, unit_of_work
from domain.stages.config import load_config
from domain.stages.decay import DecayResult, decay_pass, recompute_all

ADMIN_DSN = os.environ.get(
    "LIFECYCLE_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
AS_OF = date(2025, 11, 1)
DECAY_AFTER = timedelta(days=30)
MB = 1024 * 1024

# Facts of a plausible consumer base: a tenth never engaged, a sixth engaged without buying,
# the rest bought 1 to 20 times, the last time up to three years before AS_OF.
SQL_POPULATE = """
INSERT INTO customer (external_id, created_at, stage, stage_since, first_order_at,
                      last_order_at, order_count, net_revenue_minor, last_engaged_at)
SELECT 'B' || n, :created, 'prospect', :created,
       CASE WHEN orders > 1 THEN last_at - span WHEN orders = 1 THEN last_at END,
       CASE WHEN orders > 0 THEN last_at END,
       orders, orders * price,
       CASE WHEN kind >= 0.1 THEN :as_of - random() * interval '900 days' END
FROM (
  SELECT n, kind,
         CASE WHEN kind < 0.27 THEN 0 WHEN kind < 0.55 THEN 1
              ELSE 2 + floor(random() * 19)::int END AS orders,
         :as_of - power(random(), 2) * interval '1100 days' AS last_at,
         random() * interval '700 days' AS span,
         1000 + floor(random() * 9000)::int AS price
  FROM (SELECT n, random() AS kind FROM generate_series(1, :customers) AS n) AS g
) AS r
"""


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--populate", choices=["demo", "sql"], default="demo")
    parser.add_argument("--seed", type=int, default=20251101)
    args = parser.parse_args()
    name = f"lifecycle_bench_{secrets.token_hex(4)}"
    url = _create_database(name)
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        started = time.perf_counter()
        how = _populate(url, args.populate, args.customers, args.seed)
        print(f"populated {args.customers:,} customers with {how} in {_since(started)}")
        config = load_config("consumer_retail")
        as_of = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)
        _report(
            "recompute_all",
            engine,
            lambda session: recompute_all(session=session, as_of=as_of, config=config),
        )
        _report(
            "decay_pass",
            engine,
            lambda session: decay_pass(session=session, as_of=as_of + DECAY_AFTER, config=config),
        )
        engine.dispose()
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"dropped {name}")


def _create_database(name: str) -> str:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    print(f"created {name}")
    return f"{base}/{name}"


def _populate(url: str, how: str, customers: int, seed: int) -> str:
    # A separate process, so that the generator's memory does not count as the pass's.
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_populate_in_child, args=(url, how, customers, seed))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"populating the database failed (exit code {child.exitcode})")
    if how == "demo":
        return "the demo generator (domain.demo.generate)"
    return "random facts set-wise (INSERT ... SELECT from generate_series)"


def _populate_in_child(url: str, how: str, customers: int, seed: int) -> None:
    engine = make_engine(url)
    if how == "demo":
        from domain.demo import generate

        generate(engine=engine, customers=customers, seed=seed, as_of=AS_OF)
    else:
        with engine.begin() as connection:
            connection.execute(text("SELECT setseed(:seed)"), {"seed": (seed % 1000) / 1000})
            as_of = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)
            connection.execute(
                text(SQL_POPULATE),
                {"customers": customers, "as_of": as_of, "created": as_of - timedelta(days=1900)},
            )
        with engine.begin() as connection:
            connection.execute(text("ANALYZE customer"))
    engine.dispose()


def _report(label: str, engine: Engine, run: Callable[[Session], DecayResult]) -> None:
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        backend = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
        with _peak_rss(backend) as peaks:
            result = run(session)
            session.commit()
    elapsed = _since(started)
    print(f"{label}: {result.changed:,} changes in {elapsed} (one transaction, committed)")
    for (previous, current), count in sorted(result.changes.items(), key=lambda kv: -kv[1]):
        print(f"  {previous:>16} → {current:<16} {count:>9,}")
    if result.held:
        print(f"  held back by the transition table: {sum(result.held.values()):,}")
    print(
        f"  peak memory: this process {peaks['self'] / MB:,.0f} MB, "
        f"PostgreSQL backend {peaks['backend'] / MB:,.0f} MB"
    )


@contextmanager
def _peak_rss(backend_pid: int) -> Iterator[dict[str, int]]:
    """Sample this process's and the database backend's resident memory every 50 ms."""
    peaks = {"self": 0, "backend": 0}
    processes = {"self": psutil.Process(), "backend": psutil.Process(backend_pid)}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for key, process in processes.items():
                with suppress(psutil.Error):
                    peaks[key] = max(peaks[key], process.memory_info().rss)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peaks
    finally:
        stop.set()
        sampler.join()


def _since(started: float) -> str:
    return f"{time.perf_counter() - started:,.1f} s"


if __name__ == "__main__":
    main()
