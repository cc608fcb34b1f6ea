"""Factories for stage-machine tests: customers with given facts and stages, scoring runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from domain.customers.models import Customer
from domain.scoring.models import RunStatus, Score, ScoringRun
from domain.stages.models import StageChange
from domain.stages.vocabulary import Stage
from tests.factories import make_customer

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    """T0 plus `n` days."""
    return T0 + timedelta(days=n)


def id_of(customer: Customer) -> int:
    """The id of a flushed customer."""
    assert customer.id is not None
    return customer.id


def make_contact(session: Session, **overrides: Any) -> Customer:
    """A prospect created (and a prospect since) T0."""
    values: dict[str, Any] = {"created_at": T0, "stage_since": T0}
    values.update(overrides)
    return make_customer(session, **values)


def make_with_facts(
    session: Session,
    *,
    stage: Stage = Stage.PROSPECT,
    since: float = 0,
    first: float | None = None,
    last: float | None = None,
    orders: int = 0,
    revenue: int = 0,
    engaged: float | None = None,
) -> Customer:
    """A customer whose facts columns are set directly (days after T0), as a bulk import does."""
    return make_contact(
        session,
        stage=stage,
        stage_since=day(since),
        first_order_at=day(first) if first is not None else None,
        last_order_at=day(last) if last is not None else None,
        order_count=orders,
        net_revenue_minor=revenue,
        last_engaged_at=day(engaged) if engaged is not None else None,
    )


def record_change(
    session: Session, customer: Customer, previous: Stage, current: Stage, at: datetime
) -> StageChange:
    """A history row, and the customer moved accordingly (bypassing the rules)."""
    assert customer.id is not None
    change = StageChange(
        customer_id=customer.id,
        from_stage=previous,
        to_stage=current,
        reason="set by a test",
        changed_at=at,
    )
    customer.stage = current
    customer.stage_since = at
    session.add_all([change, customer])
    session.flush()
    return change


def make_scores(
    session: Session,
    scores: dict[int, float],
    *,
    as_of: date,
    status: str = RunStatus.SUCCEEDED,
) -> ScoringRun:
    """A scoring run as of `as_of` with these P(alive) values per customer id."""
    run = ScoringRun(status=status, as_of=as_of, model_version="test")
    session.add(run)
    session.flush()
    assert run.id is not None
    for customer_id, p_alive in scores.items():
        session.add(
            Score(run_id=run.id, customer_id=customer_id, model_version="test", p_alive=p_alive)
        )
    session.flush()
    return run
