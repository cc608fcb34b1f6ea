"""A worker killed (SIGKILL) in the middle of a shard's write-back: no partial shard is ever
visible, and a new worker completes the run with exactly one set of scores.

Real processes on the real servers: `rq worker` subprocesses on this tests' Redis database and
the test PostgreSQL database. A test-only hook (LIFECYCLE_SCORING_PAUSE_FILE) makes the first
worker's write-back pause after its rows are in and before it commits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import psutil
import pytest
from redis import Redis
from sqlalchemy import text
from sqlalchemy.engine import Engine

from domain.db import unit_of_work
from domain.scoring.models import RunStatus
from domain.scoring.queries import get_run, run_shards, score_count
from tests.worker.jobs.conftest import REDIS_URL
from tests.worker.pipeline.factories import populate
from worker import runs
from worker.pipeline.writeback import PAUSE_ENV
from worker.queue import SCORING

REPO = Path(__file__).resolve().parents[3]
STARTED_REGISTRY = f"rq:wip:{SCORING}"
SCHEDULER_LOCK = f"rq:scheduler-lock:{SCORING}"


def _worker(environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """An `rq worker` (with its scheduler) on the scoring queue."""
    return subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "worker", SCORING, "--url", REDIS_URL, "--with-scheduler"],
        cwd=REPO,
        env={**os.environ, **environment, "PYTHONPATH": str(REPO)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _until(condition: Callable[[], bool], seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)


def _family(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The worker and every process it started (the job's horse, the scheduler)."""
    try:
        parent = psutil.Process(process.pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and all its processes at once, as a machine dying would."""
    for member in _family(process):
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    process.wait(timeout=20)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop (SIGTERM); whatever is left after 20 s is killed."""
    family = _family(process)
    process.terminate()
    _, alive = psutil.wait_procs(family, timeout=20)
    for member in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    process.wait(timeout=10)


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_a_worker_killed_mid_write_leaves_no_partial_shard_and_the_run_completes(
    engine: Engine,
    scoring_on_redis: dict[str, str],
    scoring_redis: Redis,
    tmp_path: Path,
) -> None:
    population = populate(engine, customers=300, seed=4)
    run_id = runs.start_run(as_of=population.as_of, shard_size=100)
    marker = tmp_path / "writing"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    first = _worker({**scoring_on_redis, PAUSE_ENV: str(marker)}, first_log)
    try:
        _until(marker.exists, 120, "the first worker to reach its write-back", first_log)
        with unit_of_work(engine) as session:
            writing = [
                s for s in run_shards(session=session, run_id=run_id) if s.status == "running"
            ]
            assert [(s.phase, s.status) for s in writing] == [("scores", "running")]
            shard = writing[0]
            # The rows are in, the transaction is open: nobody else sees any of them.
            assert (
                score_count(
                    session=session,
                    run_id=run_id,
                    id_min=shard.customer_id_min,
                    id_max=shard.customer_id_max,
                )
                == 0
            )
    finally:
        _kill(first)
    assert first.returncode == -signal.SIGKILL

    with unit_of_work(engine) as session:
        assert (
            score_count(
                session=session,
                run_id=run_id,
                id_min=shard.customer_id_min,
                id_max=shard.customer_id_max,
            )
            == 0
        )
        run = get_run(session=session, run_id=run_id)
        assert run is not None and run.status == RunStatus.RUNNING
    # Fast-forward the minute after which a dead worker's claims expire on their own: the
    # killed job's entry in the started registry (so the next worker's start-up maintenance
    # finds it abandoned and schedules its retry) and the dead scheduler's lock (so the next
    # worker's scheduler can take over and enqueue that retry when it is due).
    members = cast(list[bytes], scoring_redis.zrange(STARTED_REGISTRY, 0, -1))
    assert members, "the killed job should still be registered as started"
    scoring_redis.zadd(STARTED_REGISTRY, dict.fromkeys(members, 1))
    scoring_redis.delete(SCHEDULER_LOCK)

    second = _worker(scoring_on_redis, second_log)
    try:

        def finished() -> bool:
            with unit_of_work(engine) as session:
                current = get_run(session=session, run_id=run_id)
                return current is not None and current.status != RunStatus.RUNNING

        _until(finished, 180, "the second worker to complete the run", second_log)
    finally:
        _stop(second)

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=run_id)
        assert run is not None
        assert (run.status, run.error, run.shards_done) == (RunStatus.SUCCEEDED, None, 3)
        assert score_count(session=session, run_id=run_id) == 300
        shards = run_shards(session=session, run_id=run_id)
    assert [(s.phase, s.status, s.customers) for s in shards] == [("scores", "succeeded", 100)] * 3
    with engine.connect() as connection:
        per_customer = connection.execute(
            text("SELECT count(*) FROM score WHERE run_id = :run GROUP BY customer_id"),
            {"run": run_id},
        ).scalars()
        assert set(per_customer) == {1}
