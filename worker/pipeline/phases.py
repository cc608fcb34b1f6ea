"""The four phases of a scoring run, each one job: features per shard → fit → scores per shard
→ finish. Every phase reads what it needs from the database and the artifact store, writes its
results back to them, and records its progress on the run, so any of them can run on any
worker, again, after a crash.

A phase called with a launch token other than the run's current one stands down: after a
resume, jobs left over from the earlier launch must not mix their results into the new one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from domain.clock import utcnow
from domain.db import unit_of_work
from domain.scoring.models import ScoringShard
from domain.scoring.queries import run_shards
from domain.scoring.service import (
    FEATURES,
    SCORES,
    StaleLaunch,
    finish_shard_features,
    fitted_by,
    launch_token,
    record_fit,
    require_run,
    require_shard,
    start_shard,
    succeed_run,
)
from worker.artifacts import ArtifactMissing, ArtifactStore
from worker.pipeline.bundle import Arrays, pack, unpack
from worker.pipeline.catalog import Catalog, load_catalog
from worker.pipeline.channel_report import ChannelInputs, channel_inputs, channel_report
from worker.pipeline.extract import ShardData, load_shard, pack_shard, snapshot, unpack_shard
from worker.pipeline.figures import StepTimer, add_seconds, rounded
from worker.pipeline.fit import fit_models, pack_models, unpack_models
from worker.pipeline.fit_inputs import FitInputs, fit_inputs
from worker.pipeline.predict import predict_shard
from worker.pipeline.score_rows import score_rows
from worker.pipeline.writeback import write_shard_scores

log = logging.getLogger(__name__)

MODEL_VERSION = "lifecycle-2026.11"
# Customers whose whole history the sample-based fits see: the propensity classifier trains
# on 200 000 of them and calibrates on the rest; rhythm and sequence fits cap at 200 000.
SAMPLE_CUSTOMERS = 300_000
CATALOG = "catalog"


def models_artifact(launch: str) -> str:
    """Name of the models fitted by a launch (a late job of an older launch cannot clash)."""
    return f"models:{launch}"


def features_artifact(shard_no: int) -> str:
    """Name of a shard's fit inputs."""
    return f"features:{shard_no}"


def history_artifact(shard_no: int) -> str:
    """Name of a shard's extracted history, kept for its scores phase."""
    return f"history:{shard_no}"


def channels_artifact(shard_no: int) -> str:
    """Name of a shard's share of the channel report."""
    return f"channels:{shard_no}"


def write_artifact(shard_no: int) -> str:
    """Name of the seconds a shard's write-back took."""
    return f"write:{shard_no}"


@dataclass(frozen=True, slots=True)
class _Context:
    """What a phase reads from the run record before its work starts."""

    as_of: date
    model_version: str
    sample_rate: float
    seed: int
    fitted_by: str | None

    @property
    def moment(self) -> datetime:
        """Midnight UTC of the as-of date: rows before it are history."""
        return datetime(self.as_of.year, self.as_of.month, self.as_of.day, tzinfo=UTC)

    @property
    def cutoff(self) -> float:
        """The as-of moment in days since 1970."""
        return float((self.as_of - date(1970, 1, 1)).days)


def _current(engine: Engine, run_id: int, launch: str) -> _Context | None:
    """The run's context, or None when this launch is not the run's current one."""
    with unit_of_work(engine) as session:
        run = require_run(session=session, run_id=run_id)
        if launch_token(run) != launch:
            log.info("run %s: launch %s was superseded; standing down", run_id, launch)
            return None
        customers = int(run.params.get("customers", 0))
        return _Context(
            as_of=run.as_of,
            model_version=run.model_version,
            sample_rate=1.0 if customers <= SAMPLE_CUSTOMERS else SAMPLE_CUSTOMERS / customers,
            seed=int(run.params.get("seed", 0)),
            fitted_by=fitted_by(run),
        )


@contextmanager
def _standing_down(run_id: int) -> Iterator[None]:
    """A job of a superseded launch stops quietly where it would record its work."""
    try:
        yield
    except StaleLaunch:
        log.info("run %s was relaunched while this job ran; its work is not recorded", run_id)


