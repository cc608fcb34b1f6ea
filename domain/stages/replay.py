"""Replay: a customer's stage recomputed from scratch from their orders and events in order.

The pure part (`absorb`, `settle`, `replay`) walks a timeline with the same rules as the
fast path and the decay pass; `replay_customer` loads one customer's timeline. Lost is a
decision, not a fact, so the recorded `→ lost` changes are part of the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from domain.clock import as_utc
from domain.customers.models import Customer
from domain.events.models import Event
from domain.orders.models import Order, OrderKind, OrderStatus
from domain.stages.config import LifecycleConfig, StagesConfig
from domain.stages.errors import CustomerNotFound, TransitionNotAllowed
from domain.stages.models import StageChange
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


@dataclass(frozen=True)
class Ordered:
    """An order (or return) was placed."""

    at: datetime
    total_minor: int
    kind: str = OrderKind.SALE
    status: str = OrderStatus.COMPLETED


@dataclass(frozen=True)
class Engaged:
    """The customer did something (an event of `event_type`)."""

    at: datetime
    event_type: str


@dataclass(frozen=True)
class MarkedLost:
    """The reactivation flow gave up on the customer."""

    at: datetime
    reason: str


Happening = Ordered | Engaged | MarkedLost


@dataclass(frozen=True)
class Change:
    """One stage change of a replay."""

    previous: Stage
    current: Stage
    reason: str
    at: datetime


@dataclass(frozen=True)
class Track:
    """A customer as the replay sees them: stage, facts, completed sales since the stage began."""

    position: Position
    facts: Facts
    orders_since_stage: int = 0


@dataclass(frozen=True)
class Replay:
    """Where a replay ends, and the changes on the way."""

    stage: Stage
    since: datetime
    changes: list[Change]


def settle(track: Track, *, as_of: datetime, config: StagesConfig) -> tuple[Track, Change | None]:
    """Apply the rules at `as_of` once: at most one stage change.

    Raises TransitionNotAllowed if the rules ever call for a move outside the table: a
    timeline only adds facts, so that would be a bug in the rules or the table.
    """
    verdict = propose(
        track.position,
        track.facts,
        as_of=as_of,
        config=config,
        orders_since_stage=track.orders_since_stage,
    )
    if verdict is None:
        return track, None
    if not is_allowed(track.position.stage, verdict.stage):
        raise TransitionNotAllowed(None, track.position.stage, verdict.stage)
    change = Change(track.position.stage, verdict.stage, verdict.reason, verdict.at)
    return Track(Position(verdict.stage, verdict.at), track.facts, 0), change


def absorb(
    track: Track, happening: Happening, *, config: StagesConfig
) -> tuple[Track, list[Change]]:
    """Catch up with time to the happening, apply it, and apply the rules again."""
    moment = evaluation_moment(track.position, happening.at)
    track, caught_up = settle(track, as_of=moment, config=config)
    changes = [caught_up] if caught_up else []
    if isinstance(happening, MarkedLost):
        if track.position.stage != Stage.SLEEPING:
            return track, changes
        lost = Change(Stage.SLEEPING, Stage.LOST, happening.reason, moment)
        return Track(Position(Stage.LOST, moment), track.facts, 0), [*changes, lost]
    track = _with_happening(track, happening)
    track, moved = settle(track, as_of=moment, config=config)
    return track, changes + ([moved] if moved else [])


def replay(
    timeline: Iterable[Happening],
    *,
    start: Track,
    as_of: datetime,
    config: StagesConfig,
) -> tuple[Track, list[Change]]:
    """Walk the timeline (in time order) from `start`, then catch up to `as_of`."""
    track, changes = start, []
    for happening in timeline:
        track, moved = absorb(track, happening, config=config)
        changes += moved
    track, last = settle(track, as_of=as_of, config=config)
    return track, changes + ([last] if last else [])


def replay_customer(
    *, session: Session, customer_id: int, as_of: datetime, config: LifecycleConfig
) -> Replay:
    """Recompute the customer's stage from scratch from their orders, events and lost marks."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    run = latest_run(session=session)
    p_alive = p_alive_of(session=session, run=run, customer_id=customer_id)
    facts = Facts(
        p_alive=p_alive,
        p_alive_at=run.scored_at if run is not None and p_alive is not None else None,
    )
    start = Track(Position(Stage.PROSPECT, as_utc(customer.created_at)), facts)
    track, changes = replay(
        _timeline(session, customer_id), start=start, as_of=as_utc(as_of), config=config.stages
    )
    return Replay(stage=track.position.stage, since=track.position.since, changes=changes)


def _timeline(session: Session, customer_id: int) -> list[Happening]:
    ranked: list[tuple[datetime, int, int, Happening]] = []
    orders = session.execute(
        select(
            col(Order.id),
            col(Order.ordered_at),
            col(Order.total_minor),
            col(Order.kind),
            col(Order.status),
        ).where(col(Order.customer_id) == customer_id)
    )
    for order_id, at, total, kind, status in orders:
        ranked.append((as_utc(at), 0, order_id, Ordered(as_utc(at), total, kind, status)))
    events = session.execute(
        select(col(Event.id), col(Event.occurred_at), col(Event.type)).where(
            col(Event.customer_id) == customer_id
        )
    )
    for event_id, at, event_type in events:
        ranked.append((as_utc(at), 1, event_id, Engaged(as_utc(at), event_type)))
    lost_marks = session.execute(
        select(col(StageChange.id), col(StageChange.changed_at), col(StageChange.reason)).where(
            col(StageChange.customer_id) == customer_id,
            col(StageChange.to_stage) == Stage.LOST,
        )
    )
    for change_id, at, reason in lost_marks:
        ranked.append((as_utc(at), 2, change_id, MarkedLost(as_utc(at), reason)))
    ranked.sort(key=lambda item: item[:3])
    return [happening for *_, happening in ranked]


def _with_happening(track: Track, happening: Ordered | Engaged) -> Track:
    facts = track.facts
    if isinstance(happening, Engaged):
        if not counts_as_engagement(happening.event_type):
            return track
        engaged = facts.last_engaged_at
        latest = happening.at if engaged is None else max(engaged, happening.at)
        return replace(track, facts=replace(facts, last_engaged_at=latest))
    if happening.status != OrderStatus.COMPLETED:
        return track
    revenue = facts.net_revenue_minor + happening.total_minor
    if happening.kind != OrderKind.SALE:
        return replace(track, facts=replace(facts, net_revenue_minor=revenue))
    first, last = facts.first_order_at, facts.last_order_at
    further = track.orders_since_stage + (1 if happening.at > track.position.since else 0)
    return Track(
        track.position,
        replace(
            facts,
            first_order_at=happening.at if first is None else min(first, happening.at),
            last_order_at=happening.at if last is None else max(last, happening.at),
            order_count=facts.order_count + 1,
            net_revenue_minor=revenue,
        ),
        further,
    )
