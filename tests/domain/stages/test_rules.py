"""The pure stage rules on hand-picked facts: stages, reasons and dates, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.stages.config import EngagementResponse, StagesConfig, load_config
from domain.stages.rules import (
    DAY,
    Facts,
    Position,
    Verdict,
    classify,
    counts_as_engagement,
    propose,
    rhythm_seconds,
)
from domain.stages.vocabulary import Stage

RETAIL = load_config("consumer_retail").stages
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def buyer(
    *,
    first: float,
    last: float,
    orders: int,
    revenue: int = 10_000,
    engaged: float | None = None,
    p_alive: float | None = None,
    scored: float | None = None,
) -> Facts:
    """A buyer's facts, dates in days after T0."""
    return Facts(
        first_order_at=day(first),
        last_order_at=day(last),
        order_count=orders,
        net_revenue_minor=revenue,
        last_engaged_at=day(engaged) if engaged is not None else None,
        p_alive=p_alive,
        p_alive_at=day(scored) if scored is not None else None,
    )


def stay_when_engaged(config: StagesConfig) -> StagesConfig:
    sleeping = config.sleeping.model_copy(update={"on_engagement": EngagementResponse.STAY})
    return config.model_copy(update={"sleeping": sleeping})


def test_the_usual_rhythm_is_the_own_time_between_orders_within_bounds() -> None:
    assert rhythm_seconds(buyer(first=0, last=93, orders=4), RETAIL.rhythm) == 31 * DAY
    assert rhythm_seconds(buyer(first=0, last=6, orders=4), RETAIL.rhythm) == 14 * DAY
    assert rhythm_seconds(buyer(first=0, last=3000, orders=2), RETAIL.rhythm) == 365 * DAY
    assert rhythm_seconds(buyer(first=0, last=0, orders=1), RETAIL.rhythm) == 60 * DAY


def test_a_contact_without_engagement_is_a_prospect_and_one_who_engaged_a_lead() -> None:
    assert classify(Facts(), as_of=day(10), config=RETAIL).stage == Stage.PROSPECT
    lead = classify(Facts(last_engaged_at=day(3)), as_of=day(10), config=RETAIL)
    assert lead == Verdict(Stage.LEAD, "engaged, no order yet", day(10))


def test_a_lead_falls_asleep_after_the_configured_year_without_engagement() -> None:
    facts = Facts(last_engaged_at=day(0))
    assert classify(facts, as_of=day(364), config=RETAIL).stage == Stage.LEAD
    assert classify(facts, as_of=day(400), config=RETAIL) == Verdict(
        Stage.SLEEPING, "no engagement for 400 days and no order", day(365)
    )


def test_buyers_are_first_time_repeat_or_loyal_by_orders_and_net_revenue() -> None:
    assert classify(buyer(first=0, last=0, orders=1), as_of=day(5), config=RETAIL) == Verdict(
        Stage.FIRST_TIME_BUYER, "first order", day(5)
    )
    assert classify(buyer(first=0, last=40, orders=4), as_of=day(41), config=RETAIL) == Verdict(
        Stage.REPEAT, "4 orders", day(41)
    )
    rich = buyer(first=0, last=40, orders=5, revenue=50_000)
    assert classify(rich, as_of=day(41), config=RETAIL) == Verdict(
        Stage.LOYAL, "5 orders, net revenue at the VIP threshold", day(41)
    )
    returned = buyer(first=0, last=40, orders=5, revenue=49_999)
    assert classify(returned, as_of=day(41), config=RETAIL).stage == Stage.REPEAT


def test_a_buyer_is_at_risk_past_one_and_a_half_times_their_own_rhythm() -> None:
    facts = buyer(first=0, last=93, orders=4)  # every 31 days
    assert classify(facts, as_of=day(93 + 46), config=RETAIL).stage == Stage.REPEAT
    assert classify(facts, as_of=day(93 + 50), config=RETAIL) == Verdict(
        Stage.AT_RISK, "no order for 50 days, 1.6× their usual 31-day rhythm", day(93 + 46.5)
    )


def test_a_buyer_is_asleep_past_three_times_their_rhythm_dated_when_they_crossed_it() -> None:
    facts = buyer(first=0, last=93, orders=4)
    assert classify(facts, as_of=day(93 + 94), config=RETAIL) == Verdict(
        Stage.SLEEPING, "no order for 94 days, 3.0× their usual 31-day rhythm", day(93 + 93)
    )


def test_one_time_buyers_are_judged_against_the_population_default_rhythm() -> None:
    facts = buyer(first=10, last=10, orders=1)
    assert classify(facts, as_of=day(10 + 95), config=RETAIL) == Verdict(
        Stage.AT_RISK, "no order for 95 days, 1.5× the usual 60-day rhythm", day(10 + 90)
    )


def test_a_low_p_alive_puts_a_buyer_to_sleep_from_the_day_it_was_scored() -> None:
    facts = buyer(first=0, last=93, orders=4, p_alive=0.12, scored=100)
    assert classify(facts, as_of=day(110), config=RETAIL) == Verdict(
        Stage.SLEEPING, "P(alive) 12%, below the 20% threshold", day(100)
    )


@pytest.mark.parametrize(
    ("p_alive", "scored", "as_of"),
    [(0.25, 100, 110), (0.12, 90, 110), (0.12, 120, 110)],
    ids=["above threshold", "scored before the last order", "scored after as_of"],
)
def test_p_alive_counts_only_when_low_and_scored_after_the_last_order(
    p_alive: float, scored: int, as_of: int
) -> None:
    facts = buyer(first=0, last=93, orders=4, p_alive=p_alive, scored=scored)
    assert classify(facts, as_of=day(as_of), config=RETAIL).stage == Stage.REPEAT


