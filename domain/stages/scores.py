"""P(alive) from the latest succeeded scoring run, for the stage rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlmodel import Session, col

from domain.scoring.models import RunStatus, Score, ScoringRun


@dataclass(frozen=True)
class LatestRun:
    """The run whose P(alive) the rules use, and the moment up to which it saw orders."""

    id: int
    scored_at: datetime


def latest_run(*, session: Session) -> LatestRun | None:
    """The latest succeeded scoring run (by as-of date), if any."""
    row = session.execute(
        select(col(ScoringRun.id), col(ScoringRun.as_of))
        .where(col(ScoringRun.status) == RunStatus.SUCCEEDED)
        .order_by(col(ScoringRun.as_of).desc(), col(ScoringRun.id).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    run_id, as_of = row
    # The run saw orders up to the start of its as-of day.
    return LatestRun(id=run_id, scored_at=datetime.combine(as_of, time(), tzinfo=UTC))


def p_alive_of(*, session: Session, run: LatestRun | None, customer_id: int) -> float | None:
    """The customer's P(alive) in the run, if it scored them."""
    if run is None:
        return None
    return session.scalars(
        select(col(Score.p_alive)).where(
            col(Score.run_id) == run.id, col(Score.customer_id) == customer_id
        )
    ).first()
