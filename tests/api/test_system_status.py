"""`systemStatus`: queue depths and the outbox backlog, for admins only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from redis import Redis
from rq import Queue
from sqlalchemy.engine import Engine

from domain.db import unit_of_work
from domain.outbox.models import OutboxStatus
from domain.outbox.service import enqueue
from domain.settings import get_settings
from domain.staff.models import TokenRole
from tests.api.factories import gql, make_token
from worker.queue import SCORING

STATUS = """
query {
  systemStatus {
    queues { name queued started failed scheduled }
    outbox { pending sending sent dead cancelled }
  }
}
"""
REDIS_URL = "redis://127.0.0.1:6379/8"


def _noop() -> None:
    """A job that is never run: it only has to sit in a queue."""


def queue_two_messages(engine: Engine) -> None:
    """One pending message and one already dead."""
    with unit_of_work(engine) as session:
        enqueue(session=session, adapter="log", recipient="r", body="b", dedupe_key="a")
        dead = enqueue(session=session, adapter="log", recipient="r", body="b", dedupe_key="b")
        dead.status = OutboxStatus.DEAD
        session.add(dead)


@pytest.fixture
def redis_queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[Redis]:
    """Jobs go to Redis (a database of this module's own) for the test's duration."""
    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    yield connection
    monkeypatch.delenv("REDIS_URL")
    get_settings.cache_clear()
    connection.flushdb()
    connection.close()


async def test_in_process_status_has_no_queues_and_counts_the_outbox(
    client: httpx.AsyncClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    queue_two_messages(engine)
    token, _ = make_token(engine, TokenRole.ADMIN)

    body = await gql(client, STATUS, token=token)

    assert body["data"]["systemStatus"] == {
        "queues": [],
        "outbox": {"pending": 1, "sending": 0, "sent": 0, "dead": 1, "cancelled": 0},
    }


async def test_with_redis_status_shows_each_queue_depth(
    client: httpx.AsyncClient, engine: Engine, redis_queues: Redis
) -> None:
    Queue(SCORING, connection=redis_queues).enqueue(_noop)
    token, _ = make_token(engine, TokenRole.ADMIN)

    body = await gql(client, STATUS, token=token)

    queues = {q["name"]: q for q in body["data"]["systemStatus"]["queues"]}
    assert queues[SCORING] == {
        "name": SCORING,
        "queued": 1,
        "started": 0,
        "failed": 0,
        "scheduled": 0,
    }
    assert queues["delivery"]["queued"] == 0


async def test_status_is_refused_to_non_admins(client: httpx.AsyncClient, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.READ)

    body = await gql(client, STATUS, token=token)

    assert body["data"] is None
    assert "admin role" in body["errors"][0]["message"]