def test_p_alive_below_zero_turns_p_alive_off() -> None:
    sleeping = RETAIL.sleeping.model_copy(update={"p_alive_below": 0.0})
    config = RETAIL.model_copy(update={"sleeping": sleeping})
    facts = buyer(first=0, last=93, orders=4, p_alive=0.0, scored=100)
    assert classify(facts, as_of=day(110), config=config).stage == Stage.REPEAT


def test_engagement_after_falling_asleep_makes_a_buyer_at_risk_for_the_window() -> None:
    facts = buyer(first=0, last=93, orders=4, engaged=200)
    assert classify(facts, as_of=day(203), config=RETAIL) == Verdict(
        Stage.AT_RISK,
        "no order for 110 days, 3.5× their usual 31-day rhythm, but engaged 3 days ago",
        day(200),
    )
    assert classify(facts, as_of=day(231), config=RETAIL) == Verdict(
        Stage.SLEEPING, "no order for 138 days, 4.4× their usual 31-day rhythm", day(230)
    )


def test_engagement_is_ignored_for_sleeping_buyers_when_configured_to_stay() -> None:
    facts = buyer(first=0, last=93, orders=4, engaged=200)
    assert classify(facts, as_of=day(203), config=stay_when_engaged(RETAIL)) == Verdict(
        Stage.SLEEPING, "no order for 110 days, 3.5× their usual 31-day rhythm", day(186)
    )


def test_signup_and_unsubscribe_are_not_engagement_but_unknown_event_types_are() -> None:
    assert not counts_as_engagement("signup")
    assert not counts_as_engagement("unsubscribe")
    assert counts_as_engagement("email_click")
    assert counts_as_engagement("webinar_attended")


def test_a_sleeping_buyer_who_buys_is_reactivated() -> None:
    facts = buyer(first=0, last=250, orders=5)
    verdict = propose(Position(Stage.SLEEPING, day(186)), facts, as_of=day(250), config=RETAIL)
    assert verdict == Verdict(Stage.REACTIVATED, "ordered again after sleeping", day(250))


def test_a_lost_buyer_who_buys_is_reactivated_and_engagement_alone_changes_nothing() -> None:
    lost = Position(Stage.LOST, day(200))
    engaged = buyer(first=0, last=93, orders=4, engaged=210)
    assert propose(lost, engaged, as_of=day(210), config=RETAIL) is None
    bought = buyer(first=0, last=220, orders=5)
    assert propose(lost, bought, as_of=day(220), config=RETAIL) == Verdict(
        Stage.REACTIVATED, "ordered again after being lost", day(220)
    )


def test_a_sleeping_lead_who_buys_makes_a_first_order_and_one_who_engages_is_a_lead() -> None:
    asleep = Position(Stage.SLEEPING, day(365))
    first = Facts(first_order_at=day(400), last_order_at=day(400), order_count=1)
    assert propose(asleep, first, as_of=day(400), config=RETAIL) == Verdict(
        Stage.FIRST_TIME_BUYER, "first order", day(400)
    )
    back = Facts(last_engaged_at=day(400))
    assert propose(asleep, back, as_of=day(400), config=RETAIL) == Verdict(
        Stage.LEAD, "engaged, no order yet", day(400)
    )


def test_a_reactivated_customer_settles_into_repeat_after_the_configured_days() -> None:
    position = Position(Stage.REACTIVATED, day(250))
    facts = buyer(first=0, last=250, orders=2)  # a 250-day rhythm: not at risk for a year
    assert propose(position, facts, as_of=day(429), config=RETAIL) is None
    assert propose(position, facts, as_of=day(431), config=RETAIL) == Verdict(
        Stage.REPEAT, "settled after reactivation: 2 orders", day(430)
    )


def test_a_reactivated_customer_settles_after_the_configured_further_orders() -> None:
    position = Position(Stage.REACTIVATED, day(250))
    facts = buyer(first=0, last=280, orders=7, revenue=60_000)
    assert propose(position, facts, as_of=day(280), config=RETAIL, orders_since_stage=1) is None
    assert propose(position, facts, as_of=day(280), config=RETAIL, orders_since_stage=2) == Verdict(
        Stage.LOYAL,
        "settled after reactivation: 7 orders, net revenue at the VIP threshold",
        day(280),
    )


def test_a_reactivated_customer_who_slows_down_again_is_at_risk_without_settling() -> None:
    position = Position(Stage.REACTIVATED, day(250))
    facts = buyer(first=0, last=250, orders=5)  # every 62.5 days
    verdict = propose(position, facts, as_of=day(350), config=RETAIL)
    assert verdict == Verdict(
        Stage.AT_RISK, "no order for 100 days, 1.6× their usual 63-day rhythm", day(250 + 93.75)
    )


def test_no_change_is_dated_before_the_current_stage_began_or_after_as_of() -> None:
    # The crossing (day 186) lies before the customer became at risk on day 190.
    at_risk = Position(Stage.AT_RISK, day(190))
    verdict = propose(at_risk, buyer(first=0, last=93, orders=4), as_of=day(200), config=RETAIL)
    assert verdict is not None
    assert (verdict.stage, verdict.at) == (Stage.SLEEPING, day(190))
    assert (
        propose(at_risk, buyer(first=0, last=93, orders=4), as_of=day(189), config=RETAIL) is None
    )


def test_a_prospect_has_no_history_so_a_backdated_first_order_keeps_its_date() -> None:
    prospect = Position(Stage.PROSPECT, day(500))
    first = Facts(first_order_at=day(20), last_order_at=day(20), order_count=1)
    assert propose(prospect, first, as_of=day(20), config=RETAIL) == Verdict(
        Stage.FIRST_TIME_BUYER, "first order", day(20)
    )
