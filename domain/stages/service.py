"""The fast path: an order, an event or a decision moves one customer right away.

Before applying what just happened, the rules are first applied as of that moment with
the old facts (the decay no pass has recorded yet), so that the outcome does not depend
on when the last decay pass ran: a customer long past their sleeping point who buys is
reactivated, whether or not a pass had put them to sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import (
    Table,
    and_,
    case,
    func,
    inspect,
    select,
    text,
    type_coerce,
)
from sqlmodel import Session, col

from domain.clock import as_utc
from domain.columns import UTCDateTime
from domain.customers.models import Customer
from domain.db import is_postgres
from domain.jsonrows import json_document, json_table
from domain.orders.models import Order, OrderKind, OrderStatus
from domain.stages.batch import advance_at
from domain.stages.config import LifecycleConfig, StagesConfig, default_config
from domain.stages.dispatcher import apply_transition
from domain.stages.errors import CustomerNotFound
from domain.stages.models import StageChange, WrittenChange
from domain.stages.rules import (
    Facts,
    Position,
    counts_as_engagement,
    evaluation_moment,
    propose,
)
from domain.stages.scores import latest_run, p_alive_of
from domain.stages.transitions import is_allowed
from domain.stages.vocabulary import Stage

logger = logging.getLogger(__name__)
CUSTOMER = cast(Table, inspect(Customer).local_table)
ENGAGED_COLUMNS = (("customer_id", "BIGINT"), ("engaged_at", "TIMESTAMPTZ"))
# Customers locked per statement (well under SQLite's bound-parameter limit).
LOCK_CHUNK = 10_000


def on_order_recorded(
    *, session: Session, customer_id: int, at: datetime, config: LifecycleConfig | None = None
) -> list[StageChange]:
    """Refresh the customer's order facts after an order (or return) at `at`; move their stage."""
    rules = (config or default_config()).stages
    customer = _locked(session, customer_id)
    facts = _FactSource(session, customer)
    moment = evaluation_moment(_position(customer), as_utc(at))
    # Catch up with time first, then apply the order.
    changes = _advance(session, customer, facts, moment, rules)
    _refresh_order_facts(session, customer)
    changes += _advance(session, customer, facts, moment, rules)
    return changes


def on_event_recorded(
    *,
    session: Session,
    customer_id: int,
    event_type: str,
    at: datetime,
    config: LifecycleConfig | None = None,
) -> list[StageChange]:
    """Note the customer's engagement from an event at `at`; move their stage."""
    rules = (config or default_config()).stages
    customer = _locked(session, customer_id)
    facts = _FactSource(session, customer)
    moment = evaluation_moment(_position(customer), as_utc(at))
    # Catch up with time first, then apply the event.
    changes = _advance(session, customer, facts, moment, rules)
    if counts_as_engagement(event_type):
        engaged = customer.last_engaged_at
        if engaged is None or as_utc(engaged) < as_utc(at):
            customer.last_engaged_at = as_utc(at)
            session.add(customer)
            session.flush()
    changes += _advance(session, customer, facts, moment, rules)
    return changes


def on_engagements(
    *,
    session: Session,
    first: Mapping[int, datetime],
    latest: Mapping[int, datetime] | None = None,
    config: LifecycleConfig | None = None,
) -> list[WrittenChange]:
    """`on_event_recorded` for a batch: each customer of `first` engaged at that moment.

    The same steps, set-wise in a few statements whatever the number of customers: catch up
    with time as of each customer's moment, count the engagement, apply the rules again.
    `last_engaged_at` is then raised to `latest` (later engagements of the same batch, of
    these or other customers, which the caller has locked). Returns the history rows
    written (a customer may have two), by customer.
    """
    rules = (config or default_config()).stages
    positions = _locked_positions(session, sorted(first))
    moments = {
        customer_id: evaluation_moment(positions[customer_id], as_utc(at))
        for customer_id, at in first.items()
    }
    # Catch up with time first, then apply the engagement.
    changes = advance_at(session=session, moments=moments, config=rules)
    changes += advance_at(session=session, moments=moments, config=rules, engaged=first)
    engaged = dict(latest or {})
    for customer_id, at in first.items():
        if customer_id not in engaged or engaged[customer_id] < at:
            engaged[customer_id] = at
    if engaged:
        raise_last_engaged(session, engaged)
    return sorted(changes, key=lambda change: (change.customer_id, change.id))


def raise_last_engaged(session: Session, engaged: Mapping[int, datetime]) -> None:
    """Set each customer's `last_engaged_at` to the given moment where that is later."""
    postgres = is_postgres(session)
    source = json_table(postgres=postgres, param="engaged", columns=ENGAGED_COLUMNS)
    session.execute(
        text(
            f"UPDATE customer SET last_engaged_at = e.engaged_at FROM {source} e"
            " WHERE customer.id = e.customer_id"
            " AND (customer.last_engaged_at IS NULL OR customer.last_engaged_at < e.engaged_at)"
        ),
        {
            "engaged": json_document(
                ({"customer_id": key, "engaged_at": at} for key, at in engaged.items()),
                postgres=postgres,
            )
        },
    )
    # The UPDATE bypassed the ORM: loaded customers must read the column again.
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Customer):
            session.expire(instance, ["last_engaged_at"])


