"""A scoring run as RQ jobs on the real Redis: chained phases, and failures on the run record."""

from __future__ import annotations

from datetime import date

from redis import Redis
from rq import Queue, Retry, SimpleWorker
from rq.job import Job
from rq.registry import FinishedJobRegistry
from sqlalchemy.engine import Engine

from domain.clock import utcnow
from domain.db import unit_of_work
from domain.scoring.models import RunStatus
from domain.scoring.queries import get_run, run_shards, score_count
from domain.scoring.service import launch_run
from tests.worker.pipeline.factories import populate
from worker import runs
from worker.artifacts import KEY_PREFIX
from worker.jobs import scoring
from worker.queue import SCORING


def test_a_run_on_redis_is_chained_jobs_that_workers_complete(
    engine: Engine, scoring_on_redis: dict[str, str], scoring_redis: Redis
) -> None:
    population = populate(engine, customers=300, seed=2)

    run_id = runs.start_run(as_of=population.as_of, shard_size=100)
    with unit_of_work(engine) as session:
        queued = get_run(session=session, run_id=run_id)
        assert queued is not None and queued.status == RunStatus.RUNNING
    queue = Queue(SCORING, connection=scoring_redis)
    # Only the first phase can start; the rest wait on their dependencies.
    assert queue.count == 3
    SimpleWorker([queue], connection=scoring_redis).work(burst=True)

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        assert run is not None
        assert (run.status, run.shards_done, run.error) == (RunStatus.SUCCEEDED, 3, None)
        assert score_count(session=session, run_id=run_id) == 300
    token = run.params["launch"]
    finished = FinishedJobRegistry(SCORING, connection=scoring_redis).get_job_ids()
    assert sorted(finished) == sorted(
        f"scoring-{run_id}-{token}-{name}"
        for name in (
            "features-0",
            "features-1",
            "features-2",
            "fit",
            "scores-0",
            "scores-1",
            "scores-2",
            "finish",
        )
    )
    # A finished run leaves no intermediate data behind.
    assert list(scoring_redis.scan_iter(f"{KEY_PREFIX}:{run_id}:*")) == []


def _enqueued(scoring_redis: Redis, run_id: int, token: str, retries: int) -> Job:
    queue = Queue(SCORING, connection=scoring_redis)
    job = queue.enqueue(
        "worker.jobs.scoring.shard_scores", args=(run_id, 1, token), retry=Retry(max=3)
    )
    job.retries_left = retries
    return job


def test_a_failed_attempt_with_retries_left_marks_the_shard_retrying(
    engine: Engine, scoring_on_redis: dict[str, str], scoring_redis: Redis
) -> None:
    populate(engine, customers=30, seed=2)
    run_id = runs.new_run(as_of=date(2025, 1, 1), shard_size=10)
    with unit_of_work(engine) as session:
        launch_run(session=session, run_id=run_id, launch="T1")

    job = _enqueued(scoring_redis, run_id, "T1", retries=2)
    scoring.failed(job, scoring_redis, RuntimeError, RuntimeError("database restarting"), None)

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        shard = run_shards(session=session, run_id=run_id)[1]
    assert run is not None and (run.status, run.error) == (RunStatus.RUNNING, None)
    assert (shard.status, shard.error) == (
        "queued",
        "retrying after: RuntimeError: database restarting",
    )


def test_the_last_failed_attempt_fails_the_run_with_the_shard_and_error(
    engine: Engine, scoring_on_redis: dict[str, str], scoring_redis: Redis
) -> None:
    populate(engine, customers=30, seed=2)
    run_id = runs.new_run(as_of=date(2025, 1, 1), shard_size=10)
    with unit_of_work(engine) as session:
        launch_run(session=session, run_id=run_id, launch="T1")

    job = _enqueued(scoring_redis, run_id, "T1", retries=0)
    scoring.failed(job, scoring_redis, RuntimeError, RuntimeError("disk full"), None)

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        shard = run_shards(session=session, run_id=run_id)[1]
    assert run is not None
    assert (run.status, run.error) == (
        RunStatus.FAILED,
        "scores of shard 1 failed: RuntimeError: disk full",
    )
    assert (shard.phase, shard.status, shard.error) == (
        "scores",
        "failed",
        "RuntimeError: disk full",
    )


def test_a_failure_of_a_superseded_launch_is_not_recorded(
    engine: Engine, scoring_on_redis: dict[str, str], scoring_redis: Redis
) -> None:
    populate(engine, customers=30, seed=2)
    run_id = runs.new_run(as_of=date(2025, 1, 1), shard_size=10)
    with unit_of_work(engine) as session:
        launch_run(session=session, run_id=run_id, launch="T2")

    job = _enqueued(scoring_redis, run_id, "T1", retries=0)
    scoring.failed(job, scoring_redis, RuntimeError, RuntimeError("late"), None)

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
    assert run is not None and (run.status, run.error) == (RunStatus.RUNNING, None)


def test_the_nightly_job_starts_a_run_as_of_today(
    engine: Engine, scoring_on_redis: dict[str, str], scoring_redis: Redis
) -> None:
    populate(engine, customers=30, seed=2)

    run_id = scoring.nightly()

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
    assert run is not None and (run.status, run.as_of) == (RunStatus.RUNNING, utcnow().date())
    assert Queue(SCORING, connection=scoring_redis).count == run.shard_count
