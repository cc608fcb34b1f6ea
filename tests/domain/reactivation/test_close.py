"""Closing reactivation windows: a response marks the attempt responded, silence makes lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from domain.customers.models import Customer
from domain.events.models import EventType
from domain.orders.models import OrderStatus
from domain.reactivation.models import AttemptStatus, ReactivationAttempt
from domain.reactivation.service import close_windows, run_reactivation
from domain.stages.models import StageChange
from domain.stages.vocabulary import Stage
from tests.factories import grant_consent, make_customer, make_event, make_order

SENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
WINDOW_ENDS = SENT + timedelta(days=14)


def _sleeper(session: Session) -> Customer:
    customer = make_customer(
        session,
        stage=Stage.SLEEPING,
        stage_since=SENT - timedelta(days=30),
        order_count=1,
        net_revenue_minor=5_000,
        last_order_at=SENT - timedelta(days=200),
    )
    grant_consent(session, customer, "email")
    return customer


def _status(session: Session, customer: Customer) -> str:
    attempt = session.scalars(
        select(ReactivationAttempt).where(ReactivationAttempt.customer_id == customer.id)
    ).one()
    session.refresh(attempt)
    return attempt.status


def test_order_or_click_within_the_window_marks_the_attempt_responded(session: Session) -> None:
    buyer = _sleeper(session)
    clicker = _sleeper(session)
    late_buyer = _sleeper(session)
    cancelled = _sleeper(session)
    waiting = _sleeper(session)
    run_reactivation(session=session, as_of=SENT, offer_id=None, budget=None)
    make_order(session, buyer, at=SENT + timedelta(days=3))
    make_event(session, clicker, EventType.EMAIL_CLICK, at=SENT + timedelta(hours=2))
    make_order(session, late_buyer, at=SENT + timedelta(days=13))
    make_order(session, cancelled, at=SENT + timedelta(days=1), status=OrderStatus.CANCELLED)
    make_event(session, waiting, EventType.EMAIL_OPEN, at=SENT + timedelta(days=1))

    result = close_windows(session=session, as_of=SENT + timedelta(days=7))

    assert (result.responded, result.lost) == (2, 0)
    assert _status(session, buyer) == AttemptStatus.RESPONDED
    assert _status(session, clicker) == AttemptStatus.RESPONDED
    # The late order is after as_of, an open is not a response: both still wait.
    assert _status(session, late_buyer) == AttemptStatus.OPEN
    assert _status(session, cancelled) == AttemptStatus.OPEN
    assert _status(session, waiting) == AttemptStatus.OPEN


def test_no_response_by_the_end_of_the_window_makes_the_customer_lost(session: Session) -> None:
    silent = _sleeper(session)
    too_late = _sleeper(session)
    run_reactivation(session=session, as_of=SENT, offer_id=None, budget=None)
    make_order(session, too_late, at=WINDOW_ENDS + timedelta(hours=1))
    # The order came after the window; the stage machine has already moved them on.
    too_late.stage = Stage.REACTIVATED
    session.add(too_late)
    session.flush()

    before = close_windows(session=session, as_of=WINDOW_ENDS - timedelta(seconds=1))
    result = close_windows(session=session, as_of=WINDOW_ENDS + timedelta(days=1))
    again = close_windows(session=session, as_of=WINDOW_ENDS + timedelta(days=2))

    session.refresh(silent)
    change = session.scalars(select(StageChange).where(StageChange.customer_id == silent.id)).one()
    assert (before.responded, before.lost) == (0, 0)
    assert (result.responded, result.lost, result.lost_customer_ids) == (0, 2, [silent.id])
    assert (again.responded, again.lost) == (0, 0)
    assert _status(session, silent) == AttemptStatus.LOST
    assert _status(session, too_late) == AttemptStatus.LOST
    assert (silent.stage, silent.stage_since) == (Stage.LOST, WINDOW_ENDS)
    assert (change.from_stage, change.to_stage, change.changed_at) == (
        Stage.SLEEPING,
        Stage.LOST,
        WINDOW_ENDS,
    )
    assert change.reason == "no response to the reactivation offer WELCOME-BACK within 14 days"
    assert session.get(Customer, too_late.id).stage == Stage.REACTIVATED


def test_lost_customers_are_left_out_of_the_next_run(session: Session) -> None:
    _sleeper(session)
    run_reactivation(session=session, as_of=SENT, offer_id=None, budget=None)
    close_windows(session=session, as_of=WINDOW_ENDS + timedelta(days=1))

    later = run_reactivation(
        session=session, as_of=SENT + timedelta(days=200), offer_id=None, budget=None
    )

    assert (later.considered, later.sent) == (0, 0)
