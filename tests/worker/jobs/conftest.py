"""Scoring jobs on the real Redis (a database of their own) with the test database in env.

Fixture names carry `scoring_`: other job tests share this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis
from sqlalchemy.engine import Engine

from domain.db import get_engine
from domain.settings import get_settings
from worker.artifacts import memory_store
from worker.queue import redis_connection

# A Redis database of the scoring tests' own, emptied before and after.
REDIS_URL = "redis://127.0.0.1:6379/14"


def clear_caches() -> None:
    """Forget the process-wide settings, engine, Redis connection and in-memory artifacts."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    for cached in (get_settings, get_engine, redis_connection, memory_store):
        cached.cache_clear()


@pytest.fixture
def scoring_redis() -> Iterator[Redis]:
    """The scoring tests' Redis database, empty."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    yield redis
    redis.flushdb()
    redis.close()


@pytest.fixture
def scoring_on_redis(
    engine: Engine, scoring_redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The environment of a deployment with Redis: jobs are enqueued, artifacts kept there."""
    values = {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "REDIS_URL": REDIS_URL,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    yield values
    clear_caches()


@pytest.fixture
def scoring_in_process(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The embedded default: no Redis, jobs run in this process."""
    values = {"DATABASE_URL": engine.url.render_as_string(hide_password=False), "REDIS_URL": ""}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    yield values
    clear_caches()
