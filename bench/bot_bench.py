"""Reply latency of the bot's /customer card, end to end on loopback.

Creates a PostgreSQL database (`lifecycle_bench_<random>`, dropped at the end) with
`--customers` scored customers (three orders and two consents each) owned by one linked
sales person, starts the GraphQL API as its own uvicorn process (`lifecycle serve`), the
Telegram Bot API emulator, and the real bot Application polling the emulator (as
`lifecycle bot` runs it). A Telegram user then sends `/customer <random id>` and waits for
the card, one request at a time and at most ten a second; each figure is from the user's
send to the card's arrival.

For scale it also times `/help` (same path, no API call: the staff member is cached) and the
card's GraphQL query alone over HTTP, so the total splits into Telegram transport, bot and
API. Run from the repository root:
`python -m bench.bot_bench [--customers 5000] [--requests 300]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import httpx
import psycopg
from sqlmodel import select

from bot import documents
from bot.app import build_application, running
from bot.settings import BotSettings
from domain import migrate
from domain.channels.models import Channel
from domain.clock import utcnow
from domain.customers.models import Consent, Customer
from domain.db import make_engine, unit_of_work
from domain.orders.models import Order
from domain.scoring.models import RunStatus, Score, ScoringRun
from domain.staff.models import TokenRole
from domain.staff.service import add_staff, create_token
from tests.e2e.telegram.harness import TelegramClient, TelegramUser, run_emulator

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
TELEGRAM_USER = 5001
WARM_UP = 20
# Requests leave at most 10 a second: back to back they would exceed Telegram's 30 messages
# a second, and the bot's flood limiter (AIORateLimiter) would space them ~33 ms apart.
PACE_SECONDS = 0.1


def seed(url: str, customers: int) -> str:
    """Customers with orders, consents and scores, one linked sales person; the bot token."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = utcnow()
    with unit_of_work(engine) as session:
        staff = add_staff(session=session, name="Ann Seller", telegram_user_id=TELEGRAM_USER)
        token = create_token(session=session, name="bench bot", role=TokenRole.BOT).value
        channels = {c.code: c.id for c in session.exec(select(Channel)) if c.id is not None}
        run = ScoringRun(status=RunStatus.SUCCEEDED, as_of=date.today(), model_version="bench")
        session.add(run)
        session.flush()
        for n in range(customers):
            customer = Customer(
                external_id=f"B{n:07d}",
                name=f"Customer {n}",
                email=f"c{n}@example.com",
                phone=f"+1555{n:07d}",
                stage="loyal",
                owner_id=staff.staff.id,
                order_count=3,
                net_revenue_minor=30_000,
                last_order_at=now - timedelta(days=5),
            )
            session.add(customer)
            session.flush()
            assert customer.id is not None
            for k in range(3):
                session.add(
                    Order(
                        external_id=f"BO{n:07d}-{k}",
                        customer_id=customer.id,
                        ordered_at=now - timedelta(days=5 + 30 * k),
                        total_minor=10_000,
                    )
                )
            for code, granted in (("email", True), ("sms", False)):
                session.add(
                    Consent(customer_id=customer.id, channel_id=channels[code], granted=granted)
                )
            session.add(
                Score(
                    run_id=run.id or 0,
                    customer_id=customer.id,
                    model_version="bench",
                    rfm_segment="Champions",
                    p_alive=0.9,
                    predicted_clv_minor=120_000,
                    next_order_date=date.today() + timedelta(days=20),
                    reasons=["bought 3 times", "spends above average", "opens every email"],
                )
            )
    engine.dispose()
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(url: str, port: int) -> subprocess.Popen[bytes]:
    """`lifecycle serve` in its own process, once /readyz answers."""
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "", "ENVIRONMENT": "test"}
    env.update(API_RATE_LIMIT="0", API_GRAPHIQL="false")
    command = [sys.executable, "-c", "from cli.main import app; app()", "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the API server did not become ready")


async def timed(step: Callable[[], Awaitable[object]], count: int) -> list[float]:
    """Milliseconds of `count` runs of a step, after a warm-up."""
    timings = []
    for i in range(count + WARM_UP):
        started = time.perf_counter()
        await step()
        elapsed = time.perf_counter() - started
        if i >= WARM_UP:
            timings.append(elapsed * 1000)
        await asyncio.sleep(max(0.0, PACE_SECONDS - elapsed))
    return timings


def summary(name: str, timings: list[float]) -> str:
    """Median, p95 and max of a list of milliseconds."""
    p95 = statistics.quantiles(timings, n=20)[-1]
    return (
        f"{name:<34} median {statistics.median(timings):6.1f} ms   p95 {p95:6.1f} ms   "
        f"max {max(timings):6.1f} ms   (n={len(timings)})"
    )


async def measure(api_url: str, token: str, customers: int, requests: int) -> None:
    """Drive the bot through the emulator and print the figures."""
    ids = list(range(1, customers + 1))

    async def card_over_http(http: httpx.AsyncClient) -> None:
        response = await http.post(
            api_url,
            json={"query": documents.CARD, "variables": {"id": str(random.choice(ids))}},
            headers={"X-Act-As-Telegram-User": str(TELEGRAM_USER)},
        )
        assert "Customer" in response.text, response.text

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        api_only = await timed(lambda: card_over_http(http), requests)

    with run_emulator() as emulator:
        async with TelegramClient(emulator) as telegram:
            settings = BotSettings(
                bot_api_url=api_url,
                bot_api_token=token,
                telegram_token=telegram.token,
                telegram_base_url=emulator.url,
            )
            async with running(build_application(settings)):
                ann = telegram.user(TELEGRAM_USER, "Ann")

                async def ask(text: str, user: TelegramUser = ann) -> None:
                    await user.send(text)
                    reply = await user.next_reply(timeout=30)
                    assert reply.text and not reply.text.startswith("Something"), reply.text

                help_only = await timed(lambda: ask("/help"), requests)
                cards = await timed(lambda: ask(f"/customer {random.choice(ids)}"), requests)

    print(summary("/customer card (Telegram -> card)", cards))
    print(summary("/help (no API call)", help_only))
    print(summary("card query alone (HTTP -> API)", api_only))
    target = "met" if statistics.median(cards) <= 150 else "NOT met"
    print(f"target median <= 150 ms for /customer: {target}")


def main() -> None:
    """Set up, measure, tear down."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    name = f"lifecycle_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    api: subprocess.Popen[bytes] | None = None
    try:
        started = time.perf_counter()
        token = seed(url, args.customers)
        print(f"seeded {args.customers} customers in {time.perf_counter() - started:.1f} s")
        port = free_port()
        api = start_api(url, port)
        print(f"machine: {os.cpu_count()} cores; API: 1 uvicorn process; PostgreSQL on loopback")
        asyncio.run(
            measure(f"http://127.0.0.1:{port}/graphql", token, args.customers, args.requests)
        )
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=10)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
