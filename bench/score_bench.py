"""A full scoring run on PostgreSQL at scale, and BG/NBD against lifetimes on the same data.

Run from the repository root: ``.venv/bin/python -m bench.score_bench [--customers N]``.

Creates ``lifecycle_bench_<random>``, migrates it, and loads N customers with about ten orders
each over three years (the BG/NBD log of ``bench.clv_bench``, spend in minor units), 1 to 3
lines per order over a catalogue of products, a few returns and engagement events on
channels — bulk COPY in a child process, not timed. Then one in-process scoring run: each
stage's seconds (summed over shards), the run's wall time and the peak RSS of this process.
Then, on the same transactions, our summary + BG/NBD fit against lifetimes'
``summary_data_from_transaction_data`` + ``BetaGeoFitter.fit``. The database is dropped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import time
from datetime import date, timedelta
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray

from bench.clv_bench import FIRST_DAY, WINDOW_DAYS, once, peak_rss_mb, transaction_log
from domain import migrate
from domain.db import make_engine
from domain.demo.rows import Column, Kind, Rows, bools, decimals, ids, ints, texts, times
from domain.demo.writer import (
    advance_sequences,
    defer_indexes,
    rebuild_indexes,
    skip_row_triggers,
    write_rows,
)

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PRODUCTS = 1_000
FAVOURITES = 6
EVENTS_PER_CUSTOMER = 3
RETURN_SHARE = 0.03
AS_OF_DAY = FIRST_DAY + WINDOW_DAYS
EPOCH = date(1970, 1, 1)


def sales_log(
    customers: int, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(customer, day, amount in minor units) of the BG/NBD log, sorted by customer then day."""
    customer, day, amount = transaction_log(customers, seed)
    order = np.lexsort((day, customer))
    minor = np.rint(amount[order] * 100).astype(np.int64)
    return customer[order].astype(np.int64), day[order].astype(np.int64), minor


