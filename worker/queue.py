"""The job queue: RQ on Redis when REDIS_URL is set, otherwise jobs run in-process.

Jobs are plain functions taking ids (see worker/jobs/); callers enqueue them after their
unit of work has committed, so a job never sees state that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.job import Job

from domain.settings import get_settings

SCORING = "scoring"
TRIGGERS = "triggers"
DELIVERY = "delivery"
QUEUE_NAMES = (SCORING, TRIGGERS, DELIVERY)
# Transient failures (a database restart, a network blip) get three tries with backoff.
DEFAULT_RETRY = Retry(max=3, interval=[10, 60, 300])


@lru_cache
def redis_connection(url: str) -> Redis:
    """A Redis connection for the URL, shared by the process."""
    return Redis.from_url(url)


def queues_enabled() -> bool:
    """Whether jobs go to Redis (True) or run in-process (the embedded default)."""
    return bool(get_settings().redis_url)


def get_queue(name: str, *, connection: Redis | None = None) -> Queue:
    """The RQ queue with this name on the configured Redis."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}; expected one of {', '.join(QUEUE_NAMES)}")
    return Queue(name, connection=connection or redis_connection(get_settings().redis_url))


@dataclass(frozen=True)
class QueueDepth:
    """Jobs of one queue by state, for admins."""

    name: str
    queued: int
    started: int
    failed: int
    scheduled: int


def queue_depths() -> list[QueueDepth]:
    """Each Lifecycle queue's jobs by state; empty when jobs run in-process."""
    if not queues_enabled():
        return []
    depths = []
    for name in QUEUE_NAMES:
        queue = get_queue(name)
        depths.append(
            QueueDepth(
                name=name,
                queued=queue.count,
                started=queue.started_job_registry.count,
                failed=queue.failed_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
            )
        )
    return depths


def enqueue(
    func: Callable[..., Any],
    *args: Any,
    queue: str,
    job_id: str | None = None,
    depends_on: Sequence[Job] | None = None,
    retry: Retry | None = DEFAULT_RETRY,
    timeout: int = 1800,
    **kwargs: Any,
) -> Job | None:
    """Enqueue a job on Redis, or run it right here when no Redis is configured."""
    if not queues_enabled():
        func(*args, **kwargs)
        return None
    return get_queue(queue).enqueue(
        func,
        args=args,
        kwargs=kwargs,
        job_id=job_id,
        depends_on=list(depends_on) if depends_on else None,
        retry=retry,
        job_timeout=timeout,
        failure_ttl=7 * 24 * 3600,
    )
