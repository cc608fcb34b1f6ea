"""Read-only look-ups of behaviour events: the latest of many customers at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.events.models import Event


def recent_events(
    *, session: Session, customer_ids: Collection[int], per_customer: int
) -> dict[int, list[Event]]:
    """Each customer's latest events (newest first), at most `per_customer` each."""
    rank = (
        func.row_number()
        .over(
            partition_by=col(Event.customer_id),
            order_by=(col(Event.occurred_at).desc(), col(Event.id).desc()),
        )
        .label("rank")
    )
    ranked = (
        select(col(Event.id).label("id"), rank)
        .where(col(Event.customer_id).in_(sorted(set(customer_ids))))
        .subquery()
    )
    statement = (
        select(Event)
        .join(ranked, col(Event.id) == ranked.c.id)
        .where(ranked.c.rank <= per_customer)
        .order_by(col(Event.customer_id), col(Event.occurred_at).desc(), col(Event.id).desc())
    )
    found: dict[int, list[Event]] = defaultdict(list)
    for event in session.exec(statement):
        found[event.customer_id].append(event)
    return found
