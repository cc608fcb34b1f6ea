"""The hourly lifecycle job runs on a real RQ worker against real Redis and the database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from domain.customers.models import Customer
from domain.db import get_engine
from domain.settings import get_settings
from domain.stages.vocabulary import Stage
from domain.suggestions.models import Suggestion
from tests.conftest import REDIS_URL
from tests.factories import birthday_in, grant_consent, make_customer, make_order, make_staff
from worker.jobs.lifecycle import lifecycle_pass

AS_OF = datetime(2026, 6, 1, 10, tzinfo=UTC)


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Settings point at the test database, as a worker process's environment would."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield engine
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def redis() -> Iterator[Redis]:
    """A Redis connection on a database of this test's own, emptied afterwards."""
    connection = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + "/13")
    connection.flushdb()
    yield connection
    connection.flushdb()


def _sleepy_vip_with_birthday(session: Session) -> int:
    owner = make_staff(session)
    customer = make_customer(
        session,
        owner_id=owner.id,
        birthday=birthday_in(3, today=AS_OF.date()),
        stage=Stage.REPEAT,
        stage_since=AS_OF - timedelta(days=200),
    )
    grant_consent(session, customer, "email")
    for days in (400, 370, 340):
        make_order(session, customer, at=AS_OF - timedelta(days=days))
    customer.first_order_at = AS_OF - timedelta(days=400)
    customer.last_order_at = AS_OF - timedelta(days=340)
    customer.order_count = 3
    customer.net_revenue_minor = 15_000
    session.add(customer)
    session.commit()
    assert customer.id is not None
    return customer.id


def test_lifecycle_job_on_a_worker_moves_stages_and_raises_suggestions_once(
    configured: Engine, redis: Redis
) -> None:
    with Session(configured) as session:
        customer_id = _sleepy_vip_with_birthday(session)
    queue = Queue(f"lifecycle-{secrets.token_hex(3)}", connection=redis)
    first = queue.enqueue(lifecycle_pass, AS_OF.isoformat())
    second = queue.enqueue(lifecycle_pass, AS_OF.isoformat())

    SimpleWorker([queue], connection=redis).work(burst=True)

    assert first.get_status() == "finished", first.latest_result()
    assert first.return_value()["stage_changes"] == 1
    assert second.return_value() == {
        "stage_changes": 0,
        "suggestions_expired": 0,
        "reactivation_responded": 0,
        "reactivation_lost": 0,
        "suggestions_created": 0,
        "alerts": 0,
    }
    with Session(configured) as session:
        types = sorted(
            session.exec(select(Suggestion.type).where(Suggestion.customer_id == customer_id))
        )
        customer = session.get(Customer, customer_id)
    assert customer is not None and customer.stage == Stage.SLEEPING
    assert "birthday" in types
