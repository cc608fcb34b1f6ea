"""`lifecycle cron`: RQ's cron scheduler with Lifecycle's default schedule (times in UTC).

The scheduler only enqueues; `lifecycle worker` processes run the jobs. The schedule: the
nightly scoring run, the hourly lifecycle pass (stage decay, expiries, reactivation windows,
triggers) and the staff digests every 15 minutes (each staff member gets theirs once, in their
own morning window). Run one scheduler per deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
from redis import Redis
from rq.cron import CronScheduler

from cli.output import fail
from domain.settings import get_settings
from worker.jobs import scoring
from worker.jobs.digests import send_digests
from worker.jobs.lifecycle import lifecycle_pass
from worker.queue import DELIVERY, SCORING, TRIGGERS, redis_connection

NIGHTLY_SCORING = "0 2 * * *"
HOURLY_LIFECYCLE = "0 * * * *"
# The digest job picks the staff whose local digest window is open: it must run often.
DIGESTS = "*/15 * * * *"


@dataclass(frozen=True)
class Entry:
    """One scheduled job."""

    name: str
    func: Callable[..., Any]
    queue: str
    cron: str


def schedule(*, scoring_cron: str = NIGHTLY_SCORING) -> list[Entry]:
    """The jobs the scheduler enqueues, and when."""
    return [
        Entry("scoring.nightly", scoring.nightly, SCORING, scoring_cron),
        Entry("lifecycle.pass", lifecycle_pass, TRIGGERS, HOURLY_LIFECYCLE),
        Entry("digests.send", send_digests, DELIVERY, DIGESTS),
    ]


def build_scheduler(connection: Redis, entries: list[Entry]) -> CronScheduler:
    """A cron scheduler on the connection with the entries registered."""
    scheduler = CronScheduler(connection=connection, name="lifecycle-cron")
    for entry in entries:
        scheduler.register(
            entry.func,
            queue_name=entry.queue,
            cron=entry.cron,
            name=entry.name,
            job_timeout=3600,
        )
    return scheduler


def cron_command(
    scoring_cron: str = typer.Option(
        NIGHTLY_SCORING, "--scoring", help="cron expression of the nightly scoring run (UTC)"
    ),
) -> None:
    """Enqueue scheduled jobs on time: nightly scoring, hourly lifecycle pass, staff digests."""
    url = get_settings().redis_url
    if not url:
        fail("REDIS_URL is not set: the scheduler enqueues jobs for workers on Redis")
    try:
        scheduler = build_scheduler(redis_connection(url), schedule(scoring_cron=scoring_cron))
    except ValueError as exc:
        fail(f"--scoring {scoring_cron!r} is not a cron expression: {exc}")
    scheduler.start()