def prepare(engine: Engine, store: ArtifactStore, run_id: int) -> None:
    """Fix the run's product and channel index spaces before its shards start."""
    with engine.connect() as connection:
        catalog = load_catalog(connection)
    store.put(run_id, CATALOG, pack(catalog, CATALOG))


def shard_features(
    engine: Engine, store: ArtifactStore, run_id: int, shard_no: int, launch: str
) -> None:
    """Phase 1 for one shard: extract its history and store its fit inputs."""
    context = _current(engine, run_id, launch)
    if context is None:
        return
    started = time.perf_counter()
    shard = _start(engine, run_id, shard_no, FEATURES)
    catalog = unpack(Catalog, store.get(run_id, CATALOG), CATALOG)
    timer = StepTimer()
    with timer.step("extract"):
        data = _load(engine, shard, context, catalog)
    with timer.step("fit_inputs"):
        inputs = fit_inputs(
            data, cutoff=context.cutoff, sample_rate=context.sample_rate, seed=context.seed
        )
    with timer.step("store"):
        # The scores phase reads the same snapshot back instead of querying again.
        store.put(run_id, history_artifact(shard_no), pack_shard(data))
    store.put(run_id, features_artifact(shard_no), _with_seconds(pack(inputs, "inputs"), timer))
    with _standing_down(run_id), unit_of_work(engine) as session:
        finish_shard_features(
            session=session,
            run_id=run_id,
            launch=launch,
            shard_no=shard_no,
            customers=data.n_customers,
            seconds=round(time.perf_counter() - started, 3),
        )


def fit(engine: Engine, store: ArtifactStore, run_id: int, launch: str) -> None:
    """Phase 2: fit the run's models from every shard's fit inputs."""
    context = _current(engine, run_id, launch)
    if context is None:
        return
    fit_started = utcnow()
    timer = StepTimer()
    with unit_of_work(engine) as session:
        shards = run_shards(session=session, run_id=run_id)
    feature_seconds: dict[str, float] = {}
    parts: list[FitInputs] = []
    with timer.step("load"):
        for shard in shards:
            arrays = store.get(run_id, features_artifact(shard.shard_no))
            parts.append(unpack(FitInputs, arrays, "inputs"))
            add_seconds(feature_seconds, _seconds(arrays))
        catalog = unpack(Catalog, store.get(run_id, CATALOG), CATALOG)
    result = fit_models(parts, catalog=catalog, cutoff=context.cutoff, seed=context.seed)
    add_seconds(timer.seconds, result.seconds)
    with timer.step("store"):
        store.put(run_id, models_artifact(launch), pack_models(result.models))
    finished = utcnow()
    timings = {
        FEATURES: {**rounded(feature_seconds), "wall": _wall(shards)},
        "fit": {
            **rounded(timer.seconds),
            "wall": round((finished - fit_started).total_seconds(), 3),
            "finished_at": finished.isoformat(),
        },
    }
    with _standing_down(run_id), unit_of_work(engine) as session:
        record_fit(
            session=session,
            run_id=run_id,
            launch=launch,
            params=result.params,
            metrics=result.metrics,
            timings=timings,
        )


def shard_scores(
    engine: Engine, store: ArtifactStore, run_id: int, shard_no: int, launch: str
) -> None:
    """Phase 3 for one shard: predict with the run's models and write the scores back."""
    context = _current(engine, run_id, launch)
    if context is None:
        return
    started = time.perf_counter()
    shard = _start(engine, run_id, shard_no, SCORES)
    timer = StepTimer()
    with timer.step("load_models"):
        models = unpack_models(store.get(run_id, _fitted_models(run_id, context)))
    with timer.step("extract"):
        data = _history(engine, store, shard, context, models.catalog)
    scores = predict_shard(data, models, cutoff=context.cutoff, timer=timer)
    with timer.step("encode"):
        rows = score_rows(
            scores,
            run_id=run_id,
            customer_ids=data.customer_ids,
            model_version=context.model_version,
            product_ids=models.catalog.product_ids,
        )
    with timer.step("channels"):
        shares = channel_inputs(data, clv=scores.clv, churn_risk=scores.churn_risk)
    # Stored before the scores commit: a shard marked done always has its share.
    store.put(run_id, channels_artifact(shard_no), _with_seconds(pack(shares, "channels"), timer))
    writing = StepTimer()
    with _standing_down(run_id):
        with writing.step("write"):
            write_shard_scores(
                engine,
                run_id=run_id,
                launch=launch,
                shard_no=shard_no,
                id_min=shard.customer_id_min,
                id_max=shard.customer_id_max,
                rows=rows,
                started=started,
            )
        # Only known once the write is done; a worker lost right here just leaves it out.
        store.put(run_id, write_artifact(shard_no), _with_seconds({}, writing))
        store.delete(run_id, history_artifact(shard_no))


