"""Read-only look-ups of suggestions: open ones of many customers at once, and by ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from domain.suggestions.models import Suggestion, SuggestionStatus


def open_for_customers(
    *,
    session: Session,
    customer_ids: Collection[int],
    as_of: datetime,
    staff_id: int | None = None,
) -> dict[int, list[Suggestion]]:
    """Each customer's open, unexpired suggestions (highest priority first).

    With `staff_id`, only the suggestions meant for that staff member.
    """
    statement = select(Suggestion).where(
        col(Suggestion.customer_id).in_(sorted(set(customer_ids))),
        col(Suggestion.status) == SuggestionStatus.OPEN,
        or_(col(Suggestion.expires_at).is_(None), col(Suggestion.expires_at) > as_of),
    )
    if staff_id is not None:
        statement = statement.where(col(Suggestion.staff_id) == staff_id)
    statement = statement.order_by(
        col(Suggestion.customer_id), col(Suggestion.priority).desc(), col(Suggestion.id).desc()
    )
    found: dict[int, list[Suggestion]] = defaultdict(list)
    for suggestion in session.exec(statement):
        found[suggestion.customer_id].append(suggestion)
    return found


def suggestions_by_ids(*, session: Session, ids: Collection[int]) -> dict[int, Suggestion]:
    """The suggestions with these ids, by id."""
    rows = session.exec(select(Suggestion).where(col(Suggestion.id).in_(sorted(set(ids)))))
    return {row.id: row for row in rows if row.id is not None}
