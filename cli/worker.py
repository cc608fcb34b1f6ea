"""`lifecycle worker`: RQ workers for Lifecycle's queues."""

from __future__ import annotations

import typer

from cli.output import fail
from cli.startup import require_valid_config
from domain.settings import get_settings


def worker_command(
    queues: list[str] = typer.Option(
        None, "--queue", "-q", help="queue to serve (repeatable); default: all"
    ),
    burst: bool = typer.Option(False, help="exit when the queues are empty"),
    name: str | None = typer.Option(None, help="worker name (default: host and pid)"),
) -> None:
    """Run a worker that executes scoring, trigger and delivery jobs from Redis."""
    from rq import Worker

    # Import the job modules (numpy, scikit-learn) once here, not in every forked job.
    import worker.jobs.delivery
    import worker.jobs.digests
    import worker.jobs.lifecycle
    import worker.jobs.scoring  # noqa: F401
    from worker.queue import QUEUE_NAMES, get_queue, redis_connection

    require_valid_config()
    settings = get_settings()
    if not settings.redis_url:
        fail("REDIS_URL is not set: without Redis, jobs run in-process and need no worker")
    selected = queues or list(QUEUE_NAMES)
    unknown = sorted(set(selected) - set(QUEUE_NAMES))
    if unknown:
        fail(f"unknown queue(s) {', '.join(unknown)}; known: {', '.join(QUEUE_NAMES)}")
    connection = redis_connection(settings.redis_url)
    rq_worker = Worker(
        [get_queue(q, connection=connection) for q in selected], connection=connection, name=name
    )
    rq_worker.work(burst=burst, with_scheduler=True)
