"""The one function that moves a single customer: table check, history row, hooks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from domain.clock import as_utc
from domain.customers.models import Customer
from domain.stages.errors import HistoryOutOfOrder, StageError, TransitionNotAllowed
from domain.stages.hooks import Moved, run_hooks
from domain.stages.models import StageChange
from domain.stages.transitions import is_allowed
from domain.stages.vocabulary import Stage

REASON_MAX = 300


def apply_transition(
    *, session: Session, customer: Customer, to: Stage, reason: str, at: datetime
) -> StageChange:
    """Move the customer to `to` at `at`: write the StageChange, update the customer, run hooks."""
    assert customer.id is not None  # a flushed customer
    previous = Stage(customer.stage)
    if not is_allowed(previous, to):
        raise TransitionNotAllowed(customer.id, previous, to)
    at = as_utc(at)
    since = as_utc(customer.stage_since)
    # A prospect has never changed stage, so its `stage_since` is only its creation time.
    if at < since and previous != Stage.PROSPECT:
        raise HistoryOutOfOrder(customer.id, at, since)
    if not reason or len(reason) > REASON_MAX:
        raise StageError(f"a stage change needs a reason of 1 to {REASON_MAX} characters")
    change = StageChange(
        customer_id=customer.id, from_stage=previous, to_stage=to, reason=reason, changed_at=at
    )
    customer.stage = to
    customer.stage_since = at
    session.add(change)
    session.add(customer)
    session.flush()
    rows = select(
        col(StageChange.customer_id), col(StageChange.changed_at), col(StageChange.reason)
    ).where(col(StageChange.id) == change.id)
    run_hooks(session, Moved(previous=previous, current=to, rows=rows))
    return change
