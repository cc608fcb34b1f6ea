"""The stage rules as pure functions: a customer's facts, a moment and the config → a stage.

`classify` is memoryless: the stage a customer's facts earn at a moment. `propose` adds
what only history knows (sleeping and lost end with a purchase, reactivated settles after
a while) and dates the change. Time is counted in whole seconds since the epoch and every
threshold is rounded the same way here and in the set-wise SQL (`domain/stages/sql.py`),
so the two agree to the second and word for word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from domain.clock import as_utc
from domain.events.models import EventType
from domain.stages.config import EngagementResponse, RhythmRules, SleepingRules, StagesConfig
from domain.stages.vocabulary import Stage

DAY = 86_400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Signing up makes someone a known contact (a prospect); unsubscribing is the opposite of
# engagement. Every other event, including types the engine does not know, is engagement.
NOT_ENGAGEMENT: frozenset[str] = frozenset({EventType.SIGNUP, EventType.UNSUBSCRIBE})
# Stages that time alone can change; the others wait for an order, an event or a decision.
DECAYING: frozenset[Stage] = frozenset(
    {
        Stage.LEAD,
        Stage.FIRST_TIME_BUYER,
        Stage.REPEAT,
        Stage.LOYAL,
        Stage.AT_RISK,
        Stage.REACTIVATED,
    }
)


@dataclass(frozen=True)
class Facts:
    """What the stage rules know about a customer (the Customer facts columns plus P(alive))."""

    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    order_count: int = 0
    net_revenue_minor: int = 0
    last_engaged_at: datetime | None = None
    # From the latest succeeded scoring run, which saw orders before `p_alive_at`.
    p_alive: float | None = None
    p_alive_at: datetime | None = None


@dataclass(frozen=True)
class Position:
    """A customer's current stage and since when."""

    stage: Stage
    since: datetime


@dataclass(frozen=True)
class Verdict:
    """A stage, why, and when it began."""

    stage: Stage
    reason: str
    at: datetime


def counts_as_engagement(event_type: str) -> bool:
    """Whether an event of this type counts as engagement."""
    return event_type not in NOT_ENGAGEMENT


