"""Scoring run records: create a run with its shards, track progress, failures and resumes.

A run fans out into shards of contiguous customer-id ranges. A shard goes through two
phases: `features` (its fit inputs) and `scores` (predictions and write-back); between them
the run is fitted once. Phase completion lives here, in the database, so that a failed run
can be resumed from where it stopped. Services flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, func, inspect, select, text, update
from sqlmodel import Session, col

from domain.clock import utcnow
from domain.scoring.models import RunStatus, Score, ScoringRun, ScoringShard

FEATURES = "features"
SCORES = "scores"
FIT = "fit"
# params key: the launch whose fit produced the run's models.
FITTED_BY = "fitted_by"
SCORE = cast(Table, inspect(Score).local_table)
SHARD = cast(Table, inspect(ScoringShard).local_table)
RUN = cast(Table, inspect(ScoringRun).local_table)


class ScoringError(Exception):
    """A scoring run cannot do what was asked."""


class RunNotFound(ScoringError):
    """No run with that id."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"scoring run {run_id} does not exist")
        self.run_id = run_id


class ShardNotFound(ScoringError):
    """No shard with that number in the run."""

    def __init__(self, run_id: int, shard_no: int) -> None:
        super().__init__(f"scoring run {run_id} has no shard {shard_no}")


class RunNotResumable(ScoringError):
    """The run has nothing left to do."""


class StaleLaunch(ScoringError):
    """The run was launched again: work of the earlier launch must not be recorded."""

    def __init__(self, run_id: int, launch: str) -> None:
        super().__init__(f"scoring run {run_id} was relaunched; launch {launch} is superseded")
        self.run_id = run_id
        self.launch = launch


def shard_ranges(*, session: Session, shard_size: int) -> list[tuple[int, int]]:
    """Contiguous customer-id ranges of about `shard_size` customers each, covering everyone."""
    if shard_size < 1:
        raise ScoringError(f"shard size must be at least 1, not {shard_size}")
    starts = [
        int(value)
        for value in session.execute(
            text(
                "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM customer)"
                " numbered WHERE (rn - 1) % :size = 0 ORDER BY id"
            ),
            {"size": shard_size},
        ).scalars()
    ]
    if not starts:
        return []
    last = int(session.execute(text("SELECT MAX(id) FROM customer")).scalar_one())
    ends = [start - 1 for start in starts[1:]] + [last]
    return list(zip(starts, ends, strict=True))


