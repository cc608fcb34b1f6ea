"""Referral analytics with exact figures, in total, per referrer and per staff member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from domain.orders.models import OrderKind
from domain.referrals.conversion import on_order_paid
from domain.referrals.results import NewReferee, ReferralStats
from domain.referrals.stats import referral_stats
from tests.domain.referrals.factories import make_offer, make_referrer, redeem, send_offer
from tests.factories import make_order, make_staff

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


def day(month: int, d: int) -> datetime:
    return datetime(2026, month, d, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Ids:
    r1: int
    r2: int
    r3: int
    s1: int
    s2: int


def november(session: Session) -> Ids:
    """R1 (by S1): two offers, one referee who buys 50.00 and returns 15.00; R2 (by S2): one
    offer redeemed, no order; R3 (no staff): an October offer redeemed and converted in
    November with a 30.00 order. Around them: an order before November, one after it, and a
    cancelled one, none of which count."""
    offer = make_offer(session, referrer_reward_minor=1000, valid_days=30)
    s1, s2 = make_staff(session), make_staff(session)
    r1, r2, r3 = (make_referrer(session) for _ in range(3))

    r3_sent = send_offer(session, r3, offer, at=day(10, 20))
    r1_first = send_offer(session, r1, offer, at=day(11, 5), staff_id=s1.id)
    send_offer(session, r1, offer, at=day(11, 10), staff_id=s1.id)
    r2_sent = send_offer(session, r2, offer, at=day(11, 6), staff_id=s2.id)

    b3 = redeem(session, r3_sent.referral.code, NewReferee(email="b3@x.com"), at=day(11, 3)).referee
    b1 = redeem(
        session, r1_first.referral.code, NewReferee(email="b1@x.com"), at=day(11, 7)
    ).referee
    redeem(session, r2_sent.referral.code, NewReferee(email="b2@x.com"), at=day(11, 8))

    sale = make_order(session, b1, at=day(11, 9), total_minor=5000)
    make_order(session, b1, at=day(11, 12), total_minor=-1500, kind=OrderKind.RETURN)
    make_order(session, b1, at=day(11, 13), total_minor=9999, status="cancelled")
    make_order(session, b1, at=day(12, 2), total_minor=7000)
    first_b3 = make_order(session, b3, at=day(11, 4), total_minor=3000)
    for customer_id, order_id, at in (
        (b1.id, sale.id, day(11, 9)),
        (b3.id, first_b3.id, day(11, 4)),
    ):
        on_order_paid(session=session, customer_id=customer_id, order_id=order_id, at=at)
    return Ids(r1.id, r2.id, r3.id, s1.id, s2.id)


def test_totals_count_each_event_in_its_period(session: Session) -> None:
    november(session)
    assert referral_stats(session=session, start=START, end=END) == [
        ReferralStats(
            key=None,
            sent=3,
            redeemed=3,
            converted=2,
            reward_cost_minor=2000,
            referee_revenue_minor=6500,
        )
    ]


def test_figures_per_referrer(session: Session) -> None:
    ids = november(session)
    assert referral_stats(session=session, start=START, end=END, by="referrer") == [
        ReferralStats(ids.r1, 2, 1, 1, 1000, 3500),
        ReferralStats(ids.r2, 1, 1, 0, 0, 0),
        ReferralStats(ids.r3, 0, 1, 1, 1000, 3000),
    ]


def test_figures_per_staff_member(session: Session) -> None:
    ids = november(session)
    assert referral_stats(session=session, start=START, end=END, by="staff") == [
        ReferralStats(None, 0, 1, 1, 1000, 3000),
        ReferralStats(ids.s1, 2, 1, 1, 1000, 3500),
        ReferralStats(ids.s2, 1, 1, 0, 0, 0),
    ]


def test_an_empty_period_has_zero_totals_and_no_groups(session: Session) -> None:
    november(session)
    empty_start, empty_end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC)
    assert referral_stats(session=session, start=empty_start, end=empty_end) == [
        ReferralStats(None, 0, 0, 0, 0, 0)
    ]
    assert referral_stats(session=session, start=empty_start, end=empty_end, by="staff") == []
