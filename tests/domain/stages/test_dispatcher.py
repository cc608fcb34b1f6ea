"""The dispatcher: one allowed move, its history row, the customer's stage, and the hooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from domain.stages.dispatcher import apply_transition
from domain.stages.errors import HistoryOutOfOrder, StageError, TransitionNotAllowed
from domain.stages.hooks import Moved, register
from domain.stages.models import StageChange
from domain.stages.vocabulary import Stage
from tests.domain.stages.factories import day, make_contact, make_with_facts

Call = tuple[Stage, Stage, list[tuple[int, datetime, str]]]


@pytest.fixture
def seen() -> Iterator[list[Call]]:
    """Hooks registered here record what they were called with; unregistered afterwards."""
    calls: list[Call] = []

    def remember(session: Session, moved: Moved) -> None:
        rows = [(row[0], row[1], row[2]) for row in session.execute(moved.rows)]
        calls.append((moved.previous, moved.current, rows))

    undo = [
        register(remember, previous=Stage.SLEEPING, current=Stage.LOST),
        register(remember, current=Stage.LEAD),
    ]
    yield calls
    for unregister in undo:
        unregister()


def test_a_transition_writes_history_and_moves_the_customer(session: Session) -> None:
    customer = make_contact(session)
    change = apply_transition(
        session=session, customer=customer, to=Stage.LEAD, reason="clicked", at=day(3)
    )
    assert (change.customer_id, change.from_stage, change.to_stage) == (
        customer.id,
        Stage.PROSPECT,
        Stage.LEAD,
    )
    assert (change.reason, change.changed_at) == ("clicked", day(3))
    session.refresh(customer)
    assert (customer.stage, customer.stage_since) == (Stage.LEAD, day(3))


def test_a_transition_outside_the_table_raises_and_writes_nothing(session: Session) -> None:
    customer = make_contact(session)
    with pytest.raises(TransitionNotAllowed, match="prospect → reactivated"):
        apply_transition(
            session=session, customer=customer, to=Stage.REACTIVATED, reason="x", at=day(3)
        )
    assert session.scalar(select(func.count()).select_from(StageChange)) == 0
    assert customer.stage == Stage.PROSPECT


def test_a_transition_dated_before_the_current_stage_began_raises(session: Session) -> None:
    customer = make_with_facts(session, stage=Stage.SLEEPING, since=100)
    with pytest.raises(HistoryOutOfOrder):
        apply_transition(session=session, customer=customer, to=Stage.LOST, reason="x", at=day(99))


def test_a_reason_must_fit_the_history_column(session: Session) -> None:
    customer = make_with_facts(session, stage=Stage.SLEEPING, since=100)
    with pytest.raises(StageError, match="1 to 300 characters"):
        apply_transition(
            session=session, customer=customer, to=Stage.LOST, reason="x" * 301, at=day(101)
        )


def test_hooks_run_for_their_pair_with_the_moved_customer(
    session: Session, seen: list[Call]
) -> None:
    sleeper = make_with_facts(session, stage=Stage.SLEEPING, since=100)
    contact = make_contact(session)
    apply_transition(session=session, customer=sleeper, to=Stage.LOST, reason="silent", at=day(130))
    apply_transition(session=session, customer=contact, to=Stage.LEAD, reason="opened", at=day(5))
    apply_transition(
        session=session, customer=contact, to=Stage.FIRST_TIME_BUYER, reason="bought", at=day(6)
    )
    assert seen == [
        (Stage.SLEEPING, Stage.LOST, [(sleeper.id, day(130), "silent")]),
        (Stage.PROSPECT, Stage.LEAD, [(contact.id, day(5), "opened")]),
    ]


def test_a_hook_cannot_be_registered_for_a_transition_outside_the_table() -> None:
    with pytest.raises(StageError, match="lost → sleeping"):
        register(lambda session, moved: None, previous=Stage.LOST, current=Stage.SLEEPING)


def test_an_unregistered_hook_no_longer_runs(session: Session) -> None:
    calls: list[Stage] = []
    unregister = register(lambda session, moved: calls.append(moved.current), current=Stage.LEAD)
    unregister()
    customer = make_contact(session)
    apply_transition(session=session, customer=customer, to=Stage.LEAD, reason="x", at=day(1))
    assert calls == []
    assert session.scalar(select(func.count(col(StageChange.id)))) == 1
