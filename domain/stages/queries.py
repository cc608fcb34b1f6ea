"""Questions answered from the stage history: a stage at a date, a funnel over a period.

A customer's StageChange rows are written in time order, so within one customer a later
id is never an earlier change; the stage at a moment is the `to_stage` of the last change
up to it, or the `from_stage` of the first change after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, inspect, select
from sqlmodel import Session, col

from domain.clock import as_utc
from domain.customers.models import Customer
from domain.stages.errors import CustomerNotFound, StageError
from domain.stages.models import StageChange
from domain.stages.vocabulary import Stage

CUSTOMER = cast(Table, inspect(Customer).local_table)
STAGE_CHANGE = cast(Table, inspect(StageChange).local_table)


@dataclass(frozen=True)
class Flow:
    """How many moved from one stage to another in a period."""

    previous: Stage
    current: Stage
    count: int


@dataclass(frozen=True)
class Funnel:
    """Customers per stage at the start and the end of a period, and the moves in between."""

    start: datetime
    end: datetime
    at_start: dict[Stage, int]
    at_end: dict[Stage, int]
    flows: list[Flow]


def history(*, session: Session, customer_id: int) -> list[StageChange]:
    """The customer's stage changes, oldest first."""
    return list(
        session.scalars(
            select(StageChange)
            .where(col(StageChange.customer_id) == customer_id)
            .order_by(col(StageChange.changed_at), col(StageChange.id))
        )
    )


def histories(*, session: Session, customer_ids: Sequence[int]) -> dict[int, list[StageChange]]:
    """Several customers' stage changes in one query, oldest first (empty lists included)."""
    found: dict[int, list[StageChange]] = {customer_id: [] for customer_id in customer_ids}
    if not found:
        return found
    changes = session.scalars(
        select(StageChange)
        .where(col(StageChange.customer_id).in_(list(found)))
        .order_by(col(StageChange.customer_id), col(StageChange.changed_at), col(StageChange.id))
    )
    for change in changes:
        found[change.customer_id].append(change)
    return found


def stage_at(*, session: Session, customer_id: int, at: datetime) -> Stage:
    """The customer's stage at `at` (changes dated exactly `at` included)."""
    at = as_utc(at)
    last_before = session.scalars(
        select(col(StageChange.to_stage))
        .where(col(StageChange.customer_id) == customer_id, col(StageChange.changed_at) <= at)
        .order_by(col(StageChange.changed_at).desc(), col(StageChange.id).desc())
        .limit(1)
    ).first()
    if last_before is not None:
        return Stage(last_before)
    first_after = session.scalars(
        select(col(StageChange.from_stage))
        .where(col(StageChange.customer_id) == customer_id, col(StageChange.changed_at) > at)
        .order_by(col(StageChange.changed_at), col(StageChange.id))
        .limit(1)
    ).first()
    if first_after is not None:
        return Stage(first_after)
    current = session.scalars(
        select(col(Customer.stage)).where(col(Customer.id) == customer_id)
    ).first()
    if current is None:
        raise CustomerNotFound(customer_id)
    return Stage(current)


def funnel(*, session: Session, start: datetime, end: datetime) -> Funnel:
    """Stage counts at `start` and `end` and the moves in (start, end], set-wise.

    Customers count from their creation; counts at start plus moves in equal counts at
    end for customers created before `start`.
    """
    start, end = as_utc(start), as_utc(end)
    if end < start:
        raise StageError("a funnel's end must not precede its start")
    flows = session.execute(
        select(STAGE_CHANGE.c.from_stage, STAGE_CHANGE.c.to_stage, func.count())
        .where(STAGE_CHANGE.c.changed_at > start, STAGE_CHANGE.c.changed_at <= end)
        .group_by(STAGE_CHANGE.c.from_stage, STAGE_CHANGE.c.to_stage)
    )
    return Funnel(
        start=start,
        end=end,
        at_start=_counts_at(session, start),
        at_end=_counts_at(session, end),
        flows=sorted(
            (Flow(Stage(previous), Stage(current), count) for previous, current, count in flows),
            key=lambda flow: (-flow.count, flow.previous, flow.current),
        ),
    )


def _counts_at(session: Session, at: datetime) -> dict[Stage, int]:
    # The current stage, unless the customer changed after `at`: then what they changed from.
    first_after = (
        select(STAGE_CHANGE.c.customer_id, func.min(STAGE_CHANGE.c.id).label("change_id"))
        .where(STAGE_CHANGE.c.changed_at > at)
        .group_by(STAGE_CHANGE.c.customer_id)
        .subquery("first_after")
    )
    change = STAGE_CHANGE.alias("change")
    stage = func.coalesce(change.c.from_stage, CUSTOMER.c.stage)
    rows = session.execute(
        select(stage, func.count())
        .select_from(
            CUSTOMER.outerjoin(first_after, first_after.c.customer_id == CUSTOMER.c.id).outerjoin(
                change, change.c.id == first_after.c.change_id
            )
        )
        .where(CUSTOMER.c.created_at <= at)
        .group_by(stage)
    )
    counts = dict.fromkeys(Stage, 0)
    for name, count in rows:
        counts[Stage(name)] = count
    return counts
