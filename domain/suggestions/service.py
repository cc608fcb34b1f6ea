"""What sales staff do with suggestions: list their open ones, accept or dismiss, and expiry."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import or_, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from domain.clock import as_utc, utcnow
from domain.customers.models import Customer
from domain.staff.errors import StaffNotFound
from domain.staff.models import Staff, StaffRole
from domain.suggestions.errors import NotYourSuggestion, SuggestionClosed, SuggestionNotFound
from domain.suggestions.models import Suggestion, SuggestionStatus

MAX_PAGE = 200


def list_open(
    *,
    session: Session,
    staff_id: int,
    limit: int = 20,
    offset: int = 0,
    as_of: datetime | None = None,
) -> list[Suggestion]:
    """A staff member's open, unexpired suggestions: highest priority first, then newest."""
    moment = as_utc(as_of) if as_of else utcnow()
    query = (
        select(Suggestion)
        .where(
            col(Suggestion.staff_id) == staff_id,
            col(Suggestion.status) == SuggestionStatus.OPEN,
            or_(col(Suggestion.expires_at).is_(None), col(Suggestion.expires_at) > moment),
        )
        .order_by(
            col(Suggestion.priority).desc(),
            col(Suggestion.created_at).desc(),
            col(Suggestion.id).desc(),
        )
        .limit(max(1, min(limit, MAX_PAGE)))
        .offset(max(0, offset))
    )
    return list(session.exec(query))


def _resolve(
    *,
    session: Session,
    suggestion_id: int,
    staff_id: int,
    at: datetime,
    status: SuggestionStatus,
    note: str | None,
) -> Suggestion:
    at = as_utc(at)
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise StaffNotFound(f"no active staff member has the id {staff_id}")
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise SuggestionNotFound(f"no suggestion has the id {suggestion_id}")
    customer = session.get(Customer, suggestion.customer_id)
    owners = {suggestion.staff_id, customer.owner_id if customer else None}
    if staff.role != StaffRole.ADMIN and staff_id not in owners:
        raise NotYourSuggestion(
            f"suggestion {suggestion_id} is about another sales person's customer"
        )
    if suggestion.status != SuggestionStatus.OPEN:
        raise SuggestionClosed(f"suggestion {suggestion_id} is already {suggestion.status}")
    if suggestion.expires_at is not None and suggestion.expires_at <= at:
        raise SuggestionClosed(
            f"suggestion {suggestion_id} expired on {suggestion.expires_at:%Y-%m-%d %H:%M} UTC"
        )
    # Conditional on still being open, so two people resolving at once cannot both win.
    changed = cast(
        CursorResult[Any],
        session.execute(
            update(Suggestion)
            .where(
                col(Suggestion.id) == suggestion_id,
                col(Suggestion.status) == SuggestionStatus.OPEN,
            )
            .values(
                status=status,
                resolved_at=at,
                resolved_by_id=staff_id,
                outcome_note=note[:300] if note else None,
            )
            .execution_options(synchronize_session=False),
        ),
    )
    if changed.rowcount != 1:
        raise SuggestionClosed(f"suggestion {suggestion_id} was resolved by someone else")
    session.refresh(suggestion)
    return suggestion


def accept(
    *,
    session: Session,
    suggestion_id: int,
    staff_id: int,
    at: datetime,
    note: str | None = None,
) -> Suggestion:
    """Record that the sales person takes the suggestion up (their own customer's, or as admin)."""
    return _resolve(
        session=session,
        suggestion_id=suggestion_id,
        staff_id=staff_id,
        at=at,
        status=SuggestionStatus.ACCEPTED,
        note=note,
    )


def dismiss(
    *,
    session: Session,
    suggestion_id: int,
    staff_id: int,
    at: datetime,
    note: str | None = None,
) -> Suggestion:
    """Record that the sales person passes on the suggestion, with an optional reason."""
    return _resolve(
        session=session,
        suggestion_id=suggestion_id,
        staff_id=staff_id,
        at=at,
        status=SuggestionStatus.DISMISSED,
        note=note,
    )


def expire_due(*, session: Session, as_of: datetime) -> int:
    """Mark every open suggestion whose expiry has passed as expired; return how many."""
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Suggestion)
            .where(
                col(Suggestion.status) == SuggestionStatus.OPEN,
                col(Suggestion.expires_at) <= as_utc(as_of),
            )
            .values(status=SuggestionStatus.EXPIRED, resolved_at=as_utc(as_of))
            .execution_options(synchronize_session=False),
        ),
    )
    return int(result.rowcount)