def finish(engine: Engine, store: ArtifactStore, run_id: int, launch: str) -> None:
    """Phase 4: channel quality over everyone, the run's last figures, and success."""
    context = _current(engine, run_id, launch)
    if context is None:
        return
    timer = StepTimer()
    with unit_of_work(engine) as session:
        shards = run_shards(session=session, run_id=run_id)
        run = require_run(session=session, run_id=run_id)
        started_at = run.started_at
    score_seconds: dict[str, float] = {}
    parts: list[ChannelInputs] = []
    with timer.step("load"):
        catalog = unpack_models(store.get(run_id, _fitted_models(run_id, context))).catalog
        for shard in shards:
            arrays = store.get(run_id, channels_artifact(shard.shard_no))
            parts.append(unpack(ChannelInputs, arrays, "channels"))
            add_seconds(score_seconds, _seconds(arrays))
            if store.exists(run_id, write_artifact(shard.shard_no)):
                add_seconds(
                    score_seconds, _seconds(store.get(run_id, write_artifact(shard.shard_no)))
                )
    with timer.step("channels"):
        report = channel_report(parts, catalog)
    finished = utcnow()
    timings: dict[str, Any] = {
        SCORES: {**rounded(score_seconds), "wall": _wall(shards)},
        "finish": rounded(timer.seconds),
    }
    if started_at is not None:
        timings["total"] = round((finished - started_at).total_seconds(), 3)
    with _standing_down(run_id):
        with unit_of_work(engine) as session:
            succeed_run(
                session=session,
                run_id=run_id,
                launch=launch,
                metrics={"channels": report},
                timings=timings,
            )
        store.drop_run(run_id)


def _fitted_models(run_id: int, context: _Context) -> str:
    if context.fitted_by is None:
        raise ArtifactMissing(run_id, "models (the run was not fitted)")
    return models_artifact(context.fitted_by)


def _start(engine: Engine, run_id: int, shard_no: int, phase: str) -> ScoringShard:
    with unit_of_work(engine) as session:
        start_shard(session=session, run_id=run_id, shard_no=shard_no, phase=phase)
        return require_shard(session=session, run_id=run_id, shard_no=shard_no)


def _load(engine: Engine, shard: ScoringShard, context: _Context, catalog: Catalog) -> ShardData:
    with snapshot(engine) as connection:
        return load_shard(
            connection,
            lo=shard.customer_id_min,
            hi=shard.customer_id_max,
            as_of=context.moment,
            catalog=catalog,
        )


def _history(
    engine: Engine, store: ArtifactStore, shard: ScoringShard, context: _Context, catalog: Catalog
) -> ShardData:
    """The shard's history from its features phase, or from the database when it is gone."""
    name = history_artifact(shard.shard_no)
    if store.exists(shard.run_id, name):
        return unpack_shard(store.get(shard.run_id, name))
    return _load(engine, shard, context, catalog)


def _with_seconds(arrays: Arrays, timer: StepTimer) -> Arrays:
    return {
        **arrays,
        **{f"seconds.{name}": np.array(value) for name, value in timer.seconds.items()},
    }


def _seconds(arrays: Arrays) -> dict[str, float]:
    return {
        key.removeprefix("seconds."): float(value)
        for key, value in arrays.items()
        if key.startswith("seconds.")
    }


def _wall(shards: list[ScoringShard]) -> float | None:
    """Seconds from the first shard's start to the last shard's end in their latest phase."""
    starts = [shard.started_at for shard in shards if shard.started_at is not None]
    ends = [shard.finished_at for shard in shards if shard.finished_at is not None]
    if not starts or not ends:
        return None
    return round((max(ends) - min(starts)).total_seconds(), 3)
