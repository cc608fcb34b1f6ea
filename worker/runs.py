"""Fan a scoring run out into jobs: features per shard → fit → scores per shard → finish.

With Redis the phases become RQ jobs chained with `depends_on`, so every worker on every
machine takes shards as they come and the fit starts when the last shard's features are in.
Without Redis (the embedded default) the same phases run here, one after the other.

A failed run is resumed by planning only what is missing: shards whose phase did not finish
or whose intermediate data expired. When the fitted models are gone the fit runs again, and
then every shard is scored again, so that one run never mixes two fits.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from rq import Callback
from rq.job import Job
from sqlalchemy.engine import Engine

from domain.db import get_engine, unit_of_work
from domain.scoring.models import RunStatus
from domain.scoring.queries import run_shards
from domain.scoring.service import (
    FEATURES,
    SCORES,
    RunNotResumable,
    create_run,
    fitted_by,
    launch_run,
    prepare_resume,
    record_failure,
    require_run,
)
from worker.artifacts import ArtifactStore, get_store
from worker.pipeline import phases
from worker.queue import DEFAULT_RETRY, SCORING, get_queue, queues_enabled

DEFAULT_SHARD_SIZE = 100_000
# Shards of a phase in flight at once when running in-process on PostgreSQL.
IN_PROCESS_SHARDS = 2
JOB_TIMEOUT = 3600
FAILURE_TTL = 7 * 24 * 3600
# Jobs are enqueued by name: the job module imports this one.
JOBS = "worker.jobs.scoring"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a launch of a run executes."""

    run_id: int
    catalog: bool
    features: tuple[int, ...]
    fit: bool
    scores: tuple[int, ...]


def new_run(
    *,
    as_of: date,
    shard_size: int = DEFAULT_SHARD_SIZE,
    seed: int = 0,
    engine: Engine | None = None,
) -> int:
    """Record a queued run over every current customer, split into shards; returns its id."""
    with unit_of_work(engine or get_engine()) as session:
        run = create_run(
            session=session,
            as_of=as_of,
            model_version=phases.MODEL_VERSION,
            shard_size=shard_size,
            params={"seed": seed},
        )
        assert run.id is not None
        return run.id


def start_run(
    *,
    as_of: date,
    shard_size: int = DEFAULT_SHARD_SIZE,
    seed: int = 0,
    engine: Engine | None = None,
    store: ArtifactStore | None = None,
) -> int:
    """Create a run over every customer and launch it; returns the run id."""
    run_id = new_run(as_of=as_of, shard_size=shard_size, seed=seed, engine=engine)
    launch(full_plan(run_id, engine=engine), engine=engine, store=store)
    return run_id


def full_plan(run_id: int, *, engine: Engine | None = None) -> Plan:
    """Every phase of every shard (a first launch, or a rerun of a run)."""
    with unit_of_work(engine or get_engine()) as session:
        shards = tuple(shard.shard_no for shard in run_shards(session=session, run_id=run_id))
    return Plan(run_id, catalog=True, features=shards, fit=True, scores=shards)


def resume_plan(
    run_id: int, *, engine: Engine | None = None, store: ArtifactStore | None = None
) -> Plan:
    """Only the phases a failed or interrupted run still lacks."""
    store = store or get_store()
    with unit_of_work(engine or get_engine()) as session:
        run = require_run(session=session, run_id=run_id)
        if run.status == RunStatus.SUCCEEDED:
            raise RunNotResumable(f"scoring run {run_id} already succeeded: nothing to resume")
        shards = run_shards(session=session, run_id=run_id)
        fitter = fitted_by(run)
    everyone = tuple(shard.shard_no for shard in shards)
    if fitter is not None and store.exists(run_id, phases.models_artifact(fitter)):
        scores = tuple(
            shard.shard_no
            for shard in shards
            if not (
                shard.phase == SCORES
                and shard.status == RunStatus.SUCCEEDED
                and store.exists(run_id, phases.channels_artifact(shard.shard_no))
            )
        )
        return Plan(run_id, catalog=False, features=(), fit=False, scores=scores)
    catalog_kept = store.exists(run_id, phases.CATALOG)
    # Fit inputs of another catalog would not line up with a new one: all or nothing.
    features = tuple(
        shard.shard_no
        for shard in shards
        if not (
            catalog_kept
            and shard.phase == SCORES
            and store.exists(run_id, phases.features_artifact(shard.shard_no))
        )
    )
    return Plan(run_id, catalog=not catalog_kept, features=features, fit=True, scores=everyone)