def mark_lost(*, session: Session, customer_id: int, at: datetime, reason: str) -> StageChange:
    """Mark a sleeping customer lost (no answer to a reactivation offer); raises otherwise."""
    customer = _locked(session, customer_id)
    return apply_transition(session=session, customer=customer, to=Stage.LOST, reason=reason, at=at)


class _FactSource:
    """The customer's facts as the rules see them: the row's columns and their latest score."""

    def __init__(self, session: Session, customer: Customer) -> None:
        assert customer.id is not None
        run = latest_run(session=session)
        self.customer = customer
        self.p_alive = p_alive_of(session=session, run=run, customer_id=customer.id)
        self.scored_at = run.scored_at if run is not None and self.p_alive is not None else None

    def current(self) -> Facts:
        customer = self.customer
        return Facts(
            first_order_at=_aware(customer.first_order_at),
            last_order_at=_aware(customer.last_order_at),
            order_count=customer.order_count,
            net_revenue_minor=customer.net_revenue_minor,
            last_engaged_at=_aware(customer.last_engaged_at),
            p_alive=self.p_alive,
            p_alive_at=self.scored_at,
        )


def _position(customer: Customer) -> Position:
    return Position(Stage(customer.stage), as_utc(customer.stage_since))


def _locked_positions(session: Session, customer_ids: list[int]) -> dict[int, Position]:
    """Lock the customers in id order (concurrent batches cannot deadlock); their positions."""
    positions: dict[int, Position] = {}
    for start in range(0, len(customer_ids), LOCK_CHUNK):
        statement = (
            select(CUSTOMER.c.id, CUSTOMER.c.stage, CUSTOMER.c.stage_since)
            .where(CUSTOMER.c.id.in_(customer_ids[start : start + LOCK_CHUNK]))
            .order_by(CUSTOMER.c.id)
            .with_for_update()
        )
        for customer_id, stage, since in session.execute(statement):
            positions[customer_id] = Position(Stage(stage), as_utc(since))
    for customer_id in customer_ids:
        if customer_id not in positions:
            raise CustomerNotFound(customer_id)
    return positions


def _locked(session: Session, customer_id: int) -> Customer:
    customer = session.scalars(
        select(Customer)
        .where(col(Customer.id) == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer


def _advance(
    session: Session,
    customer: Customer,
    facts: _FactSource,
    moment: datetime,
    rules: StagesConfig,
) -> list[StageChange]:
    position = _position(customer)
    further = _orders_since(session, customer) if position.stage == Stage.REACTIVATED else 0
    verdict = propose(
        position,
        facts.current(),
        as_of=moment,
        config=rules,
        orders_since_stage=further,
    )
    if verdict is None:
        return []
    if not is_allowed(position.stage, verdict.stage):
        # Facts that went backwards (a cancelled order) never move a customer outside the
        # table; they stay where they are.
        logger.warning(
            "customer %s stays %s: the rules call for %s, which the table does not allow",
            customer.id,
            position.stage,
            verdict.stage,
        )
        return []
    return [
        apply_transition(
            session=session,
            customer=customer,
            to=verdict.stage,
            reason=verdict.reason,
            at=verdict.at,
        )
    ]


def _refresh_order_facts(session: Session, customer: Customer) -> None:
    # The same definitions as domain.customers.facts.refresh_facts, for one customer.
    sale = and_(col(Order.kind) == OrderKind.SALE, col(Order.status) == OrderStatus.COMPLETED)
    completed = col(Order.status) == OrderStatus.COMPLETED
    first, last, count, revenue = session.execute(
        select(
            type_coerce(func.min(case((sale, col(Order.ordered_at)))), UTCDateTime()),
            type_coerce(func.max(case((sale, col(Order.ordered_at)))), UTCDateTime()),
            func.count(case((sale, 1))),
            func.coalesce(func.sum(case((completed, col(Order.total_minor)), else_=0)), 0),
        ).where(col(Order.customer_id) == customer.id)
    ).one()
    customer.first_order_at = first
    customer.last_order_at = last
    customer.order_count = count
    customer.net_revenue_minor = int(revenue)
    session.add(customer)
    session.flush()


def _orders_since(session: Session, customer: Customer) -> int:
    # Only orders the facts already reflect: while catching up before an order, the order
    # itself is in the table but not yet in the facts.
    if customer.last_order_at is None:
        return 0
    return cast(
        int,
        session.scalar(
            select(func.count()).where(
                col(Order.customer_id) == customer.id,
                col(Order.kind) == OrderKind.SALE,
                col(Order.status) == OrderStatus.COMPLETED,
                col(Order.ordered_at) > customer.stage_since,
                col(Order.ordered_at) <= customer.last_order_at,
            )
        ),
    )


def _aware(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None
