"""Benchmark the GraphQL API over real HTTP on loopback, on PostgreSQL with the demo data.

Creates `lifecycle_bench_<random>`, migrates it, writes the demo business
(`domain.demo.generate`) plus one synthetic succeeded scoring run (so pages carry scores),
starts `uvicorn api.app:create_app` and measures, with random customer ids:

- saturation throughput with `wrk` (a Lua script builds each request body);
- latency at a fixed offered load with an open-loop generator (requests are sent on a
  schedule and timed from their scheduled moment, so a slow server cannot hide its queue).

Prints req/s and p50/p99 per scenario; drops the database at the end.
Run: `python bench/api_bench.py [--customers 1000000] [--workers 2]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psycopg
from sqlalchemy import text

from domain import migrate
from domain.db import make_engine, unit_of_work
from domain.demo.service import generate
from domain.staff.models import TokenRole
from domain.staff.service import create_token

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
BY_ID = "query($id: ID){customer(id: $id){... on Customer{id externalId stage netRevenueMinor}}}"
PAGE = (
    "query($after: String){customers(first: 50, after: $after){... on CustomerConnection{"
    "edges{node{id externalId stage score{rfmSegment pAlive predictedClvMinor churnRisk}}}}}}"
)
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cursor(row_id: int) -> str:
    """The API's cursor for ordering id:asc at this id (mirrors api.pagination)."""
    import base64

    raw = json.dumps(["id:asc", row_id, row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def setup(url: str, customers: int) -> tuple[str, int, int]:
    """Migrate, write the demo data and one scoring run; returns a read token and the id range."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    generate(engine=engine, customers=customers, seed=7)
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
        lo, hi = conn.execute(text("SELECT min(id), max(id) FROM customer")).one()
    with unit_of_work(engine) as session:
        token = create_token(session=session, name="bench", role=TokenRole.READ).value
    engine.dispose()
    return token, int(lo), int(hi)


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "ENVIRONMENT": "test",
        "API_RATE_LIMIT": "0",
        "API_GRAPHIQL": "false",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the API server did not become ready")


def saturate(port: int, token: str, kind: str, lo: int, hi: int, seconds: int) -> float:
    """Requests per second `wrk` reaches with 2 threads and 32 connections."""
    script = LUA.format(
        lo=lo, hi=hi, kind=kind, token=token, by_id=json.dumps(BY_ID), page=json.dumps(PAGE)
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
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
    Path(handle.name).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  wrk saw {errors.group(1)} non-2xx responses")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


async def offered_load(
    port: int, token: str, kind: str, lo: int, hi: int, rate: int, seconds: int
) -> tuple[float, float, int]:
    """p50 and p99 latency (ms) at a fixed offered rate, timed from each scheduled start."""
    rng = np.random.default_rng(1)
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=10
    ) as client:

        async def one(scheduled: float, customer_id: int) -> None:
            nonlocal failures
            if kind == "by_id":
                body = {"query": BY_ID, "variables": {"id": str(customer_id)}}
            else:
                body = {"query": PAGE, "variables": {"after": cursor(customer_id)}}
            response = await client.post("/graphql", json=body, headers=headers)
            if response.status_code != 200 or "errors" in response.json():
                failures += 1
            latencies.append((time.perf_counter() - scheduled) * 1000)

        tasks = []
        start = time.perf_counter() + 0.2
        for i in range(rate * seconds):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, int(rng.integers(lo, hi + 1)))))
        await asyncio.gather(*tasks)
    values = np.array(latencies)
    return float(np.percentile(values, 50)), float(np.percentile(values, 99)), failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    name = f"lifecycle_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    server = None
    try:
        token, lo, hi = setup(url, args.customers)
        port = free_port()
        server = start_server(url, port, args.workers)
        print(f"server: {args.workers} uvicorn worker(s) on 2 cores; ids {lo}..{hi}")
        for kind, rate, label in (
            ("by_id", 500, "customer by id"),
            ("page", 100, "page of 50 customers with scores"),
        ):
            saturate(port, token, kind, lo, hi, 3)  # warm-up: caches, pools, JIT-free paths
            rps = saturate(port, token, kind, lo, hi, args.seconds)
            p50, p99, failures = asyncio.run(
                offered_load(port, token, kind, lo, hi, rate, args.seconds)
            )
            print(
                f"{label}: saturation {rps:,.0f} req/s (wrk, 32 connections); "
                f"at {rate} req/s offered: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                + (f", {failures} failed" if failures else "")
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
