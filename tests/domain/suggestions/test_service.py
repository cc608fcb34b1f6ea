"""Suggestion services: listing a sales person's open ones, accepting, dismissing, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from domain.staff.errors import StaffNotFound
from domain.staff.models import StaffRole
from domain.suggestions.errors import NotYourSuggestion, SuggestionClosed, SuggestionNotFound
from domain.suggestions.models import SuggestionStatus
from domain.suggestions.service import accept, dismiss, expire_due, list_open
from tests.domain.triggers.factories import make_suggestion
from tests.factories import make_customer, make_staff

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_open_suggestions_rank_by_priority_then_recency(session: Session) -> None:
    ana = make_staff(session)
    bo = make_staff(session)
    mine = make_customer(session, owner_id=ana.id)
    theirs = make_customer(session, owner_id=bo.id)
    low = make_suggestion(session, mine, priority=40, created_at=AT)
    high_old = make_suggestion(session, mine, priority=80, created_at=AT - timedelta(days=2))
    high_new = make_suggestion(session, mine, priority=80, created_at=AT - timedelta(hours=1))
    make_suggestion(session, mine, priority=99, status=SuggestionStatus.ACCEPTED)
    make_suggestion(session, mine, priority=99, expires_at=AT - timedelta(minutes=1))
    make_suggestion(session, theirs, priority=99)

    listed = list_open(session=session, staff_id=ana.id, limit=10, offset=0, as_of=AT)
    page_two = list_open(session=session, staff_id=ana.id, limit=2, offset=2, as_of=AT)

    assert [s.id for s in listed] == [high_new.id, high_old.id, low.id]
    assert [s.id for s in page_two] == [low.id]


def test_owner_accepts_and_the_outcome_is_recorded(session: Session) -> None:
    ana = make_staff(session)
    suggestion = make_suggestion(session, make_customer(session, owner_id=ana.id))

    done = accept(
        session=session, suggestion_id=suggestion.id, staff_id=ana.id, at=AT, note="called her"
    )

    assert done.status == SuggestionStatus.ACCEPTED
    assert done.resolved_at == AT
    assert done.resolved_by_id == ana.id
    assert done.outcome_note == "called her"


def test_another_sales_person_may_not_resolve_but_an_admin_may(session: Session) -> None:
    ana = make_staff(session)
    bo = make_staff(session)
    boss = make_staff(session, role=StaffRole.ADMIN)
    suggestion = make_suggestion(session, make_customer(session, owner_id=ana.id))

    with pytest.raises(NotYourSuggestion, match="another sales person's customer"):
        dismiss(session=session, suggestion_id=suggestion.id, staff_id=bo.id, at=AT)
    done = dismiss(
        session=session, suggestion_id=suggestion.id, staff_id=boss.id, at=AT, note="not now"
    )

    assert (done.status, done.resolved_by_id, done.outcome_note) == (
        SuggestionStatus.DISMISSED,
        boss.id,
        "not now",
    )


def test_the_new_owner_of_a_reassigned_customer_may_resolve(session: Session) -> None:
    ana = make_staff(session)
    bo = make_staff(session)
    customer = make_customer(session, owner_id=ana.id)
    suggestion = make_suggestion(session, customer)
    customer.owner_id = bo.id
    session.add(customer)
    session.flush()

    done = accept(session=session, suggestion_id=suggestion.id, staff_id=bo.id, at=AT)

    assert done.status == SuggestionStatus.ACCEPTED


def test_resolved_or_expired_suggestions_cannot_be_resolved_again(session: Session) -> None:
    ana = make_staff(session)
    customer = make_customer(session, owner_id=ana.id)
    done = make_suggestion(session, customer)
    lapsed = make_suggestion(session, customer, expires_at=AT)
    accept(session=session, suggestion_id=done.id, staff_id=ana.id, at=AT)

    with pytest.raises(SuggestionClosed, match="already accepted"):
        dismiss(session=session, suggestion_id=done.id, staff_id=ana.id, at=AT)
    with pytest.raises(SuggestionClosed, match="expired on 2026-12-01 12:00 UTC"):
        accept(session=session, suggestion_id=lapsed.id, staff_id=ana.id, at=AT)


def test_unknown_suggestion_or_inactive_staff_is_refused(session: Session) -> None:
    ana = make_staff(session)
    gone = make_staff(session, active=False)
    suggestion = make_suggestion(session, make_customer(session, owner_id=gone.id))

    with pytest.raises(SuggestionNotFound):
        accept(session=session, suggestion_id=123_456, staff_id=ana.id, at=AT)
    with pytest.raises(StaffNotFound):
        accept(session=session, suggestion_id=suggestion.id, staff_id=gone.id, at=AT)


def test_expire_due_closes_only_open_suggestions_past_their_expiry(session: Session) -> None:
    customer = make_customer(session)
    due = make_suggestion(session, customer, expires_at=AT - timedelta(hours=1))
    at_the_moment = make_suggestion(session, customer, expires_at=AT)
    later = make_suggestion(session, customer, expires_at=AT + timedelta(hours=1))
    never = make_suggestion(session, customer)
    accepted = make_suggestion(
        session, customer, expires_at=AT - timedelta(days=1), status=SuggestionStatus.ACCEPTED
    )

    expired = expire_due(session=session, as_of=AT)

    for row in (due, at_the_moment, later, never, accepted):
        session.refresh(row)
    assert expired == 2
    assert [r.status for r in (due, at_the_moment, later, never, accepted)] == [
        "expired",
        "expired",
        "open",
        "open",
        "accepted",
    ]
    assert due.resolved_at == AT
