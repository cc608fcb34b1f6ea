"""The reactivation flow: send the best sleeping customers an offer, then close their windows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col

from domain.clock import as_utc
from domain.contact.config import ContactPolicyConfig, TouchKind
from domain.contact.models import ContactOutcome
from domain.contact.outbound import deliver, delivery_time
from domain.contact.policy import (
    TIMED_REASONS,
    ChannelFacts,
    ContactDecision,
    ContactReason,
    CustomerFacts,
    evaluate,
)
from domain.contact.queries import all_channel_facts, customer_facts
from domain.contact.service import record_touch
from domain.customers.models import Customer
from domain.events.models import Event
from domain.orders.models import Order, OrderKind, OrderStatus
from domain.reactivation.config import ReactivationConfig
from domain.reactivation.errors import ReactivationError
from domain.reactivation.models import AttemptStatus, ReactivationAttempt
from domain.reactivation.offers import ensure_default_offer, reactivation_offer
from domain.reactivation.ranking import rank_sleeping
from domain.referrals.models import Offer
from domain.stages.config import default_config
from domain.stages.service import mark_lost
from domain.stages.vocabulary import Stage

BATCH = 500
# Refusals that only say "not on this channel"; another channel's refusal tells more.
CHANNEL_REFUSALS = frozenset({ContactReason.NO_CONSENT, ContactReason.CHANNEL_NOT_CONTACTABLE})


@dataclass(frozen=True)
class ReactivationResult:
    """What a run did: offers sent (attempts opened) and customers held back, by reason."""

    offer_id: int
    considered: int
    sent: int
    attempt_ids: list[int]
    held_back: dict[str, int]


@dataclass(frozen=True)
class CloseResult:
    """Windows closed by a pass: answered ones, and lapsed ones whose customers are now lost."""

    responded: int
    lost: int
    lost_customer_ids: list[int]


@dataclass(frozen=True)
class _Choice:
    channel: ChannelFacts
    decision: ContactDecision
    deliver_at: datetime | None


def _choose_channel(
    customer: CustomerFacts,
    channels: dict[str, ChannelFacts],
    at: datetime,
    config: ReactivationConfig,
    contact: ContactPolicyConfig,
) -> _Choice:
    """The first channel the policy allows now (or after quiet hours), else the telling refusal."""
    refusals: list[_Choice] = []
    for code in config.channels:
        channel = channels.get(code)
        if channel is None:
            continue
        decision = evaluate(
            customer=customer,
            channel=channel,
            kind=TouchKind.REACTIVATION,
            priority=None,
            at=at,
            config=contact,
        )
        deliver_at = delivery_time(decision, at)
        if deliver_at is not None:
            return _Choice(channel, decision, deliver_at)
        refusals.append(_Choice(channel, decision, None))
    telling = [r for r in refusals if r.decision.reason_code not in CHANNEL_REFUSALS]
    return (telling or refusals)[0]


def _message(customer: Customer, offer: Offer, deliver_at: datetime) -> tuple[str, str]:
    greeting = f"Hello {customer.name.split()[0]}," if customer.name else "Hello,"
    valid_until = deliver_at + timedelta(days=offer.valid_days)
    body = (
        f"{greeting}\n\nIt has been a while since we last saw you, so here is something just "
        f"for you: {offer.name}.\n"
        + (f"{offer.description}\n" if offer.description else "")
        + f"\nUse the code {offer.code} by {valid_until.day} {valid_until:%b %Y}."
    )
    return offer.name, body


def run_reactivation(
    *,
    session: Session,
    as_of: datetime,
    offer_id: int | None = None,
    budget: int | None = None,
    config: ReactivationConfig | None = None,
    contact: ContactPolicyConfig | None = None,
) -> ReactivationResult:
    """Send the reactivation offer to sleeping customers, highest expected value first.

    Customers with an open window, or whose last attempt ended within `retry_after_days`, are
    left out. Each customer gets the offer on the first configured channel the contact policy
    allows (after quiet hours if need be); a refusal on every channel is logged with its
    reason and does not use the budget. `budget` caps the offers sent by this run; `offer_id`
    None means the default reactivation offer.
    """
    config = config or default_config().reactivation
    contact = contact or default_config().contact
    as_of = as_utc(as_of)
    if budget is not None and budget < 0:
        raise ValueError("budget must not be negative")
    offer = (
        ensure_default_offer(session=session)
        if offer_id is None
        else reactivation_offer(session=session, offer_id=offer_id)
    )
    assert offer.id is not None
    channels = all_channel_facts(session)
    if not set(config.channels) & set(channels):
        raise ReactivationError(
            f"none of the configured channels ({', '.join(config.channels)}) exists"
        )
    ranked = rank_sleeping(session=session, as_of=as_of, config=config)
    attempts: list[ReactivationAttempt] = []
    held_back: Counter[str] = Counter()
    considered = 0
    for batch in ranked.batches(BATCH):
        if budget is not None and len(attempts) >= budget:
            break
        ids = [customer_id for customer_id, _ in batch]
        facts = customer_facts(session, ids, at=as_of, config=contact)
        people = {
            c.id: c for c in session.scalars(select(Customer).where(col(Customer.id).in_(ids)))
        }
        for customer_id, value in batch:
            if budget is not None and len(attempts) >= budget:
                break
            considered += 1
            choice = _choose_channel(facts[customer_id], channels, as_of, config, contact)
            if choice.deliver_at is None:
                _log_held_back(session, customer_id, choice, as_of, contact)
                held_back[str(choice.decision.reason_code)] += 1
                continue
            attempts.append(
                _send(
                    session,
                    customer=people[customer_id],
                    offer=offer,
                    channel=choice.channel,
                    deliver_at=choice.deliver_at,
                    expected_value=value,
                    config=config,
                    contact=contact,
                )
            )
    session.flush()
    return ReactivationResult(
        offer_id=offer.id,
        considered=considered,
        sent=len(attempts),
        attempt_ids=[a.id for a in attempts if a.id is not None],
        held_back=dict(held_back),
    )


def _log_held_back(
    session: Session,
    customer_id: int,
    choice: _Choice,
    at: datetime,
    contact: ContactPolicyConfig,
) -> None:
    # A timed refusal (cap, collision) drops this touch; a later run may try again.
    timed = choice.decision.reason_code in TIMED_REASONS
    record_touch(
        session=session,
        customer_id=customer_id,
        channel_code=choice.channel.code,
        kind=TouchKind.REACTIVATION,
        outcome=ContactOutcome.DROPPED if timed else ContactOutcome.BLOCKED,
        reason=f"reactivation offer not sent: {choice.decision.reason}",
        reason_code=choice.decision.reason_code,
        at=at,
        config=contact,
    )


def _send(
    session: Session,
    *,
    customer: Customer,
    offer: Offer,
    channel: ChannelFacts,
    deliver_at: datetime,
    expected_value: float,
    config: ReactivationConfig,
    contact: ContactPolicyConfig,
) -> ReactivationAttempt:
    assert customer.id is not None and offer.id is not None
    key = f"reactivation:{customer.id}:{deliver_at.date().isoformat()}"
    window_ends_at = deliver_at + timedelta(days=config.window_days)
    subject, body = _message(customer, offer, deliver_at)
    message = deliver(
        session=session,
        customer=customer,
        channel_code=channel.code,
        kind=TouchKind.REACTIVATION,
        deliver_at=deliver_at,
        subject=subject,
        body=body,
        dedupe_key=key,
        payload={
            "kind": "reactivation",
            "offer_id": offer.id,
            "offer_code": offer.code,
            "window_ends_at": window_ends_at.isoformat(),
        },
        reason=f"reactivation offer {offer.code}",
        staff_id=None,
        config=contact,
    )
    attempt = ReactivationAttempt(
        customer_id=customer.id,
        offer_id=offer.id,
        channel_id=channel.id,
        outbox_id=message.id,
        expected_value_minor=round(expected_value),
        sent_at=deliver_at,
        window_ends_at=window_ends_at,
        dedupe_key=key,
    )
    session.add(attempt)
    return attempt


def close_windows(
    *, session: Session, as_of: datetime, config: ReactivationConfig | None = None
) -> CloseResult:
    """Close reactivation windows as of a moment, set-wise.

    An order, or one of the configured response events, between the send and the end of the
    window (and not after `as_of`) marks the attempt responded; the stage machine moves the
    customer on its own when it records the order. An open window that ended without a
    response marks the attempt lost and, if the customer is still sleeping, makes them lost.
    """
    config = config or default_config().reactivation
    as_of = as_utc(as_of)
    attempt = ReactivationAttempt

    def within_window(moment: Any) -> Any:
        return and_(
            moment >= col(attempt.sent_at),
            moment <= col(attempt.window_ends_at),
            moment <= as_of,
        )

    ordered = exists(
        select(col(Order.id)).where(
            col(Order.customer_id) == col(attempt.customer_id),
            col(Order.kind) == OrderKind.SALE,
            col(Order.status) == OrderStatus.COMPLETED,
            within_window(col(Order.ordered_at)),
        )
    )
    engaged = exists(
        select(col(Event.id)).where(
            col(Event.customer_id) == col(attempt.customer_id),
            col(Event.type).in_(config.response_events),
            within_window(col(Event.occurred_at)),
        )
    )
    responded = cast(
        CursorResult[Any],
        session.execute(
            update(attempt)
            .where(col(attempt.status) == AttemptStatus.OPEN, or_(ordered, engaged))
            .values(status=AttemptStatus.RESPONDED, closed_at=as_of)
            .execution_options(synchronize_session=False)
        ),
    )
    lapsed = session.execute(
        select(
            col(attempt.id),
            col(attempt.customer_id),
            col(attempt.sent_at),
            col(attempt.window_ends_at),
            col(Offer.code),
        )
        .join(Offer, col(Offer.id) == col(attempt.offer_id))
        .where(col(attempt.status) == AttemptStatus.OPEN, col(attempt.window_ends_at) <= as_of)
        .order_by(col(attempt.id))
    ).all()
    for start in range(0, len(lapsed), BATCH):
        ids = [row[0] for row in lapsed[start : start + BATCH]]
        session.execute(
            update(attempt)
            .where(col(attempt.id).in_(ids))
            .values(status=AttemptStatus.LOST, closed_at=as_of)
            .execution_options(synchronize_session=False)
        )
    lost = _make_lost(session, lapsed)
    session.flush()
    return CloseResult(responded=int(responded.rowcount), lost=len(lapsed), lost_customer_ids=lost)


def _make_lost(session: Session, lapsed: Sequence[Any]) -> list[int]:
    """Mark the still-sleeping customers of lapsed attempts lost through the stage machine."""
    sleeping_since: dict[int, datetime] = {}
    customer_ids = sorted({row[1] for row in lapsed})
    for start in range(0, len(customer_ids), BATCH):
        rows = session.execute(
            select(col(Customer.id), col(Customer.stage_since)).where(
                col(Customer.id).in_(customer_ids[start : start + BATCH]),
                col(Customer.stage) == Stage.SLEEPING,
            )
        )
        sleeping_since.update((customer_id, since) for customer_id, since in rows)
    lost: list[int] = []
    for _, customer_id, sent_at, window_ends_at, code in lapsed:
        if customer_id not in sleeping_since or customer_id in lost:
            continue
        days = (window_ends_at - sent_at).days
        # Lost from the window's end, unless they fell asleep again after it.
        at = max(window_ends_at, as_utc(sleeping_since[customer_id]))
        mark_lost(
            session=session,
            customer_id=customer_id,
            at=at,
            reason=f"no response to the reactivation offer {code} within {days} days",
        )
        lost.append(customer_id)
    return lost
