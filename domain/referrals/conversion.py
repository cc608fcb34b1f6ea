"""A referee's first paid order converts their referral and earns the referrer's reward."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlmodel import Session, col

from domain.channels.models import Channel
from domain.clock import as_utc
from domain.contact.config import ContactPolicyConfig, TouchKind
from domain.contact.models import ContactOutcome
from domain.contact.outbound import deliver, delivery_time
from domain.contact.service import check, record_touch
from domain.customers.models import Customer
from domain.orders.models import Order, OrderKind, OrderStatus
from domain.outbox.models import OutboxMessage
from domain.referrals.errors import UnknownOrder
from domain.referrals.messages import reward_message
from domain.referrals.models import Offer, Referral, ReferralRedemption, ReferralStatus
from domain.referrals.money import settings_money
from domain.referrals.results import ReferralConverted
from domain.stages.config import default_config


def on_order_paid(
    *,
    session: Session,
    customer_id: int,
    order_id: int,
    at: datetime,
    contact_config: ContactPolicyConfig | None = None,
) -> ReferralConverted | None:
    """Grant the referrer's reward when a referred customer has a completed sale; None otherwise.

    Only a completed sale converts: a return or a cancelled order never does, and a reward
    once granted is not taken back by a later return. The converting order is the referee's
    earliest completed sale, so a call missed for the first order is made good by the next.
    Repeated calls grant nothing more.
    """
    contact_config = contact_config or default_config().contact
    at = as_utc(at)
    order = session.get(Order, order_id)
    if order is None or order.customer_id != customer_id:
        raise UnknownOrder(order_id, customer_id)
    if order.kind != OrderKind.SALE or order.status != OrderStatus.COMPLETED:
        return None
    redemption = session.scalars(
        select(ReferralRedemption).where(col(ReferralRedemption.referee_id) == customer_id)
    ).first()
    if redemption is None or redemption.converted_at is not None:
        return None
    referral = session.get(Referral, redemption.referral_id)
    assert referral is not None
    offer = session.get(Offer, referral.offer_id)
    assert offer is not None
    first_order_id = session.scalars(
        select(col(Order.id))
        .where(
            col(Order.customer_id) == customer_id,
            col(Order.kind) == OrderKind.SALE,
            col(Order.status) == OrderStatus.COMPLETED,
        )
        .order_by(col(Order.ordered_at), col(Order.id))
    ).first()

    # Conditional on "not converted yet", so two concurrent calls grant one reward.
    granted = cast(
        CursorResult[Any],
        session.execute(
            update(ReferralRedemption)
            .where(
                col(ReferralRedemption.id) == redemption.id,
                col(ReferralRedemption.converted_at).is_(None),
            )
            .values(
                converted_at=at,
                order_id=first_order_id,
                reward_minor=offer.referrer_reward_minor,
                reward_granted_at=at,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if granted.rowcount != 1:
        return None
    session.refresh(redemption)
    referral.status = ReferralStatus.CONVERTED
    referral.converted_at = referral.converted_at or at
    referral.reward_granted_at = referral.reward_granted_at or at
    session.add(referral)
    session.flush()
    notice = _notify_referrer(session, referral, redemption, offer, at, contact_config)
    return ReferralConverted(
        referral=referral,
        redemption=redemption,
        reward_minor=redemption.reward_minor,
        notice=notice,
    )


def _notify_referrer(
    session: Session,
    referral: Referral,
    redemption: ReferralRedemption,
    offer: Offer,
    at: datetime,
    config: ContactPolicyConfig,
) -> OutboxMessage | None:
    """Tell the referrer about their reward on the referral's channel, if the policy allows."""
    referrer = session.get(Customer, referral.referrer_id)
    channel = session.get(Channel, referral.channel_id) if referral.channel_id else None
    if referrer is None or referrer.id is None or channel is None:
        return None
    decision = check(
        session=session,
        customer_id=referrer.id,
        channel_code=channel.code,
        at=at,
        kind=TouchKind.SERVICE,
        config=config,
    )
    deliver_at = delivery_time(decision, at)
    if deliver_at is None:
        # The reward stands; only the notice is held back, and the log says why.
        record_touch(
            session=session,
            customer_id=referrer.id,
            channel_code=channel.code,
            kind=TouchKind.SERVICE,
            outcome=ContactOutcome.BLOCKED,
            reason=f"reward notice not sent: {decision.reason}",
            reason_code=decision.reason_code,
            at=at,
            config=config,
        )
        return None
    subject, body = reward_message(
        name=referrer.name,
        offer=offer,
        reward_minor=redemption.reward_minor,
        money=settings_money(),
    )
    return deliver(
        session=session,
        customer=referrer,
        channel_code=channel.code,
        kind=TouchKind.SERVICE,
        deliver_at=deliver_at,
        subject=subject,
        body=body,
        dedupe_key=f"referral-reward:{redemption.id}",
        payload={"referral_id": referral.id, "redemption_id": redemption.id},
        reason=f"referral reward notice {offer.name}",
        staff_id=referral.staff_id,
        config=config,
    )
