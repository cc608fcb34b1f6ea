"""Factories for referral tests: offers, qualifying referrers, sent and redeemed referrals."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from domain.customers.models import Customer
from domain.referrals.models import Offer, OfferKind
from domain.referrals.redemption import redeem_referral
from domain.referrals.results import NewReferee, ReferralRedeemed, ReferralSent
from domain.referrals.service import trigger_referral_offer
from tests.factories import grant_consent, make_customer

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
_seq = itertools.count(1)


def make_offer(session: Session, **overrides: Any) -> Offer:
    """An active referral offer: 10.00 to the referrer, 30 days, one use per code."""
    n = next(_seq)
    values: dict[str, Any] = {
        "code": f"MGM{n}",
        "name": "Bring a friend",
        "kind": OfferKind.REFERRAL,
        "referrer_reward_minor": 1000,
        "referee_benefit": "10% off their first order",
        "valid_days": 30,
        "max_uses": 1,
    }
    values.update(overrides)
    row = Offer(**values)
    session.add(row)
    session.flush()
    return row


def make_referrer(session: Session, **overrides: Any) -> Customer:
    """A loyal (VIP) customer with email consent."""
    values: dict[str, Any] = {"name": "Anna Berg", "stage": "loyal"}
    values.update(overrides)
    customer = make_customer(session, **values)
    grant_consent(session, customer, "email")
    return customer


def send_offer(
    session: Session,
    referrer: Customer,
    offer: Offer,
    *,
    at: datetime = AT,
    staff_id: int | None = None,
    channel_code: str = "email",
) -> ReferralSent:
    """A referral offer that must go out."""
    result = trigger_referral_offer(
        session=session,
        customer_id=referrer.id,
        offer_id=offer.id,
        staff_id=staff_id,
        channel_code=channel_code,
        idempotency_key=f"tap-{next(_seq)}",
        at=at,
    )
    assert isinstance(result, ReferralSent), result
    return result


def redeem(
    session: Session, code: str, referee: int | NewReferee, *, at: datetime
) -> ReferralRedeemed:
    """A redemption that must hold."""
    result = redeem_referral(session=session, code=code, referee=referee, at=at)
    assert isinstance(result, ReferralRedeemed), result
    return result
