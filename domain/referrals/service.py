"""Sending member-get-member offers: eligibility, idempotent creation, the offer message."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from domain.clock import as_utc
from domain.contact.config import ContactPolicyConfig, TouchKind
from domain.contact.errors import UnknownCustomer
from domain.contact.outbound import deliver, delivery_time
from domain.contact.queries import channel_facts
from domain.contact.service import check
from domain.customers.models import Customer
from domain.outbox.models import OutboxMessage
from domain.referrals.config import ReferralConfig
from domain.referrals.errors import IdempotencyKeyReused, NotAReferralOffer, UnknownOffer
from domain.referrals.messages import offer_message
from domain.referrals.models import Offer, OfferKind, Referral, ReferralStatus
from domain.referrals.money import settings_money
from domain.referrals.results import ReferralRefused, ReferralSent, RefusalCode, refusal_from
from domain.referrals.rules import eligibility_refusal, new_code, share_url
from domain.stages.config import default_config


def referral_eligibility(
    *,
    session: Session,
    customer_id: int,
    channel_code: str,
    at: datetime,
    config: ReferralConfig | None = None,
    contact_config: ContactPolicyConfig | None = None,
) -> ReferralRefused | None:
    """Why this customer may not get a referral offer on this channel now, or None if they may.

    Quiet hours do not refuse: the offer is then held until they end.
    """
    verdict = _eligibility(
        session=session,
        customer=_customer(session, customer_id),
        channel_code=channel_code,
        at=as_utc(at),
        config=config or default_config().referrals,
        contact_config=contact_config or default_config().contact,
    )
    return verdict if isinstance(verdict, ReferralRefused) else None


def trigger_referral_offer(
    *,
    session: Session,
    customer_id: int,
    offer_id: int,
    staff_id: int | None,
    channel_code: str,
    idempotency_key: str,
    at: datetime,
    config: ReferralConfig | None = None,
    contact_config: ContactPolicyConfig | None = None,
) -> ReferralSent | ReferralRefused:
    """Send a customer a referral offer with a fresh code and share link, once per idempotency key.

    A repeated key (a double tap) returns the referral it created and writes nothing. The
    offer message goes to the outbox and the contact log in the caller's transaction.
    """
    config = config or default_config().referrals
    contact_config = contact_config or default_config().contact
    at = as_utc(at)
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        return _replay(session, existing, customer_id, offer_id, idempotency_key)
    offer = _referral_offer(session, offer_id)
    if not offer.active:
        return ReferralRefused(
            RefusalCode.OFFER_INACTIVE, f"the offer {offer.name} is no longer active"
        )
    customer = _customer(session, customer_id)
    verdict = _eligibility(
        session=session,
        customer=customer,
        channel_code=channel_code,
        at=at,
        config=config,
        contact_config=contact_config,
    )
    if isinstance(verdict, ReferralRefused):
        # A concurrent request with this key may have committed since the look-up above,
        # and its own touch now caps or outranks this one: answer as the repeat it is.
        existing = _by_key(session, idempotency_key)
        if existing is not None:
            return _replay(session, existing, customer_id, offer_id, idempotency_key)
        return verdict

    code = new_code(config)
    referral = Referral(
        code=code,
        offer_id=offer_id,
        referrer_id=customer_id,
        staff_id=staff_id,
        channel_id=channel_facts(session, channel_code).id,
        status=ReferralStatus.SENT,
        share_url=share_url(code, config),
        idempotency_key=idempotency_key,
        created_at=at,
        expires_at=at + timedelta(days=offer.valid_days),
    )
    try:
        with session.begin_nested():
            session.add(referral)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its referral.
        existing = _by_key(session, idempotency_key)
        if existing is None:
            raise
        return _replay(session, existing, customer_id, offer_id, idempotency_key)

    subject, body = offer_message(
        name=customer.name,
        offer=offer,
        link=referral.share_url,
        expires_at=referral.expires_at,
        money=settings_money(),
    )
    message = deliver(
        session=session,
        customer=customer,
        channel_code=channel_code,
        kind=TouchKind.REFERRAL,
        deliver_at=verdict,
        subject=subject,
        body=body,
        dedupe_key=f"referral:{referral.id}",
        payload={"referral_id": referral.id, "code": code, "share_url": referral.share_url},
        reason=f"referral offer {offer.name}",
        staff_id=staff_id,
        config=contact_config,
    )
    return ReferralSent(referral=referral, message=message, created=True, deliver_at=verdict)


def _eligibility(
    *,
    session: Session,
    customer: Customer,
    channel_code: str,
    at: datetime,
    config: ReferralConfig,
    contact_config: ContactPolicyConfig,
) -> ReferralRefused | datetime:
    """The refusal, or the moment the offer may go out."""
    assert customer.id is not None
    refusal = eligibility_refusal(
        name=customer.name,
        stage=customer.stage,
        last_order_at=customer.last_order_at,
        last_engaged_at=customer.last_engaged_at,
        at=at,
        config=config,
    )
    if refusal is not None:
        return refusal
    decision = check(
        session=session,
        customer_id=customer.id,
        channel_code=channel_code,
        at=at,
        kind=TouchKind.REFERRAL,
        config=contact_config,
    )
    deliver_at = delivery_time(decision, at)
    return refusal_from(decision) if deliver_at is None else deliver_at


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise UnknownCustomer(customer_id)
    return customer


def _referral_offer(session: Session, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise UnknownOffer(offer_id)
    if offer.kind != OfferKind.REFERRAL:
        raise NotAReferralOffer(offer_id, offer.kind)
    return offer


def _by_key(session: Session, key: str) -> Referral | None:
    return session.scalars(select(Referral).where(col(Referral.idempotency_key) == key)).first()


def _replay(
    session: Session, referral: Referral, customer_id: int, offer_id: int, key: str
) -> ReferralSent:
    if referral.referrer_id != customer_id or referral.offer_id != offer_id:
        raise IdempotencyKeyReused(key)
    message = session.scalars(
        select(OutboxMessage).where(col(OutboxMessage.dedupe_key) == f"referral:{referral.id}")
    ).one()
    return ReferralSent(
        referral=referral,
        message=message,
        created=False,
        deliver_at=message.sent_at or message.next_attempt_at,
    )
