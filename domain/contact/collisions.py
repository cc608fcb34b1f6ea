"""Priority among touches planned for one moment: the higher goes, the others wait or drop."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from domain.clock import as_utc
from domain.contact.config import ContactPolicyConfig
from domain.contact.errors import UnknownChannel, UnknownCustomer
from domain.contact.models import ContactLog, ContactOutcome
from domain.contact.policy import (
    TIMED_REASONS,
    ChannelFacts,
    ContactDecision,
    CustomerFacts,
    SentTouch,
    evaluate,
    kind_word,
)
from domain.contact.queries import all_channel_facts, customer_facts
from domain.stages.config import default_config


@dataclass(frozen=True)
class PlannedTouch:
    """A touch someone wants to send at the planning moment, valid until `valid_until`."""

    key: str
    customer_id: int
    channel_code: str
    kind: str
    valid_until: datetime
    priority: int | None = None
    staff_id: int | None = None


class TouchAction(StrEnum):
    """What to do with a planned touch."""

    SEND = "send"
    DEFER = "defer"
    DROP = "drop"
    BLOCK = "block"


@dataclass(frozen=True)
class TouchPlan:
    """The verdict on one planned touch: send now, send at `send_at`, or not at all (and why)."""

    touch: PlannedTouch
    action: TouchAction
    send_at: datetime | None
    decision: ContactDecision


_OUTCOMES = {
    TouchAction.DEFER: ContactOutcome.DEFERRED,
    TouchAction.DROP: ContactOutcome.DROPPED,
    TouchAction.BLOCK: ContactOutcome.BLOCKED,
}


def resolve_collisions(
    *,
    session: Session,
    touches: Sequence[PlannedTouch],
    at: datetime,
    config: ContactPolicyConfig | None = None,
) -> list[TouchPlan]:
    """Decide every planned touch of a batch at `at`, in input order, logging the held-back ones.

    Per customer, touches go in priority order (then the sooner-expiring first); each one is
    judged against the touches already sent and those this batch has booked, so when a
    journey touch meets a campaign the higher one goes and the other moves to the first
    slot the policy allows within its validity, or drops. Deferred, dropped and blocked
    touches get a ContactLog row with the reason; the caller sends the SEND plans (and the
    DEFER plans at `send_at`) and records them with `record_touch`.
    """
    config = config or default_config().contact
    at = as_utc(at)
    channels = all_channel_facts(session)
    facts = customer_facts(session, {t.customer_id for t in touches}, at=at, config=config)
    by_customer: dict[int, list[int]] = defaultdict(list)
    for index, touch in enumerate(touches):
        if touch.channel_code not in channels:
            raise UnknownChannel(touch.channel_code)
        if touch.customer_id not in facts:
            raise UnknownCustomer(touch.customer_id)
        by_customer[touch.customer_id].append(index)

    plans: dict[int, TouchPlan] = {}
    for customer_id, indexes in by_customer.items():
        customer = facts[customer_id]
        ordered = sorted(
            indexes,
            key=lambda i: (-_priority(touches[i], config), as_utc(touches[i].valid_until), i),
        )
        for index in ordered:
            plan = _plan(
                touches[index], customer, at, channels[touches[index].channel_code], config
            )
            plans[index] = plan
            if plan.send_at is not None and plan.touch.kind in config.marketing_kinds:
                booked = SentTouch(plan.send_at, plan.touch.kind, _priority(plan.touch, config))
                customer = replace(customer, touches=(*customer.touches, booked))
    ordered_plans = [plans[i] for i in range(len(touches))]
    _log_held_back(session, ordered_plans, at, channels, config)
    return ordered_plans


def _priority(touch: PlannedTouch, config: ContactPolicyConfig) -> int:
    return config.priority_of(touch.kind) if touch.priority is None else touch.priority


def _plan(
    touch: PlannedTouch,
    customer: CustomerFacts,
    at: datetime,
    channel: ChannelFacts,
    config: ContactPolicyConfig,
) -> TouchPlan:
    decision = evaluate(
        customer=customer,
        channel=channel,
        kind=touch.kind,
        priority=touch.priority,
        at=at,
        config=config,
    )
    if decision.allowed:
        return TouchPlan(touch, TouchAction.SEND, at, decision)
    if decision.reason_code not in TIMED_REASONS:
        return TouchPlan(touch, TouchAction.BLOCK, None, decision)
    if decision.retry_at is not None and decision.retry_at <= as_utc(touch.valid_until):
        return TouchPlan(touch, TouchAction.DEFER, decision.retry_at, decision)
    return TouchPlan(touch, TouchAction.DROP, None, decision)


def _log_held_back(
    session: Session,
    plans: Sequence[TouchPlan],
    at: datetime,
    channels: dict[str, ChannelFacts],
    config: ContactPolicyConfig,
) -> None:
    rows = []
    for plan in plans:
        if plan.action is TouchAction.SEND:
            continue
        touch = plan.touch
        channel = channels[touch.channel_code]
        rows.append(
            ContactLog(
                customer_id=touch.customer_id,
                channel_id=channel.id,
                kind=touch.kind,
                priority=_priority(touch, config),
                outcome=_OUTCOMES[plan.action],
                reason=_log_reason(plan)[:300],
                reason_code=plan.decision.reason_code,
                retry_at=plan.send_at if plan.action is TouchAction.DEFER else None,
                staff_id=touch.staff_id,
                at=at,
            )
        )
    session.add_all(rows)
    session.flush()


def _log_reason(plan: TouchPlan) -> str:
    reason = plan.decision.reason
    what = kind_word(plan.touch.kind)
    if plan.action is TouchAction.DEFER and plan.send_at is not None:
        return f"{what} deferred to {plan.send_at:%Y-%m-%d %H:%M} UTC: {reason}"
    if plan.action is TouchAction.DROP:
        return f"{what} dropped, no allowed slot before it expires: {reason}"
    return f"{what} not sent: {reason}"
