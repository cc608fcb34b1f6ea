"""`lifecycle score`, `lifecycle runs` and `lifecycle cron`, in-process and with Redis."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import typer
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from cli.cron import build_scheduler, schedule
from cli.score import runs_command, score_command
from domain.db import unit_of_work
from domain.scoring.models import RunStatus
from domain.scoring.queries import get_run
from tests.worker.pipeline.factories import populate
from worker.pipeline import phases
from worker.queue import DELIVERY, SCORING, TRIGGERS

app = typer.Typer()
app.command("score")(score_command)
app.command("runs")(runs_command)


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_score_runs_in_process_and_prints_the_run_and_its_figures(
    engine: Engine, scoring_in_process: dict[str, str]
) -> None:
    population = populate(engine, customers=300, seed=6)

    result = _invoke("score", "--as-of", population.as_of.isoformat(), "--shard-size", "100")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(
        rf"scoring run 1 succeeded as of {population.as_of}: 300 customers in 3 shards, "
        r"[\d.]+ s",
        lines[0],
    )
    assert lines[1].startswith("  BG/NBD r=")
    assert any(line.startswith("  churn model AUC ") for line in lines)
    assert any(line.startswith("  cross-sell hit rate@5 ") for line in lines)


def test_runs_lists_runs_with_their_shards_as_json(
    engine: Engine, scoring_in_process: dict[str, str]
) -> None:
    population = populate(engine, customers=300, seed=6)
    _invoke("score", "--as-of", population.as_of.isoformat(), "--shard-size", "100")

    result = _invoke("runs", "--json")

    assert result.exit_code == 0, result.output
    (run,) = json.loads(result.stdout)
    assert (run["id"], run["status"], run["shard_count"], run["shards_done"]) == (
        1,
        "succeeded",
        3,
        3,
    )
    assert [shard["customers"] for shard in run["shards"]] == [100, 100, 100]
    assert set(run["timings"]) >= {"features", "fit", "scores", "finish", "total"}
    assert "channels" in run["metrics"] and "bgnbd" in run["params"]


def test_a_failed_run_says_where_and_how_to_resume_it(
    engine: Engine, scoring_in_process: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    population = populate(engine, customers=300, seed=6)
    original = phases.fit_models

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(phases, "fit_models", broken)
    failed = _invoke("score", "--as-of", population.as_of.isoformat(), "--shard-size", "100")
    listing = _invoke("runs")
    monkeypatch.setattr(phases, "fit_models", original)
    resumed = _invoke("score", "--resume", "1")

    assert failed.exit_code == 1
    assert failed.stdout == (
        "scoring run 1 failed: fit failed: RuntimeError: out of memory\n"
        "resume it with: lifecycle score --resume 1\n"
    )
    assert "run 1: fit failed: RuntimeError: out of memory" in listing.stdout
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.startswith("scoring run 1 succeeded")


def test_score_refuses_what_it_cannot_do(
    engine: Engine, scoring_in_process: dict[str, str]
) -> None:
    missing = _invoke("score", "--resume", "41")
    mixed = _invoke("score", "--resume", "1", "--as-of", "2025-01-01")
    bad_date = _invoke("score", "--as-of", "yesterday")

    assert (missing.exit_code, mixed.exit_code, bad_date.exit_code) == (2, 2, 2)
    assert "scoring run 41 does not exist" in missing.output
    assert "--resume continues a run as it was planned" in mixed.output
    assert "--as-of 'yesterday' is not a date (YYYY-MM-DD)" in bad_date.output


def test_with_redis_score_enqueues_the_run_for_the_workers(
    engine: Engine, scoring_on_redis: dict[str, str], scoring_redis: Redis
) -> None:
    population = populate(engine, customers=300, seed=6)

    queued = _invoke("score", "--as-of", population.as_of.isoformat(), "--shard-size", "100")
    SimpleWorker([Queue(SCORING, connection=scoring_redis)], connection=scoring_redis).work(
        burst=True
    )
    waited = _invoke("runs")

    assert queued.exit_code == 0, queued.output
    assert queued.stdout == (
        f"scoring run 1 queued: 3 shards as of {population.as_of}; "
        "`lifecycle runs` shows its progress\n"
    )
    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=1)
        assert run is not None and run.status == RunStatus.SUCCEEDED
    assert "succeeded" in waited.stdout


def test_cron_schedules_scoring_nightly_the_lifecycle_pass_hourly_and_digests(
    scoring_redis: Redis,
) -> None:
    scheduler = build_scheduler(scoring_redis, schedule())

    jobs = [(job.name, job.func_name, job.queue_name, job.cron) for job in scheduler.get_jobs()]
    assert jobs == [
        ("scoring.nightly", "worker.jobs.scoring.nightly", SCORING, "0 2 * * *"),
        ("lifecycle.pass", "worker.jobs.lifecycle.lifecycle_pass", TRIGGERS, "0 * * * *"),
        ("digests.send", "worker.jobs.digests.send_digests", DELIVERY, "*/15 * * * *"),
    ]


def test_cron_enqueues_a_due_job_on_its_queue(scoring_redis: Redis) -> None:
    scheduler = build_scheduler(scoring_redis, schedule())
    nightly = scheduler.get_jobs()[0]
    nightly.next_enqueue_time = datetime(2000, 1, 1, tzinfo=UTC)  # long due

    enqueued = scheduler.enqueue_jobs()

    assert [job.name for job in enqueued] == ["scoring.nightly"]
    (job,) = Queue(SCORING, connection=scoring_redis).get_jobs()
    assert job.func_name == "worker.jobs.scoring.nightly"
