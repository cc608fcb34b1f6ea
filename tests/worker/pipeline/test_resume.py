"""A failed run shows where and why it failed, and resuming it runs only what is missing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from domain.db import unit_of_work
from domain.scoring.models import RunStatus
from domain.scoring.queries import get_run, run_shards, score_count
from domain.scoring.service import StaleLaunch, launch_run, launch_token, require_run
from tests.worker.pipeline.factories import Population, populate
from worker import runs
from worker.artifacts import MemoryStore
from worker.pipeline import phases
from worker.pipeline.score_rows import ScoreRows
from worker.pipeline.writeback import write_shard_scores

SHARD_SIZE = 150


@pytest.fixture
def population(engine: Engine) -> Population:
    """400 customers in three shards of 150, 150 and 100."""
    return populate(engine, customers=400, seed=5)


def _breaking(
    monkeypatch: pytest.MonkeyPatch, name: str, broken_first_id: int
) -> Callable[[], None]:
    """Make phases.<name> raise for the shard whose first customer id is given; returns a fix."""
    original = getattr(phases, name)

    def broken(*args: Any, **kwargs: Any) -> Any:
        data = args[0] if args else None
        ids = getattr(data, "customer_ids", None)
        if ids is not None and int(ids[0]) == broken_first_id:
            raise RuntimeError("disk on fire")
        if name == "fit_models":
            raise RuntimeError("disk on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(phases, name, broken)
    return lambda: monkeypatch.setattr(phases, name, original)


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("fit_inputs", "features of shard 1 failed: RuntimeError: disk on fire"),
        ("fit_models", "fit failed: RuntimeError: disk on fire"),
        ("predict_shard", "scores of shard 1 failed: RuntimeError: disk on fire"),
    ],
)
def test_a_failure_is_recorded_on_the_run_and_its_shard(
    engine: Engine,
    population: Population,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    error: str,
) -> None:
    _breaking(monkeypatch, target, population.customer_ids[SHARD_SIZE])

    with pytest.raises(RuntimeError, match="disk on fire"):
        runs.start_run(
            as_of=population.as_of, shard_size=SHARD_SIZE, engine=engine, store=MemoryStore()
        )

    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=1)
        assert run is not None
        shards = {shard.shard_no: shard for shard in run_shards(session=session, run_id=1)}
    assert (run.status, run.error) == (RunStatus.FAILED, error)
    assert run.finished_at is not None
    if target != "fit_models":
        assert (shards[1].status, shards[1].error) == ("failed", "RuntimeError: disk on fire")
        assert shards[1].phase == ("features" if target == "fit_inputs" else "scores")
    assert shards[0].error is None


def test_resume_reruns_only_the_failed_shard_when_the_fit_is_kept(
    engine: Engine, population: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    repair = _breaking(monkeypatch, "predict_shard", population.customer_ids[SHARD_SIZE])
    with pytest.raises(RuntimeError):
        runs.start_run(as_of=population.as_of, shard_size=SHARD_SIZE, engine=engine, store=store)
    with unit_of_work(engine) as session:
        assert score_count(session=session, run_id=1) < 400
        first_launch = launch_token(require_run(session=session, run_id=1))
    repair()

    plan = runs.resume_plan(1, engine=engine, store=store)
    runs.launch(plan, engine=engine, store=store)

    assert (plan.catalog, plan.features, plan.fit) == (False, (), False)
    assert 1 in plan.scores and 0 not in plan.scores
    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=1)
        assert run is not None
        assert (run.status, run.error, run.shards_done) == (RunStatus.SUCCEEDED, None, 3)
        assert score_count(session=session, run_id=1) == 400
        # The models of the first launch were kept, not refitted.
        assert run.params["fitted_by"] == first_launch


def test_resume_without_the_intermediate_data_refits_and_rescores_everything(
    engine: Engine, population: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    repair = _breaking(monkeypatch, "predict_shard", population.customer_ids[SHARD_SIZE])
    with pytest.raises(RuntimeError):
        runs.start_run(
            as_of=population.as_of, shard_size=SHARD_SIZE, engine=engine, store=MemoryStore()
        )
    repair()

    # A new process: the failed run's in-memory artifacts are gone.
    fresh = MemoryStore()
    plan = runs.resume_plan(1, engine=engine, store=fresh)
    runs.launch(plan, engine=engine, store=fresh)

    assert plan == runs.Plan(1, catalog=True, features=(0, 1, 2), fit=True, scores=(0, 1, 2))
    with unit_of_work(engine) as session:
        run = get_run(session=session, run_id=1)
        assert run is not None and (run.status, run.shards_done) == (RunStatus.SUCCEEDED, 3)
        assert score_count(session=session, run_id=1) == 400


def test_a_succeeded_run_cannot_be_resumed(engine: Engine, population: Population) -> None:
    run_id = runs.start_run(
        as_of=population.as_of, shard_size=SHARD_SIZE, engine=engine, store=MemoryStore()
    )

    with pytest.raises(runs.RunNotResumable, match=f"scoring run {run_id} already succeeded"):
        runs.resume_plan(run_id, engine=engine, store=MemoryStore())


def test_a_job_of_a_superseded_launch_records_nothing(
    engine: Engine, population: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    repair = _breaking(monkeypatch, "predict_shard", population.customer_ids[SHARD_SIZE])
    with pytest.raises(RuntimeError):
        runs.start_run(as_of=population.as_of, shard_size=SHARD_SIZE, engine=engine, store=store)
    repair()
    with unit_of_work(engine) as session:
        old = launch_token(require_run(session=session, run_id=1))
        launch_run(session=session, run_id=1, launch="newer")
    assert old is not None

    phases.shard_scores(engine, store, 1, 1, old)

    with unit_of_work(engine) as session:
        shard = run_shards(session=session, run_id=1)[1]
        assert (shard.status, shard.phase) == ("failed", "scores")
        first, last = shard.customer_id_min, shard.customer_id_max
        assert score_count(session=session, run_id=1, id_min=first, id_max=last) == 0


def test_a_write_of_a_superseded_launch_raises_before_touching_scores(
    engine: Engine, population: Population
) -> None:
    store = MemoryStore()
    run_id = runs.start_run(
        as_of=population.as_of, shard_size=SHARD_SIZE, engine=engine, store=store
    )
    with pytest.raises(StaleLaunch, match=f"scoring run {run_id} was relaunched"):
        write_shard_scores(
            engine,
            run_id=run_id,
            launch="not-the-current-one",
            shard_no=0,
            id_min=1,
            id_max=150,
            rows=ScoreRows((), 0),
            started=0.0,
        )
    with unit_of_work(engine) as session:
        assert score_count(session=session, run_id=run_id) == 400
