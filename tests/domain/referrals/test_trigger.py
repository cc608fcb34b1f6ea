"""Sending referral offers: eligibility refusals, idempotency, outbox and contact log."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from domain.contact.models import ContactLog
from domain.contact.service import record_touch, set_consent
from domain.outbox.models import OutboxMessage
from domain.referrals.config import ReferralConfig
from domain.referrals.errors import IdempotencyKeyReused, NotAReferralOffer, UnknownOffer
from domain.referrals.models import Referral
from domain.referrals.results import ReferralRefused, ReferralSent, RefusalCode
from domain.referrals.service import referral_eligibility, trigger_referral_offer
from tests.domain.referrals.factories import AT, make_offer, make_referrer, send_offer
from tests.factories import channel, grant_consent, make_customer, make_staff


def trigger(
    session: Session,
    customer_id: int,
    offer_id: int,
    *,
    key: str = "tap-1",
    channel_code: str = "email",
    at: datetime = AT,
    staff_id: int | None = None,
    config: ReferralConfig | None = None,
) -> ReferralSent | ReferralRefused:
    return trigger_referral_offer(
        session=session,
        customer_id=customer_id,
        offer_id=offer_id,
        staff_id=staff_id,
        channel_code=channel_code,
        idempotency_key=key,
        at=at,
        config=config,
    )


def counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Referral)) or 0,
        session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        session.scalar(select(func.count()).select_from(ContactLog)) or 0,
    )


def test_loyal_customer_gets_a_referral_with_code_link_outbox_message_and_log(
    session: Session,
) -> None:
    anna = make_referrer(session, email="anna@example.com")
    offer = make_offer(session)
    staff = make_staff(session)
    config = ReferralConfig(share_url_template="https://shop.test/r/{code}")

    result = trigger(session, anna.id, offer.id, staff_id=staff.id, config=config)

    assert isinstance(result, ReferralSent)
    referral, message = result.referral, result.message
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", referral.code)
    assert (
        referral.referrer_id,
        referral.offer_id,
        referral.staff_id,
        referral.channel_id,
        referral.status,
        referral.share_url,
        referral.idempotency_key,
        referral.created_at,
        referral.expires_at,
        referral.uses,
    ) == (
        anna.id,
        offer.id,
        staff.id,
        channel(session, "email").id,
        "sent",
        f"https://shop.test/r/{referral.code}",
        "tap-1",
        AT,
        AT + timedelta(days=30),
        0,
    )
    assert (result.created, result.deliver_at) == (True, AT)
    assert (
        message.adapter,
        message.recipient,
        message.subject,
        message.dedupe_key,
        message.customer_id,
        message.staff_id,
        message.next_attempt_at,
        message.payload,
    ) == (
        "email",
        "anna@example.com",
        "Bring a friend: a gift for your friends",
        f"referral:{referral.id}",
        anna.id,
        staff.id,
        AT,
        {
            "channel": "email",
            "referral_id": referral.id,
            "code": referral.code,
            "share_url": referral.share_url,
        },
    )
    assert message.body == (
        "Hi Anna,\n\n"
        f"thank you for being with us. Share this link with friends: {referral.share_url}\n"
        "They get 10% off their first order. You get $10.00 when they place their first order.\n"
        "The link works once until 2026-12-25."
    )
    log = session.scalars(select(ContactLog)).one()
    assert (log.customer_id, log.kind, log.priority, log.outcome, log.outbox_id, log.at) == (
        anna.id,
        "referral",
        60,
        "sent",
        message.id,
        AT,
    )


def test_the_same_idempotency_key_twice_returns_one_referral_and_one_message(
    session: Session,
) -> None:
    anna = make_referrer(session)
    offer = make_offer(session)
    first = trigger(session, anna.id, offer.id, key="bot:42:7")
    second = trigger(session, anna.id, offer.id, key="bot:42:7", at=AT + timedelta(seconds=1))
    assert isinstance(first, ReferralSent) and isinstance(second, ReferralSent)
    assert (second.referral.id, second.message.id, second.created) == (
        first.referral.id,
        first.message.id,
        False,
    )
    assert counts(session) == (1, 1, 1)


def test_an_idempotency_key_cannot_be_reused_for_someone_else(session: Session) -> None:
    anna, ben = make_referrer(session), make_referrer(session, name="Ben")
    offer = make_offer(session)
    trigger(session, anna.id, offer.id, key="k")
    with pytest.raises(IdempotencyKeyReused):
        trigger(session, ben.id, offer.id, key="k")


def test_first_time_buyer_is_refused_and_nothing_is_written(session: Session) -> None:
    anna = make_referrer(session, name="Anna", stage="first_time_buyer")
    offer = make_offer(session)
    assert trigger(session, anna.id, offer.id) == ReferralRefused(
        RefusalCode.NOT_ELIGIBLE_STAGE,
        "Anna is a first-time buyer; referral offers go to repeat or VIP customers",
    )
    assert counts(session) == (0, 0, 0)


def test_repeat_customer_needs_recent_activity(session: Session) -> None:
    offer = make_offer(session)
    active = make_referrer(session, stage="repeat", last_order_at=AT - timedelta(days=20))
    idle = make_referrer(
        session, name="Ian", stage="repeat", last_order_at=AT - timedelta(days=120)
    )
    assert isinstance(trigger(session, active.id, offer.id, key="a"), ReferralSent)
    refused = trigger(session, idle.id, offer.id, key="b")
    assert refused == ReferralRefused(
        RefusalCode.INACTIVE,
        "Ian has not ordered or engaged in the last 90 days (last activity 2026-07-28); "
        "repeat customers get referral offers only while active",
    )


def test_lost_customer_is_refused(session: Session) -> None:
    lou = make_referrer(session, name="Lou", stage="lost")
    refused = trigger(session, lou.id, make_offer(session).id)
    assert isinstance(refused, ReferralRefused)
    assert refused.reason == "Lou is a lost customer; referral offers go to repeat or VIP customers"


def test_no_consent_on_the_delivery_channel_is_refused(session: Session) -> None:
    anna = make_referrer(session)
    refused = trigger(session, anna.id, make_offer(session).id, channel_code="sms")
    assert refused == ReferralRefused(RefusalCode.NO_CONSENT, "no SMS consent")
    assert counts(session) == (0, 0, 0)


def test_opted_out_customer_is_refused(session: Session) -> None:
    anna = make_referrer(session, name="Anna")
    set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        granted=False,
        source="unsubscribe link",
        at=AT - timedelta(days=1),
    )
    refused = trigger(session, anna.id, make_offer(session).id)
    assert refused == ReferralRefused(
        RefusalCode.OPTED_OUT, "Anna opted out of email on 2026-11-24"
    )


def test_capped_customer_is_refused_with_the_time_it_becomes_possible(session: Session) -> None:
    anna = make_referrer(session)
    for days in (6, 3):
        record_touch(
            session=session,
            customer_id=anna.id,
            channel_code="email",
            kind="campaign",
            outcome="sent",
            reason="newsletter",
            at=AT - timedelta(days=days),
        )
    refused = trigger(session, anna.id, make_offer(session).id)
    assert refused == ReferralRefused(
        RefusalCode.CAPPED,
        "already contacted twice this week (cap 2 per 7 days)",
        AT + timedelta(days=1),
    )


def test_inactive_offer_is_refused(session: Session) -> None:
    anna = make_referrer(session)
    offer = make_offer(session, name="Summer friends", active=False)
    assert trigger(session, anna.id, offer.id) == ReferralRefused(
        RefusalCode.OFFER_INACTIVE, "the offer Summer friends is no longer active"
    )


def test_during_quiet_hours_the_offer_is_held_until_morning(session: Session) -> None:
    kenji = make_referrer(session, timezone="Asia/Tokyo")  # 21:00 there at AT
    result = trigger(session, kenji.id, make_offer(session).id)
    morning = datetime(2026, 11, 26, 0, 0, tzinfo=AT.tzinfo)
    assert isinstance(result, ReferralSent)
    assert (result.deliver_at, result.message.next_attempt_at) == (morning, morning)
    assert session.scalars(select(ContactLog.at)).one() == morning


def test_sms_offers_go_to_the_log_adapter_with_the_channel_in_the_payload(
    session: Session,
) -> None:
    anna = make_referrer(session, phone="+1 555 0100")
    grant_consent(session, anna, "sms")
    result = trigger(session, anna.id, make_offer(session).id, channel_code="sms")
    assert isinstance(result, ReferralSent)
    assert (
        result.message.adapter,
        result.message.recipient,
        result.message.payload["channel"],
    ) == (
        "log",
        "+1 555 0100",
        "sms",
    )


def test_eligibility_can_be_asked_without_sending(session: Session) -> None:
    anna = make_referrer(session)
    first = make_referrer(session, name="Fay", stage="first_time_buyer")
    assert (
        referral_eligibility(session=session, customer_id=anna.id, channel_code="email", at=AT)
        is None
    )
    refused = referral_eligibility(
        session=session, customer_id=first.id, channel_code="email", at=AT
    )
    assert refused is not None and refused.reason_code is RefusalCode.NOT_ELIGIBLE_STAGE
    assert counts(session) == (0, 0, 0)


def test_unknown_or_non_referral_offers_are_errors(session: Session) -> None:
    anna = make_referrer(session)
    with pytest.raises(UnknownOffer):
        trigger(session, anna.id, 999_999)
    cross_sell = make_offer(session, kind="cross_sell")
    with pytest.raises(NotAReferralOffer):
        trigger(session, anna.id, cross_sell.id)


def test_each_referral_gets_its_own_code(session: Session) -> None:
    offer = make_offer(session)
    codes = {send_offer(session, make_referrer(session), offer).referral.code for _ in range(20)}
    assert len(codes) == 20


def test_a_prospect_without_a_stage_history_is_refused(session: Session) -> None:
    prospect = make_customer(session, name="Pat")
    grant_consent(session, prospect, "email")
    refused = trigger(session, prospect.id, make_offer(session).id)
    assert refused == ReferralRefused(
        RefusalCode.NOT_ELIGIBLE_STAGE,
        "Pat is a prospect; referral offers go to repeat or VIP customers",
    )
