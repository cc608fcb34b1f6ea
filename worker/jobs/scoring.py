"""RQ jobs of a scoring run (`scoring.*`): thin wrappers that take ids and run one phase.

Each opens its own database work through the phase, so a retry starts from what is stored.
`failed` is the jobs' failure callback: RQ calls it on every failed attempt, including a
worker lost mid-job (found abandoned later); it records a coming retry on the shard, or the
run's failure once the retries are used up.
"""

from __future__ import annotations

from datetime import date
from types import TracebackType
from typing import Any

from redis import Redis
from rq.job import Job

from domain.clock import utcnow
from domain.db import get_engine, unit_of_work
from domain.scoring.service import FEATURES, SCORES, launch_token, record_failure, require_run
from worker import runs
from worker.artifacts import get_store
from worker.pipeline import phases

# Which phase, and whether the second argument is a shard number, by job function.
_PHASES: dict[str, tuple[str, bool]] = {
    "shard_features": (FEATURES, True),
    "fit": ("fit", False),
    "shard_scores": (SCORES, True),
    "finish": ("finish", False),
}


def shard_features(run_id: int, shard_no: int, launch: str) -> None:
    """Extract one shard and store its fit inputs."""
    phases.shard_features(get_engine(), get_store(), run_id, shard_no, launch)


def fit(run_id: int, launch: str) -> None:
    """Fit the run's models from every shard's fit inputs."""
    phases.fit(get_engine(), get_store(), run_id, launch)


def shard_scores(run_id: int, shard_no: int, launch: str) -> None:
    """Score one shard and write its scores back."""
    phases.shard_scores(get_engine(), get_store(), run_id, shard_no, launch)


def finish(run_id: int, launch: str) -> None:
    """Channel quality, the run's last figures, and success."""
    phases.finish(get_engine(), get_store(), run_id, launch)


def nightly(shard_size: int = runs.DEFAULT_SHARD_SIZE) -> int:
    """Start a full run as of today (UTC); returns its id."""
    today: date = utcnow().date()
    return runs.start_run(as_of=today, shard_size=shard_size)


def failed(
    job: Job,
    connection: Redis,
    exc_type: type[BaseException] | None,
    exc_value: BaseException | None,
    traceback: TracebackType | None,
) -> None:
    """Record a failed attempt of a scoring job on its run and shard."""
    name = (job.func_name or "").rsplit(".", 1)[-1]
    if name not in _PHASES:
        return
    phase, per_shard = _PHASES[name]
    args: tuple[Any, ...] = tuple(job.args)
    run_id, launch = int(args[0]), str(args[-1])
    shard_no = int(args[1]) if per_shard else None
    final = not (job.retries_left and job.retries_left > 0)
    error = runs.describe(exc_value) if exc_value is not None else "job failed"
    with unit_of_work(get_engine()) as session:
        if launch_token(require_run(session=session, run_id=run_id)) != launch:
            return
        record_failure(
            session=session,
            run_id=run_id,
            error=error,
            phase=phase,
            shard_no=shard_no,
            final=final,
        )
