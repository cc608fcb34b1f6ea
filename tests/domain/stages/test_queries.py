"""History queries: a customer's history, the stage at a date, and the funnel of a period."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from domain.customers.models import Customer
from domain.stages.errors import CustomerNotFound, StageError
from domain.stages.queries import Flow, funnel, histories, history, stage_at
from domain.stages.vocabulary import Stage
from tests.domain.stages.factories import day, id_of, make_contact, record_change


def _story(session: Session) -> tuple[Customer, Customer, Customer, Customer]:
    """A: lead day 3, first order day 10, repeat day 40; B: lead day 20; C: none; D: new."""
    a, b, c = make_contact(session), make_contact(session), make_contact(session)
    record_change(session, a, Stage.PROSPECT, Stage.LEAD, day(3))
    record_change(session, a, Stage.LEAD, Stage.FIRST_TIME_BUYER, day(10))
    record_change(session, a, Stage.FIRST_TIME_BUYER, Stage.REPEAT, day(40))
    record_change(session, b, Stage.PROSPECT, Stage.LEAD, day(20))
    d = make_contact(session, created_at=day(25), stage_since=day(25))
    record_change(session, d, Stage.PROSPECT, Stage.FIRST_TIME_BUYER, day(26))
    return a, b, c, d


def test_history_lists_a_customers_changes_oldest_first(session: Session) -> None:
    a, *_ = _story(session)
    changes = history(session=session, customer_id=id_of(a))
    assert [(c.from_stage, c.to_stage, c.changed_at) for c in changes] == [
        ("prospect", "lead", day(3)),
        ("lead", "first_time_buyer", day(10)),
        ("first_time_buyer", "repeat", day(40)),
    ]


def test_histories_of_several_customers_come_in_one_call(session: Session) -> None:
    a, b, c, _ = _story(session)
    found = histories(session=session, customer_ids=[id_of(b), id_of(c), id_of(a)])
    assert {
        customer_id: [x.to_stage for x in changes] for customer_id, changes in found.items()
    } == {
        id_of(a): ["lead", "first_time_buyer", "repeat"],
        id_of(b): ["lead"],
        id_of(c): [],
    }
    assert histories(session=session, customer_ids=[]) == {}


def test_the_stage_at_a_date_comes_from_the_history(session: Session) -> None:
    a, _, c, _ = _story(session)
    stages = [stage_at(session=session, customer_id=id_of(a), at=day(n)) for n in (0, 3, 9, 10, 99)]
    assert stages == [
        Stage.PROSPECT,
        Stage.LEAD,
        Stage.LEAD,
        Stage.FIRST_TIME_BUYER,
        Stage.REPEAT,
    ]
    assert stage_at(session=session, customer_id=id_of(c), at=day(50)) == Stage.PROSPECT


def test_the_stage_at_a_date_of_an_unknown_customer_is_reported(session: Session) -> None:
    with pytest.raises(CustomerNotFound):
        stage_at(session=session, customer_id=404, at=day(1))


def test_the_funnel_counts_stages_at_both_ends_and_the_moves_between(session: Session) -> None:
    _story(session)
    result = funnel(session=session, start=day(5), end=day(30))
    assert {stage: n for stage, n in result.at_start.items() if n} == {
        Stage.PROSPECT: 2,
        Stage.LEAD: 1,
    }
    assert {stage: n for stage, n in result.at_end.items() if n} == {
        Stage.PROSPECT: 1,
        Stage.LEAD: 1,
        Stage.FIRST_TIME_BUYER: 2,
    }
    assert result.flows == [
        Flow(Stage.LEAD, Stage.FIRST_TIME_BUYER, 1),
        Flow(Stage.PROSPECT, Stage.FIRST_TIME_BUYER, 1),
        Flow(Stage.PROSPECT, Stage.LEAD, 1),
    ]
    assert set(result.at_end) == set(Stage)


def test_counts_at_start_plus_the_moves_give_the_counts_at_end(session: Session) -> None:
    _story(session)
    result = funnel(session=session, start=day(1), end=day(50))
    balance = dict(result.at_start)
    for flow in result.flows:
        balance[flow.previous] -= flow.count
        balance[flow.current] += flow.count
    # D was created inside the period: counted at the end, as a prospect who moved.
    balance[Stage.PROSPECT] += 1
    assert balance == result.at_end


def test_a_funnel_ending_before_it_starts_is_refused(session: Session) -> None:
    with pytest.raises(StageError, match="must not precede"):
        funnel(session=session, start=day(5), end=day(4))
