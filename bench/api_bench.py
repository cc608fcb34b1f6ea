"""Benchmark the GraphQL API over real HTTP on loopback, on PostgreSQL with the demo data.

Uses (or creates) a PostgreSQL database holding the demo business (`domain.demo.generate`,
plus one synthetic succeeded scoring run (so pages carry scores), starts the API as one
server process (`lifecycle serve`) and measures, with random customer ids:

- saturation throughput with `wrk` (a Lua script builds each request body);
- latency at a fixed offered load with an open-loop generator: requests leave on a fixed
  schedule over a pool of keep-alive connections and are timed from their scheduled moment,
  so a slow server cannot hide its queue (no coordinated omission);
- `recordEvents`: batches of 1,000 visits of random customers, one after another.

Each scenario runs `--runs` times; prints every run, the medians and the load average.
Without `--database` the database is created for the run and dropped at the end; with it,
the database is filled on first use and kept, so later runs skip the minutes of set-up
(recorded events stay in it).
Run: `python bench/api_bench.py [--customers 1000000] [--database NAME] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psycopg
from sqlalchemy import text

from domain import migrate
from domain.db import make_engine, unit_of_work
from domain.demo import classify, generate
from domain.staff.models import TokenRole
from domain.staff.service import create_token

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
BY_ID = "query($id: ID){customer(id: $id){... on Customer{id externalId stage netRevenueMinor}}}"
PAGE = (
    "query($after: String){customers(first: 50, after: $after){... on CustomerConnection{"
    "edges{node{id externalId stage score{rfmSegment pAlive predictedClvMinor churnRisk}}}}}}"
)
RECORD_EVENTS = (
    "mutation($events: [EventInput!]!, $key: String){recordEvents(events: $events,"
    " idempotencyKey: $key){... on EventsRecorded{inserted duplicates rejected{index message}"
    " stageChanges{toStage}}"
    " ... on ValidationError{message} ... on Forbidden{message}}}"
)
EVENT_BATCH = 1000
EVENT_BATCH_MAX_MS = 200
# The open-loop generator's connection pool: enough that a stalled server queues requests
# on the server side (where the latency is counted), not for a free connection here.
MAX_CONNECTIONS = 64
LUA = """
local lo, hi = {lo}, {hi}
local kind = "{kind}"
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local function cursor(id)
  -- the API's cursor for ordering id:asc at (id, id), base64url without padding
  local raw = '["id:asc",' .. id .. ',' .. id .. ']'
  local b = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  return ((raw:gsub('.', function(x)
    local r, byte = '', x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b:sub(c + 1, c + 1)
  end))
end
request = function()
  local id = math.random(lo, hi)
  local body
  if kind == "by_id" then
    body = '{{"query":{by_id},"variables":{{"id":"' .. id .. '"}}}}'
  else
    body = '{{"query":{page},"variables":{{"after":"' .. cursor(id) .. '"}}}}'
  end
  return wrk.format(nil, "/graphql", nil, body)
end
"""


@dataclass(frozen=True)
class Scenario:
    """One kind of request, the offered rate its latency is measured at, and its targets."""

    kind: str
    label: str
    rate: int
    min_rps: int
    max_p99_ms: int


SCENARIOS = (
    Scenario("by_id", "customer by id", 500, 900, 20),
    Scenario("page", "page of 50 customers with scores", 100, 300, 60),
)


@dataclass(frozen=True)
class Run:
    """One measurement of a scenario."""

    rps: float
    wrk_p50_ms: float
    wrk_p99_ms: float
    p50_ms: float
    p99_ms: float
    failures: int
    load: float


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cursor(row_id: int) -> str:
    """The API's cursor for ordering id:asc at this id (mirrors api.pagination)."""
    raw = json.dumps(["id:asc", row_id, row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def database_url(name: str) -> str:
    """The SQLAlchemy URL of a database on the admin DSN's server."""
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def create_database(name: str) -> bool:
    """Create the database unless it exists; whether it was created."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            admin.execute(f'CREATE DATABASE "{name}"')
    return found is None


def populate(url: str, customers: int) -> None:
    """Migrate, write the demo data and one succeeded scoring run scoring every customer."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    summary = generate(engine=engine, customers=customers, seed=7)
    classify(engine=engine, as_of=summary.as_of)
    print(f"demo data: {customers:,} customers in {time.perf_counter() - started:.0f} s")
    with engine.begin() as conn:
        run_id = conn.execute(
            text(
                "INSERT INTO scoring_run (status, as_of, model_version, shard_count, shards_done,"
                " params, metrics, timings, created_at) VALUES ('succeeded', current_date,"
                " 'bench', 0, 0, '{}', '{}', '{}', now()) RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO score (run_id, customer_id, model_version, rfm_segment, p_alive,"
                " predicted_clv_minor, churn_risk, reasons, cross_sell) SELECT :run, id, 'bench',"
                " 'loyal', random(), (random() * 100000)::bigint, random(), '[]', '[]'"
                " FROM customer"
            ),
            {"run": run_id},
        )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE score"))
    engine.dispose()


def postgres_settings() -> str:
    """The server settings the figures depend on most (its buffer cache above all)."""
    with psycopg.connect(ADMIN_DSN) as admin:
        version = admin.execute("SHOW server_version").fetchone()
        buffers = admin.execute("SHOW shared_buffers").fetchone()
        wal = admin.execute("SHOW max_wal_size").fetchone()
    assert version is not None and buffers is not None and wal is not None
    return f"{version[0]}, shared_buffers {buffers[0]}, max_wal_size {wal[0]}"


def prepare(url: str) -> tuple[str, str, int, int]:
    """Fresh read and admin tokens and the range of customer ids."""
    engine = make_engine(url)
    with engine.connect() as conn:
        lo, hi = conn.execute(text("SELECT min(id), max(id) FROM customer")).one()
        # Read both tables once so the first measurement does not pay for disk reads.
        conn.execute(text("SELECT count(*) FROM customer"))
        conn.execute(text("SELECT count(*) FROM score"))
    with unit_of_work(engine) as session:
        token = create_token(session=session, name="bench", role=TokenRole.READ).value
        writer = create_token(session=session, name="bench-writer", role=TokenRole.ADMIN).value
    engine.dispose()
    return token, writer, int(lo), int(hi)


def start_server(url: str, port: int, db_threads: int | None) -> subprocess.Popen[bytes]:
    """One uvicorn process serving the API on loopback, once /readyz answers."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "ENVIRONMENT": "test",
        "API_RATE_LIMIT": "0",
        "API_GRAPHIQL": "false",
    }
    if db_threads is not None:
        env["API_DB_THREADS"] = str(db_threads)
    command = [
        sys.executable,
        "-c",
        "from cli.main import app; app()",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the API server did not become ready")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def saturate(
    port: int, token: str, kind: str, lo: int, hi: int, seconds: int
) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 (ms) `wrk` sees with 1 thread and 32 connections."""
    script = LUA.format(
        lo=lo, hi=hi, kind=kind, token=token, by_id=json.dumps(BY_ID), page=json.dumps(PAGE)
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                "-c32",
                f"-d{seconds}s",
                "--latency",
                "-s",
                handle.name,
                f"http://127.0.0.1:{port}/graphql",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(handle.name).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  wrk saw {errors.group(1)} non-2xx responses")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    if rps is None or p50 is None or p99 is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    return float(rps.group(1)), _ms(*p50.groups()), _ms(*p99.groups())


def request_bytes(port: int, token: str, kind: str, customer_id: int) -> bytes:
    """A complete HTTP/1.1 keep-alive POST of one GraphQL request."""
    if kind == "by_id":
        payload = {"query": BY_ID, "variables": {"id": str(customer_id)}}
    else:
        payload = {"query": PAGE, "variables": {"after": cursor(customer_id)}}
    body = json.dumps(payload).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> str | None:
    """Send one request and read its response; why it failed, if it was not a clean 200."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
    body = await reader.readexactly(int(match.group(1))) if match else b""
    if head.startswith(b"HTTP/1.1 200") and b'"errors"' not in body:
        return None
    return (head.split(b"\r\n", 1)[0] + b" " + body[:200]).decode(errors="replace")


async def offered_load(
    port: int, token: str, kind: str, lo: int, hi: int, rate: int, seconds: int
) -> tuple[float, float, int]:
    """p50 and p99 latency (ms) and failures at a fixed offered rate (bounded: rate x seconds).

    Latency runs from each request's scheduled moment to the end of its response.
    """
    rng = np.random.default_rng(1)
    requests = [
        request_bytes(port, token, kind, int(i)) for i in rng.integers(lo, hi + 1, rate * seconds)
    ]
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened = 0
    freed = asyncio.Condition()
    latencies: list[float] = []
    failures = 0
    reasons: list[str] = []

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        nonlocal opened
        async with freed:
            while not idle and opened >= MAX_CONNECTIONS:
                await freed.wait()
            if idle:
                return idle.pop()
            opened += 1
        return await asyncio.open_connection("127.0.0.1", port)

    async def one(scheduled: float, request: bytes) -> None:
        nonlocal failures, opened
        reader, writer = await connection()
        try:
            try:
                failure = await asyncio.wait_for(_exchange(reader, writer, request), timeout=10)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed an idle keep-alive connection: like any HTTP client,
                # retry once on a new one (the latency still counts from the schedule).
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                failure = await asyncio.wait_for(_exchange(reader, writer, request), timeout=10)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            failures += 1
            reasons.append(type(exc).__name__)
            latencies.append((time.perf_counter() - scheduled) * 1000)
            writer.close()
            async with freed:
                opened -= 1  # a broken connection is not reused; its slot is free again
                freed.notify()
            return
        if failure is not None:
            failures += 1
            reasons.append(failure)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        async with freed:
            idle.append((reader, writer))
            freed.notify()

    for _ in range(8):  # a few warm connections, as a real client pool would hold
        idle.append(await asyncio.open_connection("127.0.0.1", port))
        opened += 1
    tasks = []
    start = time.perf_counter() + 0.1
    deadline = start + seconds + 30
    for i, request in enumerate(requests):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.perf_counter() > deadline:
            break
        tasks.append(asyncio.create_task(one(scheduled, request)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    if reasons:
        print(f"  first failure: {reasons[0]}")
    values = np.array(latencies)
    return float(np.percentile(values, 50)), float(np.percentile(values, 99)), failures


def measure(scenario: Scenario, port: int, token: str, lo: int, hi: int, seconds: int) -> Run:
    """Saturation with wrk, then latency at the scenario's offered rate."""
    load = os.getloadavg()[0]
    rps, wrk_p50, wrk_p99 = saturate(port, token, scenario.kind, lo, hi, seconds)
    p50, p99, failures = asyncio.run(
        offered_load(port, token, scenario.kind, lo, hi, scenario.rate, seconds)
    )
    return Run(rps, wrk_p50, wrk_p99, p50, p99, failures, load)


def report(scenario: Scenario, runs: list[Run]) -> None:
    """Every run and the medians, against the scenario's targets."""
    print(f"\n{scenario.label}:")
    for n, run in enumerate(runs, 1):
        print(
            f"  run {n}: {run.rps:,.0f} req/s (wrk p50 {run.wrk_p50_ms:.1f} ms, "
            f"p99 {run.wrk_p99_ms:.1f} ms); at {scenario.rate} req/s offered: "
            f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms"
            + (f", {run.failures} failed" if run.failures else "")
            + f"; load average {run.load:.2f}"
        )
    rps = statistics.median(run.rps for run in runs)
    p50 = statistics.median(run.p50_ms for run in runs)
    p99 = statistics.median(run.p99_ms for run in runs)
    print(
        f"  median: saturation {rps:,.0f} req/s (target >= {scenario.min_rps}); "
        f"at {scenario.rate} req/s offered p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(target <= {scenario.max_p99_ms} ms)"
    )


def record_event_batches(
    port: int, token: str, lo: int, hi: int, batches: int
) -> tuple[float, float, float]:
    """Median and worst milliseconds per batch of EVENT_BATCH visits, and stage changes per batch.

    Batches go one after another over one keep-alive connection; every event has a new
    idempotency key, so each batch is stored in full. Customers are drawn afresh each run:
    a first visit moves a prospect to lead, which is most of the work.
    """
    rng = np.random.default_rng()
    run = secrets.token_hex(4)
    timings: list[float] = []
    changes: list[int] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
        for batch in range(batches + 1):
            occurred = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
            events = [
                {
                    "idempotencyKey": f"bench-{run}-{batch}-{i}",
                    "type": "visit",
                    "occurredAt": occurred,
                    "customerId": str(customer_id),
                    "properties": {"page": "/catalogue"},
                }
                for i, customer_id in enumerate(rng.integers(lo, hi + 1, EVENT_BATCH))
            ]
            body = {"query": RECORD_EVENTS, "variables": {"events": events}}
            started = time.perf_counter()
            response = client.post("/graphql", json=body)
            elapsed = (time.perf_counter() - started) * 1000
            result = response.json()
            recorded = (result.get("data") or {}).get("recordEvents") or {}
            if response.status_code != 200 or recorded.get("inserted") != EVENT_BATCH:
                raise SystemExit(f"recordEvents did not store the batch: {str(result)[:300]}")
            if batch:  # the first batch warms caches and prepared statements
                timings.append(elapsed)
                changes.append(len(recorded.get("stageChanges", [])))
    return statistics.median(timings), max(timings), statistics.median(changes)


def has_mutation(port: int, token: str, name: str) -> bool:
    """Whether the served schema has a mutation of this name."""
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": "{__schema{mutationType{fields{name}}}}"},
        headers={"Authorization": f"Bearer {token}"},
    )
    fields = response.json()["data"]["__schema"]["mutationType"]["fields"]
    return any(field["name"] == name for field in fields)


def main() -> None:
    """Set up, serve, measure every scenario `--runs` times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database", help="database to use (filled if new) and keep")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--only", choices=[*(s.kind for s in SCENARIOS), "events"], help="one scenario"
    )
    parser.add_argument("--batches", type=int, default=10, help="event batches per run")
    parser.add_argument("--db-threads", type=int, help="the server's API_DB_THREADS")
    args = parser.parse_args()
    name = args.database or f"lifecycle_bench_{secrets.token_hex(4)}"
    url = database_url(name)
    server = None
    try:
        if create_database(name):
            populate(url, args.customers)
        token, writer, lo, hi = prepare(url)
        port = free_port()
        server = start_server(url, port, args.db_threads)
        print(f"server: 1 uvicorn process, {os.cpu_count()} cores; customer ids {lo}..{hi}")
        print(f"PostgreSQL: {postgres_settings()}")
        for scenario in SCENARIOS:
            if args.only and scenario.kind != args.only:
                continue
            saturate(port, token, scenario.kind, lo, hi, 3)  # warm-up: caches and pool
            runs = [measure(scenario, port, token, lo, hi, args.seconds) for _ in range(args.runs)]
            report(scenario, runs)
        if args.only and args.only != "events":
            return
        if not has_mutation(port, token, "recordEvents"):
            print("\nrecordEvents: absent from the schema, not measured")
            return
        print(f"\nrecordEvents, batches of {EVENT_BATCH:,} visits one after another:")
        medians = []
        for n in range(1, args.runs + 1):
            load = os.getloadavg()[0]
            median, worst, changes = record_event_batches(port, writer, lo, hi, args.batches)
            medians.append(median)
            print(
                f"  run {n}: median {median:.0f} ms, worst {worst:.0f} ms per batch "
                f"({EVENT_BATCH / median * 1000:,.0f} events/s, {changes:.0f} stage changes "
                f"per batch); load average {load:.2f}"
            )
        print(
            f"  median: {statistics.median(medians):.0f} ms per batch "
            f"(target <= {EVENT_BATCH_MAX_MS} ms)"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        if not args.database:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
