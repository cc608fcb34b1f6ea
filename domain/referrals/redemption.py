"""Redeeming a referral code: abuse rules, linking the referee to their referrer."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from domain.channels.models import Channel, ChannelCode
from domain.clock import as_utc
from domain.contact.errors import UnknownCustomer
from domain.customers.models import Customer
from domain.orders.models import Order, OrderKind, OrderStatus
from domain.referrals.config import ReferralConfig
from domain.referrals.models import Offer, Referral, ReferralRedemption, ReferralStatus
from domain.referrals.results import NewReferee, ReferralRedeemed, ReferralRefused, RefusalCode
from domain.referrals.rules import normalise_email, same_person
from domain.stages.config import default_config


class _Refusal(Exception):
    """Leaves the savepoint (undoing its writes) with a refusal to return."""

    def __init__(self, refusal: ReferralRefused) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


def redeem_referral(
    *,
    session: Session,
    code: str,
    referee: int | NewReferee,
    at: datetime,
    config: ReferralConfig | None = None,
) -> ReferralRedeemed | ReferralRefused:
    """Link a referee (a customer id, or a new person's details) to the referrer behind `code`.

    Refused: unknown code, inactive offer, expired link, self-referral (same customer, email
    or phone), a referee already referred or who has bought before, the referrer's monthly
    limit, and a code used up. A new person becomes a customer only when the redemption holds.
    """
    config = config or default_config().referrals
    at = as_utc(at)
    referral = session.scalars(select(Referral).where(col(Referral.code) == code.strip())).first()
    if referral is None:
        return ReferralRefused(RefusalCode.UNKNOWN_CODE, "this referral link is not valid")
    offer = session.get(Offer, referral.offer_id)
    referrer = session.get(Customer, referral.referrer_id)
    assert offer is not None and referrer is not None and referral.id is not None
    existing = _existing_referee(session, referee)

    refusal = _refusal(session, referral, offer, referrer, existing, referee, at, config)
    if refusal is not None:
        if refusal.reason_code is RefusalCode.EXPIRED and referral.status == ReferralStatus.SENT:
            referral.status = ReferralStatus.EXPIRED
            session.add(referral)
            session.flush()
        return refusal

    try:
        with session.begin_nested():
            customer = existing or _new_customer(session, referee, at)
            assert customer.id is not None
            _take_use(session, referral, offer)
            customer.referred_by_id = referrer.id
            redemption = ReferralRedemption(
                referral_id=referral.id, referee_id=customer.id, redeemed_at=at
            )
            session.add_all([customer, redemption])
            if referral.referee_id is None:
                referral.referee_id = customer.id
                referral.redeemed_at = at
            if referral.status in (ReferralStatus.SENT, ReferralStatus.EXPIRED):
                referral.status = ReferralStatus.REDEEMED
            session.add(referral)
    except _Refusal as refused:
        return refused.refusal
    except IntegrityError:
        # The same referee redeemed a code concurrently; the unique referee column held.
        return ReferralRefused(
            RefusalCode.ALREADY_REFERRED, "this person has already redeemed a referral"
        )
    return ReferralRedeemed(
        referral=referral, redemption=redemption, referee=customer, new_customer=existing is None
    )


def _refusal(
    session: Session,
    referral: Referral,
    offer: Offer,
    referrer: Customer,
    existing: Customer | None,
    referee: int | NewReferee,
    at: datetime,
    config: ReferralConfig,
) -> ReferralRefused | None:
    if not offer.active:
        return ReferralRefused(RefusalCode.OFFER_INACTIVE, f"the offer {offer.name} has ended")
    if at >= referral.expires_at:
        return ReferralRefused(
            RefusalCode.EXPIRED,
            f"this referral link expired on {referral.expires_at:%Y-%m-%d}",
        )
    email, phone = _contact_details(existing, referee)
    if existing is not None and existing.id == referrer.id:
        return ReferralRefused(
            RefusalCode.SELF_REFERRAL, "customers cannot redeem their own referral link"
        )
    shared = same_person(email, phone, referrer.email, referrer.phone)
    if shared is not None:
        return ReferralRefused(
            RefusalCode.SELF_REFERRAL,
            f"the new customer's {shared} is the referrer's own; self-referrals do not count",
        )
    if existing is not None:
        who = existing.name or "This customer"
        if existing.referred_by_id is not None or _has_redeemed(session, existing):
            return ReferralRefused(
                RefusalCode.ALREADY_REFERRED,
                f"{who} was already referred; each new customer can be referred once",
            )
        if _has_bought(session, existing):
            return ReferralRefused(
                RefusalCode.ALREADY_CUSTOMER,
                f"{who} has bought before; referral benefits are for new customers",
            )
    if _redeemed_this_month(session, referrer, at) >= config.monthly_redemption_limit:
        return ReferralRefused(
            RefusalCode.MONTHLY_LIMIT,
            f"{referrer.name or 'the referrer'} reached the limit of "
            f"{config.monthly_redemption_limit} referrals this month",
        )
    if referral.uses >= offer.max_uses:
        return _used_up(offer)
    return None


def _contact_details(
    existing: Customer | None, referee: int | NewReferee
) -> tuple[str | None, str | None]:
    if existing is not None:
        return existing.email, existing.phone
    assert isinstance(referee, NewReferee)
    return referee.email, referee.phone


def _used_up(offer: Offer) -> ReferralRefused:
    times = "once" if offer.max_uses == 1 else f"{offer.max_uses} times"
    return ReferralRefused(
        RefusalCode.MAX_USES, f"this referral link was already used {times}, its maximum"
    )


def _take_use(session: Session, referral: Referral, offer: Offer) -> None:
    """Count one use, atomically, so concurrent redemptions never exceed the maximum."""
    taken = cast(
        CursorResult[Any],
        session.execute(
            update(Referral)
            .where(col(Referral.id) == referral.id, col(Referral.uses) < offer.max_uses)
            .values(uses=col(Referral.uses) + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    if taken.rowcount != 1:
        raise _Refusal(_used_up(offer))
    session.refresh(referral, ["uses"])


def _existing_referee(session: Session, referee: int | NewReferee) -> Customer | None:
    if isinstance(referee, int):
        customer = session.get(Customer, referee)
        if customer is None:
            raise UnknownCustomer(referee)
        return customer
    if referee.external_id:
        found = session.scalars(
            select(Customer).where(col(Customer.external_id) == referee.external_id)
        ).first()
        if found is not None:
            return found
    email = normalise_email(referee.email)
    if email is None:
        return None
    # Exact match on the trimmed, lower-cased address (the index cannot help with +tags).
    plain = (referee.email or "").strip().lower()
    return session.scalars(
        select(Customer)
        .where(func.lower(func.trim(col(Customer.email))) == plain)
        .order_by(col(Customer.id))
    ).first()


def _new_customer(session: Session, referee: int | NewReferee, at: datetime) -> Customer:
    assert isinstance(referee, NewReferee)
    customer = Customer(
        external_id=referee.external_id or f"referral-{secrets.token_hex(8)}",
        name=referee.name,
        email=referee.email.strip() if referee.email else None,
        phone=referee.phone.strip() if referee.phone else None,
        acquisition_channel_id=session.scalars(
            select(col(Channel.id)).where(col(Channel.code) == ChannelCode.REFERRAL)
        ).first(),
        created_at=at,
        stage_since=at,
    )
    session.add(customer)
    session.flush()
    return customer


def _has_redeemed(session: Session, customer: Customer) -> bool:
    return (
        session.scalars(
            select(col(ReferralRedemption.id)).where(
                col(ReferralRedemption.referee_id) == customer.id
            )
        ).first()
        is not None
    )


def _has_bought(session: Session, customer: Customer) -> bool:
    return (
        session.scalars(
            select(col(Order.id)).where(
                col(Order.customer_id) == customer.id,
                col(Order.kind) == OrderKind.SALE,
                col(Order.status) == OrderStatus.COMPLETED,
            )
        ).first()
        is not None
    )


def _redeemed_this_month(session: Session, referrer: Customer, at: datetime) -> int:
    start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    count = session.scalar(
        select(func.count(col(ReferralRedemption.id)))
        .join(Referral, col(Referral.id) == col(ReferralRedemption.referral_id))
        .where(
            col(Referral.referrer_id) == referrer.id,
            col(ReferralRedemption.redeemed_at) >= start,
            col(ReferralRedemption.redeemed_at) < end,
        )
    )
    return int(count or 0)
