"""What the bot needs beyond reads of customers: linkTelegram, me, channels, scoring runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from api.mutations.scoring import THREAD_PREFIX
from domain.clock import utcnow
from domain.db import unit_of_work
from domain.scoring.models import RunStatus, ScoringRun
from domain.settings import get_settings
from domain.staff.models import Staff, StaffRole, TokenRole
from domain.staff.service import add_staff
from tests.api.factories import gql, make_run, make_token
from tests.factories import make_customer

LINK = """
mutation ($code: String!, $user: Long!, $key: String) {
  linkTelegram(code: $code, telegramUserId: $user, idempotencyKey: $key) {
    __typename
    ... on TelegramLinked { staff { id name telegramUserId } }
    ... on ValidationError { field message }
    ... on Conflict { message }
    ... on Forbidden { message }
  }
}
"""
ME = "query { me { id name role language timezone } }"
ENQUEUE = """
mutation ($asOf: Date, $key: String) {
  enqueueScoringRun(asOf: $asOf, idempotencyKey: $key) {
    __typename
    ... on ScoringRunQueued { run { id status asOf shardCount shardsDone startedAt } }
    ... on ValidationError { field message }
    ... on Conflict { message }
    ... on Forbidden { message }
  }
}
"""
RUNS = "query ($id: ID!) { scoringRun(id: $id) { id status } scoringRuns(first: 5) { id } }"
# A Redis database of these tests' own, emptied after each use.
REDIS_URL = "redis://127.0.0.1:6379/9"


def new_staff(engine: Engine, name: str = "Sam") -> tuple[int, str]:
    """A staff member without Telegram, and their one-time link code."""
    with unit_of_work(engine) as session:
        added = add_staff(session=session, name=name, role=StaffRole.SALES)
        assert added.staff.id is not None
        return added.staff.id, added.link_code


def join_launches() -> None:
    """Wait for the runs launched in the background, so no thread outlives the test."""
    for thread in threading.enumerate():
        if thread.name.startswith(THREAD_PREFIX):
            thread.join(timeout=120)
            assert not thread.is_alive()


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Jobs run in this process (no REDIS_URL) for the test's duration."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield
    join_launches()
    get_settings.cache_clear()


@pytest.fixture
def redis_queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[Redis]:
    """Jobs go to Redis (a database of this module's own) for the test's duration."""
    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    try:
        yield connection
    finally:
        join_launches()
        monkeypatch.delenv("REDIS_URL")
        get_settings.cache_clear()
        connection.flushdb()
        connection.close()


async def test_the_bot_links_a_telegram_account_with_the_code_and_then_acts_for_it(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    bot, _ = make_token(engine, TokenRole.BOT)
    staff_id, code = new_staff(engine)
    variables = {"code": code, "user": 7_000_000_001, "key": "link:1"}

    linked = await gql(client, LINK, variables, token=bot)
    retry = await gql(client, LINK, variables, token=bot)
    me = await gql(client, ME, token=bot, headers={"X-Act-As-Telegram-User": "7000000001"})

    expected = {
        "__typename": "TelegramLinked",
        "staff": {"id": str(staff_id), "name": "Sam", "telegramUserId": 7_000_000_001},
    }
    assert linked["data"]["linkTelegram"] == retry["data"]["linkTelegram"] == expected
    assert me["data"]["me"] == {
        "id": str(staff_id),
        "name": "Sam",
        "role": "sales",
        "language": "en",
        "timezone": "UTC",
    }


async def test_link_refusals_are_typed(client: httpx.AsyncClient, engine: Engine) -> None:
    bot, _ = make_token(engine, TokenRole.BOT)
    sales, _ = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES, telegram_user_id=42)
    _, code = new_staff(engine)

    used = await gql(client, LINK, {"code": "not-a-code", "user": 43}, token=bot)
    taken = await gql(client, LINK, {"code": code, "user": 42}, token=bot)
    refused = await gql(client, LINK, {"code": code, "user": 44}, token=sales)

    assert used["data"]["linkTelegram"] == {
        "__typename": "ValidationError",
        "field": "code",
        "message": "this link code is not valid",
    }
    assert taken["data"]["linkTelegram"] == {
        "__typename": "Conflict",
        "message": "this Telegram account is already linked to another staff member",
    }
    assert refused["data"]["linkTelegram"] == {
        "__typename": "Forbidden",
        "message": "linking Telegram needs a bot or an admin token",
    }
    with unit_of_work(engine) as session:
        linked = session.scalar(
            select(func.count()).select_from(Staff).where(col(Staff.telegram_user_id).is_not(None))
        )
    assert linked == 1


async def test_me_is_null_for_a_token_of_nobody_and_channels_lists_every_channel(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    body = await gql(client, "query { me { id } channels { code name contactable } }", token=token)
    assert body["data"]["me"] is None
    channels = body["data"]["channels"]
    assert [c["code"] for c in channels] == sorted(c["code"] for c in channels)
    assert {"code": "email", "name": "Email", "contactable": True} in channels
    assert {"code": "web", "name": "Website", "contactable": False} in channels
    assert len(channels) == 11


async def test_an_admin_enqueues_a_run_that_is_launched_in_process_after_commit(
    client: httpx.AsyncClient, engine: Engine, in_process: None
) -> None:
    admin, _ = make_token(engine, TokenRole.ADMIN)
    with unit_of_work(engine) as session:
        for _ in range(3):
            make_customer(session)
    today = utcnow().date()

    first = await gql(client, ENQUEUE, {"key": "score-1"}, token=admin)
    join_launches()
    retry = await gql(client, ENQUEUE, {"key": "score-1"}, token=admin)

    run = first["data"]["enqueueScoringRun"]["run"]
    assert first["data"]["enqueueScoringRun"]["__typename"] == "ScoringRunQueued"
    assert (run["status"], run["asOf"], run["shardCount"], run["shardsDone"]) == (
        "queued",
        today.isoformat(),
        1,
        0,
    )
    assert retry["data"]["enqueueScoringRun"]["run"]["id"] == run["id"]
    with unit_of_work(engine) as session:
        stored = session.get(ScoringRun, int(run["id"]))
        assert stored is not None
        # Launched after the commit: the thread ran (or failed) its phases, never left it queued.
        assert stored.status != RunStatus.QUEUED
        assert stored.started_at is not None
        assert session.scalar(select(func.count()).select_from(ScoringRun)) == 1
    runs = await gql(client, RUNS, {"id": run["id"]}, token=admin)
    assert runs["data"]["scoringRun"]["id"] == run["id"]
    assert runs["data"]["scoringRuns"] == [{"id": run["id"]}]


async def test_with_redis_the_run_becomes_rq_jobs(
    client: httpx.AsyncClient, engine: Engine, redis_queues: Redis
) -> None:
    admin, _ = make_token(engine, TokenRole.ADMIN)
    with unit_of_work(engine) as session:
        make_customer(session)

    body = await gql(client, ENQUEUE, {"asOf": "2026-11-01"}, token=admin)
    join_launches()

    run_id = int(body["data"]["enqueueScoringRun"]["run"]["id"])
    queued = Queue("scoring", connection=redis_queues).job_ids
    assert queued == [f"scoring-{run_id}-{queued[0].split('-')[2]}-features-0"]
    with unit_of_work(engine) as session:
        stored = session.get(ScoringRun, run_id)
        assert stored is not None and stored.status == RunStatus.RUNNING


async def test_enqueue_refusals_are_typed(client: httpx.AsyncClient, engine: Engine) -> None:
    admin, _ = make_token(engine, TokenRole.ADMIN)
    sales, _ = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    tomorrow = utcnow().date() + timedelta(days=1)
    with unit_of_work(engine) as session:
        busy = make_run(session, status=RunStatus.RUNNING, as_of=date(2026, 10, 1))

    forbidden = await gql(client, ENQUEUE, {}, token=sales)
    future = await gql(client, ENQUEUE, {"asOf": tomorrow.isoformat()}, token=admin)
    conflict = await gql(client, ENQUEUE, {"asOf": "2026-10-01"}, token=admin)

    assert forbidden["data"]["enqueueScoringRun"] == {
        "__typename": "Forbidden",
        "message": "this needs the admin role; the caller has sales",
    }
    assert future["data"]["enqueueScoringRun"] == {
        "__typename": "ValidationError",
        "field": "asOf",
        "message": f"asOf {tomorrow.isoformat()} is in the future",
    }
    assert conflict["data"]["enqueueScoringRun"] == {
        "__typename": "Conflict",
        "message": f"scoring run {busy.id} for 2026-10-01 is already running",
    }