def generate(url: str, customers: int, seed: int) -> None:
    """Load the business into the database (runs in a child process)."""
    rng = np.random.default_rng(seed + 1)
    customer, day, amount = sales_log(customers, seed)
    n_sales = customer.size
    second = day * 86_400 + rng.integers(8 * 3600, 20 * 3600, n_sales)

    returned = np.flatnonzero(rng.random(n_sales) < RETURN_SHARE)
    return_at = second[returned] + rng.integers(2, 20, returned.size) * 86_400
    kept = return_at < AS_OF_DAY * 86_400
    returned, return_at = returned[kept], return_at[kept]
    order_customer = np.r_[customer, customer[returned]]
    order_at = np.r_[second, return_at]
    order_total = np.r_[amount, -(amount[returned] // 2)]
    kind = np.r_[
        np.full(n_sales, "sale", dtype=object), np.full(returned.size, "return", dtype=object)
    ]
    n_orders = order_customer.size
    order_id = np.arange(1, n_orders + 1)

    lines_per_order = 1 + np.minimum(rng.poisson(0.6, n_sales), 2)
    line_order = np.repeat(np.arange(n_sales), lines_per_order)
    line_no = (
        np.arange(line_order.size)
        - np.repeat(np.cumsum(lines_per_order) - lines_per_order, lines_per_order)
        + 1
    )
    favourites = rng.integers(0, PRODUCTS, (customers, FAVOURITES))
    popular = np.minimum(rng.zipf(1.3, line_order.size) - 1, PRODUCTS - 1)
    pick = rng.integers(0, FAVOURITES, line_order.size)
    loyal = rng.random(line_order.size) < 0.6
    product = np.where(loyal, favourites[customer[line_order], pick], popular)

    n_events = customers * EVENTS_PER_CUSTOMER
    event_customer = np.sort(rng.integers(0, customers, n_events))
    first_day = np.full(customers, AS_OF_DAY - 365)
    np.minimum.at(first_day, customer, day)
    event_at = (
        first_day[event_customer] * 86_400
        + rng.random(n_events) * (AS_OF_DAY - first_day[event_customer]) * 86_400
    ).astype(np.int64)
    event_type = rng.choice(
        np.array(["visit", "email_open", "email_click", "product_view"], dtype=object), n_events
    )

    engine = make_engine(url)
    with engine.begin() as connection:
        channels = np.array(
            [row[0] for row in connection.exec_driver_sql("SELECT id FROM channel ORDER BY id")]
        )
        tables = ["product", "customer", "orders", "order_line", "event"]
        skip_row_triggers(connection, tables)
        rebuild = defer_indexes(connection, tables)
        write_rows(
            connection,
            "product",
            {
                "id": ids(np.arange(1, PRODUCTS + 1)),
                "sku": texts(np.array([f"SKU{i:05d}" for i in range(PRODUCTS)], dtype=object)),
                "name": texts(np.array([f"Product {i}" for i in range(PRODUCTS)], dtype=object)),
                "category": texts(
                    np.array([f"category {i % 40}" for i in range(PRODUCTS)], dtype=object)
                ),
                "price_minor": ints(rng.integers(500, 20_000, PRODUCTS)),
                "active": bools(rng.random(PRODUCTS) < 0.95),
            },
        )
        counts = np.bincount(customer, minlength=customers)
        acquisition = np.where(rng.random(customers) < 0.1, 0, rng.choice(channels, customers))
        created = (first_day * 86_400).astype(np.int64)
        last = np.zeros(customers, dtype=np.int64)
        np.maximum.at(last, customer, second)
        _write(
            connection,
            "customer",
            {
                "id": ids(np.arange(1, customers + 1)),
                "external_id": _labels("C", customers),
                "acquisition_channel_id": ids(acquisition),
                "created_at": times(created),
                "stage": texts(np.full(customers, "repeat", dtype=object)),
                "stage_since": times(created),
                "first_order_at": times(created),
                "last_order_at": times(last),
                "order_count": ints(counts),
                "net_revenue_minor": ints(
                    np.bincount(order_customer, weights=order_total, minlength=customers).astype(
                        np.int64
                    )
                ),
            },
        )
        _write(
            connection,
            "orders",
            {
                "id": ids(order_id),
                "external_id": _labels("O", n_orders),
                "customer_id": ids(order_customer + 1),
                "ordered_at": times(order_at),
                "kind": texts(kind),
                "status": texts(np.full(n_orders, "completed", dtype=object)),
                "total_minor": ints(order_total),
                "currency": texts(np.full(n_orders, "USD", dtype=object)),
                "created_at": times(order_at),
            },
        )
        n_lines = line_order.size
        _write(
            connection,
            "order_line",
            {
                "id": ids(np.arange(1, n_lines + 1)),
                "order_id": ids(order_id[line_order]),
                "line_no": ints(line_no),
                "product_id": ids(product + 1),
                "sku": texts(
                    np.array([f"SKU{i:05d}" for i in range(PRODUCTS)], dtype=object)[product]
                ),
                "quantity": ints(np.ones(n_lines, dtype=np.int64)),
                "unit_price": decimals(amount[line_order] * 100 // lines_per_order[line_order], 4),
                "line_total_minor": ints(amount[line_order] // lines_per_order[line_order]),
            },
        )
        _write(
            connection,
            "event",
            {
                "id": ids(np.arange(1, n_events + 1)),
                "customer_id": ids(event_customer + 1),
                "type": texts(event_type),
                "channel_id": ids(rng.choice(channels, n_events)),
                "occurred_at": times(event_at),
                "properties": Column(Kind.JSON, np.full(n_events, "{}", dtype=object)),
                "idempotency_key": _labels("E", n_events),
                "created_at": times(event_at),
            },
        )
        rebuild_indexes(connection, rebuild)
        advance_sequences(connection, tables)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()


def _write(connection: Any, table: str, rows: Rows) -> None:
    started = time.perf_counter()
    count = write_rows(connection, table, rows)
    print(
        f"  loaded {table:<10} {count:>12,} rows  {time.perf_counter() - started:6.1f} s",
        flush=True,
    )


def _labels(prefix: str, count: int) -> Column:
    return texts(np.char.add(prefix, np.arange(1, count + 1).astype(str)).astype(object))


# The stages the brief names, as (phase, step) pairs of the run's timings. Map phases run two
# shards at a time in-process, so their step seconds (summed over shards) overlap in time.
STAGES = (
    ("feature extraction from the database", (("features", "extract"),)),
    ("BG/NBD fit", (("fit", "bgnbd"),)),
    ("Gamma-Gamma fit", (("fit", "gamma_gamma"),)),
    (
        "predictions (RFM, P(alive), E[90d], CLV, next order)",
        (
            ("scores", "rfm"),
            ("scores", "bgnbd"),
            ("scores", "next_order"),
            ("fit", "rfm"),
            ("fit", "next_order"),
        ),
    ),
    ("classifier training (back-test + production fit)", (("fit", "propensity"),)),
    (
        "classifier scoring (features, churn, reasons)",
        (
            ("scores", "features"),
            ("scores", "propensity"),
        ),
    ),
    ("cross-sell (fit, back-test, recommend)", (("fit", "cross_sell"), ("scores", "cross_sell"))),
    ("write-back to PostgreSQL (rows, JSON, COPY)", (("scores", "encode"), ("scores", "write"))),
    ("fit inputs per shard (summary, sample, pairs)", (("features", "fit_inputs"),)),
    ("channel quality + attribution", (("scores", "channels"), ("finish", "channels"))),
)


def report(timings: dict[str, Any], wall: float) -> None:
    """Each named stage's seconds, then each phase's wall time and the total."""
    for label, parts in STAGES:
        seconds = sum(float(timings.get(phase, {}).get(step, 0.0)) for phase, step in parts)
        print(f"  {label:<56} {seconds:8.2f} s")
    print("  wall time per phase (map phases run two shards at a time):")
    for phase in ("features", "fit", "scores"):
        print(f"    {phase:<54} {float(timings.get(phase, {}).get('wall') or 0.0):8.2f} s")
    print(f"  {'TOTAL scoring run (wall)':<56} {wall:8.2f} s  (target <= 120)")


def compare_lifetimes(customers: int, seed: int, pipeline_params: dict[str, float]) -> None:
    """Our summary + BG/NBD fit against lifetimes on the same sales."""
    import pandas as pd
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    from worker.models import bgnbd
    from worker.models.summary import summary_from_transactions

    customer, day, _ = sales_log(customers, seed)
    end = AS_OF_DAY - 1
    t_summary, summary = once(
        lambda: summary_from_transactions(customer, day, freq="D", observation_end=end)
    )
    x, recency, age = summary.frequency, summary.recency, summary.T
    t_fit, ours = once(lambda: bgnbd.fit(x, recency, age))
    frame = pd.DataFrame({"customer": customer, "date": day.astype("datetime64[D]")})
    t_lt_summary, lt_summary = once(
        lambda: summary_data_from_transaction_data(
            frame, "customer", "date", observation_period_end=np.datetime64(end, "D")
        )
    )
    t_lt_fit, fitter = once(
        lambda: BetaGeoFitter().fit(lt_summary["frequency"], lt_summary["recency"], lt_summary["T"])
    )
    theirs = fitter.params_[["r", "alpha", "a", "b"]].to_numpy()
    mine = np.array([ours.r, ours.alpha, ours.a, ours.b])
    run = np.array([pipeline_params[name] for name in ("r", "alpha", "a", "b")])
    same = all(
        np.array_equal(lt_summary[name].to_numpy(), getattr(summary, name))
        for name in ("frequency", "recency", "T")
    )
    print(f"  ours      summary                  {t_summary:8.3f} s")
    print(f"  ours      BG/NBD fit               {t_fit:8.3f} s")
    print(
        f"  lifetimes summary                  {t_lt_summary:8.3f} s  (identical to ours: {same})"
    )
    print(f"  lifetimes BG/NBD fit               {t_lt_fit:8.3f} s")
    print(f"  ratio fit                          {t_lt_fit / t_fit:8.1f} x  (target >= 80)")
    ratio = (t_lt_summary + t_lt_fit) / (t_summary + t_fit)
    print(f"  ratio summary + fit                {ratio:8.1f} x  (target >= 30)")
    diff = np.max(np.abs(mine / theirs - 1))
    print(f"  max relative param diff, ours      {diff:8.1e}  (target <= 1e-5)")
    print(f"  max relative param diff, the run   {np.max(np.abs(run / theirs - 1)):8.1e}")
    print(
        f"  lifetimes r={theirs[0]:.6g} alpha={theirs[1]:.6g} a={theirs[2]:.6g} b={theirs[3]:.6g}"
    )


def main() -> None:
    """Generate, score, compare, drop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--shard-size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--admin-dsn", default=ADMIN_DSN)
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    # The run executes in this process (the embedded default), whatever the environment says.
    os.environ["REDIS_URL"] = ""

    name = f"lifecycle_bench_{secrets.token_hex(4)}"
    with psycopg.connect(args.admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = args.admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        print(f"generating {args.customers:,} customers into {name} (not timed)", flush=True)
        started = time.perf_counter()
        child = multiprocessing.get_context("fork").Process(
            target=generate, args=(url, args.customers, args.seed)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generation failed with exit code {child.exitcode}")
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
        run_and_compare(url, args)
    finally:
        if not args.keep:
            with psycopg.connect(args.admin_dsn, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_and_compare(url: str, args: argparse.Namespace) -> None:
    """The timed scoring run, then the lifetimes comparison."""
    from domain.db import unit_of_work
    from domain.scoring.queries import get_run, score_count
    from worker import runs
    from worker.artifacts import MemoryStore

    engine = make_engine(url)
    as_of = EPOCH + timedelta(days=AS_OF_DAY)
    with engine.connect() as connection:
        sizes = {
            table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("customer", "orders", "order_line", "event")
        }
    print("rows: " + ", ".join(f"{table} {count:,}" for table, count in sizes.items()))
    started, cpu = time.perf_counter(), time.process_time()
    run_id = runs.start_run(
        as_of=as_of, shard_size=args.shard_size, engine=engine, store=MemoryStore()
    )
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    rss = peak_rss_mb()
    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        assert run is not None
        scores = score_count(session=session, run_id=run_id)
        timings, metrics, params = run.timings, run.metrics, run.params
    print(f"scoring run {run_id}: {run.status}, {run.shard_count} shards, {scores:,} scores")
    report(timings, wall)
    print(f"  {'CPU seconds of this process':<44} {used:8.2f} s")
    print(f"  {'peak RSS of this process':<44} {rss:8.0f} MB  (target <= 4096)")
    bg = metrics.get("bgnbd", {})
    prop = metrics.get("propensity", {})
    nxt = metrics.get("next_order", {})
    cs = metrics.get("cross_sell", {})
    print(f"  BG/NBD {params.get('bgnbd')} log-likelihood {bg.get('log_likelihood')}")
    print(f"  Gamma-Gamma {params.get('gamma_gamma')}")
    print(
        f"  propensity AUC {prop.get('auc')} (recency {prop.get('recency_auc')}), top-decile lift "
        f"{prop.get('lift_top_decile')} (recency {prop.get('recency_lift_top_decile')})"
    )
    print(
        f"  next order median abs error {nxt.get('median_abs_error_days')} days "
        f"(naive {nxt.get('naive_median_abs_error_days')})"
    )
    print(
        f"  cross-sell hit rate@5 {cs.get('hit_rate')} (popularity {cs.get('popularity_hit_rate')})"
    )
    engine.dispose()
    if not args.skip_lifetimes:
        print("BG/NBD against lifetimes on the same sales:", flush=True)
        compare_lifetimes(args.customers, args.seed, params["bgnbd"])


if __name__ == "__main__":
    main()