def launch(plan: Plan, *, engine: Engine | None = None, store: ArtifactStore | None = None) -> str:
    """Reset the planned shards, mark the run running under a new token, and run or enqueue."""
    engine = engine or get_engine()
    store = store or get_store()
    token = secrets.token_hex(4)
    with unit_of_work(engine) as session:
        prepare_resume(
            session=session,
            run_id=plan.run_id,
            features=plan.features,
            scores=plan.scores,
            refit=plan.fit,
        )
        launch_run(session=session, run_id=plan.run_id, launch=token)
    if plan.catalog:
        phases.prepare(engine, store, plan.run_id)
    if queues_enabled():
        _enqueue(plan, token)
    else:
        _run_here(plan, token, engine, store)
    return token


def _run_here(plan: Plan, token: str, engine: Engine, store: ArtifactStore) -> None:
    """Every planned phase in this process, in order; the first failure fails the run.

    On PostgreSQL two shards of a phase are in flight at once: while one waits for the
    database (extracting, writing back) the other computes, so both cores work.
    """
    run_id = plan.run_id
    workers = IN_PROCESS_SHARDS if engine.dialect.name == "postgresql" else 1

    def features(shard_no: int) -> None:
        with _recorded(engine, run_id, FEATURES, shard_no):
            phases.shard_features(engine, store, run_id, shard_no, token)

    def scores(shard_no: int) -> None:
        with _recorded(engine, run_id, SCORES, shard_no):
            phases.shard_scores(engine, store, run_id, shard_no, token)

    _each(features, plan.features, workers)
    if plan.fit:
        with _recorded(engine, run_id, "fit", None):
            phases.fit(engine, store, run_id, token)
    _each(scores, plan.scores, workers)
    with _recorded(engine, run_id, "finish", None):
        phases.finish(engine, store, run_id, token)


def _each(step: Callable[[int], None], shards: tuple[int, ...], workers: int) -> None:
    """Run the step for every shard, `workers` at a time; stop at the first failure."""
    if workers <= 1 or len(shards) <= 1:
        for shard_no in shards:
            step(shard_no)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = [pool.submit(step, shard_no) for shard_no in shards]
        try:
            for done in as_completed(pending):
                done.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


@contextmanager
def _recorded(engine: Engine, run_id: int, phase: str, shard_no: int | None) -> Iterator[None]:
    """A failure inside fails the run (in-process there is no retry), then propagates."""
    try:
        yield
    except Exception as exc:
        with unit_of_work(engine) as session:
            record_failure(
                session=session, run_id=run_id, error=describe(exc), phase=phase, shard_no=shard_no
            )
        raise


def describe(exc: BaseException) -> str:
    """An exception as one line for the run record."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _enqueue(plan: Plan, token: str) -> None:
    """The planned phases as RQ jobs chained by dependencies."""
    queue = get_queue(SCORING)
    run_id = plan.run_id

    def put(func: str, args: tuple[Any, ...], name: str, after: list[Job]) -> Job:
        return queue.enqueue(
            f"{JOBS}.{func}",
            args=args,
            job_id=f"scoring-{run_id}-{token}-{name}",
            depends_on=after or None,
            retry=DEFAULT_RETRY,
            on_failure=Callback(f"{JOBS}.failed"),
            job_timeout=JOB_TIMEOUT,
            failure_ttl=FAILURE_TTL,
            description=f"scoring run {run_id}: {name}",
        )

    features = [
        put("shard_features", (run_id, k, token), f"features-{k}", []) for k in plan.features
    ]
    after_fit = [put("fit", (run_id, token), "fit", features)] if plan.fit else []
    scores = [
        put("shard_scores", (run_id, k, token), f"scores-{k}", after_fit) for k in plan.scores
    ]
    put("finish", (run_id, token), "finish", scores or after_fit)
