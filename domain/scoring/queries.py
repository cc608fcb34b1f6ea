"""Read-only look-ups of scoring runs, their shards and the scores they wrote."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, func, inspect, select
from sqlmodel import Session, col

from domain.scoring.models import RunStatus, Score, ScoringRun, ScoringShard

SCORE = cast(Table, inspect(Score).local_table)
# Keeps IN lists well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 2000


class ScoreRecord(NamedTuple):
    """A score as a plain row: what reads need, without an ORM object behind it.

    Hot reads (the API's pages and loaders) build thousands of them a second: a tuple costs
    a fraction of an ORM object and reads its fields several times faster than a `Row`.
    Select `SCORE_RECORD_COLUMNS` and build with `ScoreRecord._make(row)`.
    """

    id: int
    run_id: int
    customer_id: int
    model_version: str
    recency_days: int | None
    frequency: int | None
    monetary_minor: int | None
    rfm_r: int | None
    rfm_f: int | None
    rfm_m: int | None
    rfm_segment: str | None
    p_alive: float | None
    expected_purchases_90d: float | None
    predicted_clv_minor: int | None
    churn_risk: float | None
    reactivation_propensity: float | None
    next_order_date: date | None
    reasons: list[dict[str, Any] | str]
    cross_sell: list[dict[str, Any]]


SCORE_RECORD_COLUMNS = tuple(SCORE.c[name] for name in ScoreRecord._fields)


@dataclass(frozen=True)
class RunOverview:
    """A run with its shards in order."""

    run: ScoringRun
    shards: list[ScoringShard]


def get_run(*, session: Session, run_id: int) -> ScoringRun | None:
    """The run with this id, if any."""
    return session.get(ScoringRun, run_id)


def run_shards(*, session: Session, run_id: int) -> list[ScoringShard]:
    """The run's shards by number."""
    statement = (
        select(ScoringShard)
        .where(col(ScoringShard.run_id) == run_id)
        .order_by(col(ScoringShard.shard_no))
    )
    return list(session.scalars(statement))


def list_runs(*, session: Session, limit: int = 20) -> list[RunOverview]:
    """The latest runs, newest first, each with its shards."""
    runs = list(
        session.scalars(select(ScoringRun).order_by(col(ScoringRun.id).desc()).limit(limit))
    )
    if not runs:
        return []
    shards: dict[int, list[ScoringShard]] = {run.id: [] for run in runs if run.id is not None}
    statement = (
        select(ScoringShard)
        .where(col(ScoringShard.run_id).in_(list(shards)))
        .order_by(col(ScoringShard.run_id), col(ScoringShard.shard_no))
    )
    for shard in session.scalars(statement):
        shards[shard.run_id].append(shard)
    return [RunOverview(run, shards[run.id]) for run in runs if run.id is not None]


def latest_succeeded_run(*, session: Session) -> ScoringRun | None:
    """The succeeded run with the latest as-of date (the newest of equals)."""
    statement = (
        select(ScoringRun)
        .where(col(ScoringRun.status) == RunStatus.SUCCEEDED)
        .order_by(col(ScoringRun.as_of).desc(), col(ScoringRun.id).desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def latest_scores(*, session: Session, customer_ids: Collection[int]) -> dict[int, Score]:
    """Each customer's Score from the latest succeeded run that scored them (by as-of date)."""
    wanted = sorted(set(customer_ids))
    found: dict[int, Score] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        ranked = (
            select(
                SCORE.c.id,
                func.row_number()
                .over(
                    partition_by=SCORE.c.customer_id,
                    order_by=(col(ScoringRun.as_of).desc(), SCORE.c.run_id.desc()),
                )
                .label("rank"),
            )
            .join(ScoringRun, col(ScoringRun.id) == SCORE.c.run_id)
            .where(
                SCORE.c.customer_id.in_(chunk),
                col(ScoringRun.status) == RunStatus.SUCCEEDED,
            )
            .subquery()
        )
        statement = (
            select(Score).join(ranked, ranked.c.id == col(Score.id)).where(ranked.c.rank == 1)
        )
        for score in session.scalars(statement):
            found[score.customer_id] = score
    return found


def score_count(
    *, session: Session, run_id: int, id_min: int | None = None, id_max: int | None = None
) -> int:
    """Scores the run holds, optionally for customer ids in [id_min, id_max]."""
    statement = select(func.count()).select_from(SCORE).where(SCORE.c.run_id == run_id)
    if id_min is not None:
        statement = statement.where(SCORE.c.customer_id >= id_min)
    if id_max is not None:
        statement = statement.where(SCORE.c.customer_id <= id_max)
    return int(session.execute(statement).scalar_one())