def epoch_seconds(at: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC, rounded down."""
    return (as_utc(at) - EPOCH) // timedelta(seconds=1)


def from_epoch(seconds: int) -> datetime:
    """The UTC moment `seconds` after 1970-01-01."""
    return EPOCH + timedelta(seconds=seconds)


def rhythm_seconds(facts: Facts, rules: RhythmRules) -> float:
    """The customer's usual time between orders, within bounds; the default for one-time buyers."""
    if facts.order_count >= 2 and facts.first_order_at and facts.last_order_at:
        span = epoch_seconds(facts.last_order_at) - epoch_seconds(facts.first_order_at)
        own = span / (facts.order_count - 1)
        return min(max(own, float(rules.min_days * DAY)), float(rules.max_days * DAY))
    return float(rules.default_days * DAY)


def evaluation_moment(position: Position, at: datetime) -> datetime:
    """When something that happened at `at` is applied: a late arrival counts from the start
    of the current stage, so that history only moves forward (a prospect has no history)."""
    if position.stage == Stage.PROSPECT:
        return at
    return max(at, position.since)


def evaluation_floor(position: Position, as_of: datetime) -> datetime:
    """The earliest moment a change may be dated: a prospect has no history to contradict."""
    if position.stage == Stage.PROSPECT:
        return min(position.since, as_of)
    return position.since


def classify(facts: Facts, *, as_of: datetime, config: StagesConfig) -> Verdict:
    """The stage the facts earn at `as_of`, ignoring history (never reactivated or lost)."""
    now = epoch_seconds(as_of)
    if facts.order_count <= 0 or facts.last_order_at is None:
        return _classify_non_buyer(facts, as_of=as_of, config=config)
    last = epoch_seconds(facts.last_order_at)
    rhythm = rhythm_seconds(facts, config.rhythm)
    idle = now - last
    at_risk_after = math.ceil(rhythm * config.at_risk.rhythm_multiplier)
    sleeping_after = math.ceil(rhythm * config.sleeping.rhythm_multiplier)
    overdue = idle >= sleeping_after
    low = _low_score(facts, as_of, config.sleeping)
    slow = _slow_reason(idle, rhythm, facts.order_count)
    if overdue or low is not None:
        crossing = from_epoch(last + sleeping_after)
        if low is None:
            reason, asleep_at = slow, crossing
        elif overdue:
            reason, asleep_at = slow, min(crossing, low.scored_at)
        else:
            reason, asleep_at = _p_alive_reason(low.p_alive, config.sleeping), low.scored_at
        engaged_at = _engaged_after_last_order(facts, as_of, config.sleeping)
        if engaged_at is not None:
            engaged = epoch_seconds(engaged_at)
            window = config.sleeping.engagement_window_days * DAY
            if now - engaged < window:
                # Engaged after falling asleep: at risk from then on; before: never asleep.
                began = engaged_at if asleep_at <= engaged_at else from_epoch(last + at_risk_after)
                return Verdict(
                    Stage.AT_RISK, f"{reason}, but engaged {(now - engaged) // DAY} days ago", began
                )
            asleep_at = max(asleep_at, from_epoch(engaged + window))
        return Verdict(Stage.SLEEPING, reason, asleep_at)
    if idle >= at_risk_after:
        return Verdict(Stage.AT_RISK, slow, from_epoch(last + at_risk_after))
    if facts.order_count == 1:
        return Verdict(Stage.FIRST_TIME_BUYER, "first order", as_of)
    loyal = config.loyal
    if (
        facts.order_count >= loyal.min_orders
        and facts.net_revenue_minor >= loyal.min_net_revenue_minor
    ):
        return Verdict(
            Stage.LOYAL, f"{facts.order_count} orders, net revenue at the VIP threshold", as_of
        )
    return Verdict(Stage.REPEAT, f"{facts.order_count} orders", as_of)


def propose(
    position: Position,
    facts: Facts,
    *,
    as_of: datetime,
    config: StagesConfig,
    orders_since_stage: int = 0,
) -> Verdict | None:
    """The change the rules call for at `as_of`, or None; not yet checked against the table.

    `orders_since_stage` counts completed sales after `position.since` (only reactivated
    customers need it).
    """
    floor = evaluation_floor(position, as_of)
    if as_of < floor:
        return None
    earned = classify(facts, as_of=as_of, config=config)
    current = position.stage
    candidate: Verdict | None = None
    if current in (Stage.SLEEPING, Stage.LOST):
        bought = facts.last_order_at is not None and facts.last_order_at >= position.since
        if bought:
            was_buyer = facts.first_order_at is not None and facts.first_order_at < position.since
            if was_buyer:
                after = "sleeping" if current == Stage.SLEEPING else "being lost"
                candidate = Verdict(Stage.REACTIVATED, f"ordered again after {after}", as_of)
            else:
                candidate = Verdict(earned.stage, earned.reason, as_of)
        elif current == Stage.SLEEPING and earned.stage in (Stage.LEAD, Stage.AT_RISK):
            # Woken by engagement (or the rules no longer call them sleeping).
            candidate = Verdict(earned.stage, earned.reason, as_of)
    elif current == Stage.REACTIVATED:
        if earned.stage in (Stage.AT_RISK, Stage.SLEEPING):
            candidate = earned
        else:
            settled_at = _settled_at(position, as_of, config, orders_since_stage)
            if settled_at is not None:
                candidate = Verdict(
                    earned.stage, f"settled after reactivation: {earned.reason}", settled_at
                )
    else:
        candidate = earned
    if candidate is None or candidate.stage == current:
        return None
    began = min(as_of, max(floor, candidate.at))
    return Verdict(candidate.stage, candidate.reason, began)


def _classify_non_buyer(facts: Facts, *, as_of: datetime, config: StagesConfig) -> Verdict:
    if facts.last_engaged_at is None:
        return Verdict(Stage.PROSPECT, "no engagement yet", as_of)
    engaged = epoch_seconds(facts.last_engaged_at)
    quiet = epoch_seconds(as_of) - engaged
    after = config.lead.sleep_after_days * DAY
    if quiet >= after:
        return Verdict(
            Stage.SLEEPING,
            f"no engagement for {quiet // DAY} days and no order",
            from_epoch(engaged + after),
        )
    return Verdict(Stage.LEAD, "engaged, no order yet", as_of)


class _LowScore(NamedTuple):
    p_alive: float
    scored_at: datetime


def _low_score(facts: Facts, as_of: datetime, rules: SleepingRules) -> _LowScore | None:
    p_alive, scored_at = facts.p_alive, facts.p_alive_at
    if p_alive is None or scored_at is None or facts.last_order_at is None:
        return None
    # A score counts only once it exists and only if it saw the latest order.
    if p_alive < rules.p_alive_below and facts.last_order_at < scored_at <= as_of:
        return _LowScore(p_alive, scored_at)
    return None


def _engaged_after_last_order(
    facts: Facts, as_of: datetime, rules: SleepingRules
) -> datetime | None:
    engaged = facts.last_engaged_at
    if rules.on_engagement != EngagementResponse.AT_RISK or engaged is None:
        return None
    if facts.last_order_at is None or not facts.last_order_at < engaged <= as_of:
        return None
    return engaged


def _settled_at(
    position: Position, as_of: datetime, config: StagesConfig, orders_since_stage: int
) -> datetime | None:
    rules = config.reactivated
    since = epoch_seconds(position.since)
    settle_after = rules.settle_after_days * DAY
    if epoch_seconds(as_of) - since >= settle_after:
        return from_epoch(since + settle_after)
    if orders_since_stage >= rules.settle_after_orders:
        return as_of
    return None


def _slow_reason(idle: int, rhythm: float, order_count: int) -> str:
    tenths = math.floor(idle * 10 / rhythm)
    whose = "their" if order_count >= 2 else "the"
    days = math.floor(rhythm / DAY + 0.5)
    return (
        f"no order for {idle // DAY} days, {tenths // 10}.{tenths % 10}× "
        f"{whose} usual {days}-day rhythm"
    )


def p_alive_threshold_text(rules: SleepingRules) -> str:
    """The P(alive) threshold as a percentage, as reasons show it."""
    return f"{rules.p_alive_below * 100:g}%"


def _p_alive_reason(p_alive: float, rules: SleepingRules) -> str:
    percent = math.floor(p_alive * 100)
    return f"P(alive) {percent}%, below the {p_alive_threshold_text(rules)} threshold"