def create_run(
    *,
    session: Session,
    as_of: date,
    model_version: str,
    shard_size: int,
    params: dict[str, Any] | None = None,
) -> ScoringRun:
    """A queued run over every current customer, split into shards."""
    ranges = shard_ranges(session=session, shard_size=shard_size)
    customers = int(session.execute(text("SELECT COUNT(*) FROM customer")).scalar_one())
    run = ScoringRun(
        as_of=as_of,
        model_version=model_version,
        shard_count=len(ranges),
        params={**(params or {}), "shard_size": shard_size, "customers": customers},
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    for shard_no, (id_min, id_max) in enumerate(ranges):
        session.add(
            ScoringShard(
                run_id=run.id, shard_no=shard_no, customer_id_min=id_min, customer_id_max=id_max
            )
        )
    session.flush()
    return run


def require_run(*, session: Session, run_id: int, lock: bool = False) -> ScoringRun:
    """The run, or RunNotFound; `lock` holds its row until the transaction ends."""
    run = session.get(ScoringRun, run_id, with_for_update=lock, populate_existing=lock)
    if run is None:
        raise RunNotFound(run_id)
    return run


def require_shard(*, session: Session, run_id: int, shard_no: int) -> ScoringShard:
    """The run's shard with this number, or ShardNotFound."""
    shard = session.scalars(
        select(ScoringShard).where(
            col(ScoringShard.run_id) == run_id, col(ScoringShard.shard_no) == shard_no
        )
    ).first()
    if shard is None:
        raise ShardNotFound(run_id, shard_no)
    return shard


def launch_token(run: ScoringRun) -> str | None:
    """The token of the run's current launch; jobs of an earlier launch stand down."""
    token = run.params.get("launch")
    return str(token) if token is not None else None


def fitted_by(run: ScoringRun) -> str | None:
    """The launch whose fit produced the run's models, if they were fitted."""
    if FIT not in run.timings:
        return None
    token = run.params.get(FITTED_BY)
    return str(token) if token is not None else None


def check_launch(
    *, session: Session, run_id: int, launch: str, exclusive: bool = False
) -> ScoringRun:
    """The run, locked until the transaction ends, if `launch` is still its current launch.

    Shard writers take a key-share lock, which they can all hold at once; a new launch
    (and the run-level phases) take the exclusive lock, so a launch cannot change while
    an earlier launch's write is in flight, and a write that starts later sees the change.
    """
    run = session.get(
        ScoringRun,
        run_id,
        with_for_update={"key_share": True, "read": True} if not exclusive else True,
        populate_existing=True,
    )
    if run is None:
        raise RunNotFound(run_id)
    if launch_token(run) != launch:
        raise StaleLaunch(run_id, launch)
    return run


def launch_run(*, session: Session, run_id: int, launch: str) -> ScoringRun:
    """Mark the run running under a new launch token."""
    run = require_run(session=session, run_id=run_id, lock=True)
    if run.status == RunStatus.SUCCEEDED:
        raise RunNotResumable(f"scoring run {run_id} already succeeded")
    run.params = {**run.params, "launch": launch}
    run.status = RunStatus.RUNNING
    run.error = None
    run.started_at = utcnow()
    run.finished_at = None
    session.flush()
    return run


def start_shard(*, session: Session, run_id: int, shard_no: int, phase: str) -> ScoringShard:
    """The shard begins a phase."""
    shard = require_shard(session=session, run_id=run_id, shard_no=shard_no)
    shard.phase = phase
    shard.status = RunStatus.RUNNING
    shard.started_at = utcnow()
    shard.finished_at = None
    session.flush()
    return shard


def finish_shard_features(
    *, session: Session, run_id: int, launch: str, shard_no: int, customers: int, seconds: float
) -> None:
    """The shard's fit inputs are stored: it waits for the fit, then for its scores."""
    check_launch(session=session, run_id=run_id, launch=launch)
    shard = require_shard(session=session, run_id=run_id, shard_no=shard_no)
    shard.phase = SCORES
    shard.status = RunStatus.QUEUED
    shard.customers = customers
    shard.seconds = seconds
    shard.error = None
    shard.finished_at = utcnow()
    session.flush()


def finish_shard_scores(
    *, session: Session, run_id: int, shard_no: int, customers: int, seconds: float
) -> bool:
    """The shard's scores are written; True when it was not already counted as done.

    Call it in the transaction that wrote the scores, after `check_launch`.
    """
    newly = (
        session.connection()
        .execute(
            update(SHARD)
            .where(
                SHARD.c.run_id == run_id,
                SHARD.c.shard_no == shard_no,
                ~((SHARD.c.phase == SCORES) & (SHARD.c.status == RunStatus.SUCCEEDED)),
            )
            .values(phase=SCORES, status=RunStatus.SUCCEEDED)
        )
        .rowcount
    )
    shard = require_shard(session=session, run_id=run_id, shard_no=shard_no)
    session.refresh(shard)
    shard.customers = customers
    shard.seconds = seconds
    shard.error = None
    shard.finished_at = utcnow()
    if newly:
        # An increment, not a recount: concurrent shards cannot see each other's rows yet.
        session.execute(
            update(RUN).where(RUN.c.id == run_id).values(shards_done=RUN.c.shards_done + 1)
        )
    session.flush()
    return bool(newly)


def record_fit(
    *,
    session: Session,
    run_id: int,
    launch: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    timings: dict[str, Any],
) -> None:
    """Store the fitted figures; the fit phase is done, its models stored under `launch`."""
    run = check_launch(session=session, run_id=run_id, launch=launch, exclusive=True)
    run.params = {**run.params, **params, FITTED_BY: launch}
    run.metrics = {**run.metrics, **metrics}
    run.timings = {**run.timings, **timings, FIT: timings.get(FIT, {})}
    session.flush()


def succeed_run(
    *,
    session: Session,
    run_id: int,
    launch: str,
    metrics: dict[str, Any],
    timings: dict[str, Any],
) -> ScoringRun:
    """Every shard is scored and the run's figures are complete."""
    run = check_launch(session=session, run_id=run_id, launch=launch, exclusive=True)
    if run.shards_done != run.shard_count:
        raise ScoringError(
            f"scoring run {run_id} has {run.shards_done} of {run.shard_count} shards scored"
        )
    run.metrics = {**run.metrics, **metrics}
    run.timings = {**run.timings, **timings}
    run.status = RunStatus.SUCCEEDED
    run.error = None
    run.finished_at = utcnow()
    session.flush()
    return run


def record_failure(
    *,
    session: Session,
    run_id: int,
    error: str,
    phase: str,
    shard_no: int | None = None,
    final: bool = True,
) -> None:
    """A job failed: a retry is coming (final=False), or the run has failed."""
    where = f"{phase} of shard {shard_no}" if shard_no is not None else phase
    if shard_no is not None:
        shard = require_shard(session=session, run_id=run_id, shard_no=shard_no)
        shard.phase = phase
        shard.status = RunStatus.FAILED if final else RunStatus.QUEUED
        shard.error = error if final else f"retrying after: {error}"
        shard.finished_at = utcnow()
    if final:
        run = require_run(session=session, run_id=run_id, lock=True)
        run.status = RunStatus.FAILED
        run.error = f"{where} failed: {error}"
        run.finished_at = utcnow()
    session.flush()


def prepare_resume(
    *,
    session: Session,
    run_id: int,
    features: Collection[int],
    scores: Collection[int],
    refit: bool,
) -> ScoringRun:
    """Put the given shards back to their phase's start and forget the fit if it is redone."""
    run = require_run(session=session, run_id=run_id, lock=True)
    if run.status == RunStatus.SUCCEEDED and not (features or scores or refit):
        raise RunNotResumable(f"scoring run {run_id} already succeeded: nothing to resume")
    redo = {no: SCORES for no in scores} | {no: FEATURES for no in features}
    for shard_no, phase in redo.items():
        shard = require_shard(session=session, run_id=run_id, shard_no=shard_no)
        shard.phase = phase
        shard.status = RunStatus.QUEUED
        shard.error = None
    if refit:
        run.timings = {key: value for key, value in run.timings.items() if key != FIT}
    session.flush()
    run.shards_done = int(
        session.execute(
            select(func.count())
            .select_from(ScoringShard)
            .where(
                col(ScoringShard.run_id) == run_id,
                col(ScoringShard.phase) == SCORES,
                col(ScoringShard.status) == RunStatus.SUCCEEDED,
            )
        ).scalar_one()
    )
    run.status = RunStatus.QUEUED
    run.error = None
    session.flush()
    return run


def delete_shard_scores(*, session: Session, run_id: int, id_min: int, id_max: int) -> int:
    """Delete the run's scores of customers in [id_min, id_max]; how many there were."""
    result = session.connection().execute(
        delete(SCORE).where(SCORE.c.run_id == run_id, SCORE.c.customer_id.between(id_min, id_max))
    )
    return int(result.rowcount)
