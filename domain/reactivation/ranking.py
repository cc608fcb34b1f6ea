"""Which sleeping customers are worth waking first: expected value, highest first.

Expected value = value × propensity, where
- value is the latest successful Score's predicted CLV, else the customer's net revenue;
- propensity is that Score's reactivation propensity, else a recency heuristic: the
  likelihood of the first configured step whose `within_days` covers the time since the last
  order (by default 0.30 within 180 days, 0.20 within a year, 0.10 within two, 0.05 beyond).
Both parts fall back independently, so a scored CLV without a propensity still counts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Float, Select, and_, case, exists, func, literal, or_, select
from sqlmodel import Session, col

from domain.customers.models import Customer
from domain.reactivation.config import ReactivationConfig
from domain.reactivation.models import AttemptStatus, ReactivationAttempt
from domain.scoring.models import Score
from domain.stages.vocabulary import Stage
from domain.triggers.audience import latest_score_on

FETCH_ROWS = 10_000


def propensity(config: ReactivationConfig, as_of: datetime) -> Any:
    """The scored reactivation propensity, else the recency heuristic (SQL expression)."""
    last_order = col(Customer.last_order_at)
    steps = [
        (last_order >= as_of - timedelta(days=step.within_days), literal(step.propensity, Float))
        for step in config.recency_steps
    ]
    heuristic = case(*steps, else_=literal(config.oldest_propensity, Float))
    return func.coalesce(col(Score.reactivation_propensity), heuristic)


def expected_value(config: ReactivationConfig, as_of: datetime) -> Any:
    """Value × propensity in minor units, per customer (SQL expression)."""
    value = func.coalesce(col(Score.predicted_clv_minor), col(Customer.net_revenue_minor))
    return (value * propensity(config, as_of)).label("expected_value")


@dataclass(frozen=True)
class Ranked:
    """Sleeping customers worth waking, best first, with their expected value."""

    customer_ids: np.ndarray[Any, np.dtype[np.int64]]
    expected_values: np.ndarray[Any, np.dtype[np.float64]]

    def __len__(self) -> int:
        return len(self.customer_ids)

    def batches(self, size: int) -> Iterator[list[tuple[int, float]]]:
        """(customer id, expected value) pairs in rank order, `size` at a time."""
        for start in range(0, len(self), size):
            ids = self.customer_ids[start : start + size].tolist()
            values = self.expected_values[start : start + size].tolist()
            yield list(zip(ids, values, strict=True))


def rank_sleeping(*, session: Session, as_of: datetime, config: ReactivationConfig) -> Ranked:
    """Sleeping customers with no open window and no attempt lately, by expected value.

    Ties go to the lower customer id so that a run is repeatable. Ids and values are read in
    one streamed query into two arrays (16 bytes a customer) before anything is written.
    """
    query = _ranking(as_of, config).execution_options(yield_per=FETCH_ROWS)
    ids: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    values: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    for part in session.execute(query).partitions():
        ids.append(np.fromiter((row[0] for row in part), dtype=np.int64, count=len(part)))
        values.append(
            np.fromiter((float(row[1] or 0) for row in part), dtype=np.float64, count=len(part))
        )
    if not ids:
        return Ranked(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
    return Ranked(np.concatenate(ids), np.concatenate(values))


def top_sleeping(
    *,
    session: Session,
    as_of: datetime,
    config: ReactivationConfig,
    first: int,
    offset: int = 0,
    owner_id: int | None = None,
    stages: Collection[Stage] = (Stage.SLEEPING,),
) -> list[tuple[int, float]]:
    """The best `first` candidates after `offset` in `rank_sleeping` order, optionally of one
    owner's customers only and of other stages too (at risk: slipping, not yet asleep):
    (customer id, expected value) pairs. The database picks them, so a page costs the same
    with a thousand sleepers or a million."""
    query = _ranking(as_of, config, stages)
    if owner_id is not None:
        query = query.where(col(Customer.owner_id) == owner_id)
    rows = session.execute(query.offset(offset).limit(first))
    return [(customer_id, float(value or 0)) for customer_id, value in rows]


def _ranking(
    as_of: datetime, config: ReactivationConfig, stages: Collection[Stage] = (Stage.SLEEPING,)
) -> Select[Any]:
    attempt = ReactivationAttempt
    recently_tried = exists(
        select(col(attempt.id)).where(
            col(attempt.customer_id) == col(Customer.id),
            or_(
                col(attempt.status) == AttemptStatus.OPEN,
                col(attempt.window_ends_at) > as_of - timedelta(days=config.retry_after_days),
            ),
        )
    )
    value = expected_value(config, as_of)
    return (
        select(col(Customer.id), value)
        .select_from(Customer)
        .outerjoin(Score, latest_score_on())
        .where(and_(col(Customer.stage).in_([str(stage) for stage in stages]), ~recently_tried))
        .order_by(value.desc(), col(Customer.id))
    )
