"""Redeeming referral codes: linking referees, and every abuse rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from domain.contact.errors import UnknownCustomer
from domain.customers.models import Customer
from domain.referrals.config import ReferralConfig
from domain.referrals.models import Referral, ReferralRedemption
from domain.referrals.redemption import redeem_referral
from domain.referrals.results import NewReferee, ReferralRedeemed, ReferralRefused, RefusalCode
from tests.domain.referrals.factories import AT, make_offer, make_referrer, redeem, send_offer
from tests.factories import channel, make_customer, make_order

LATER = AT + timedelta(days=2)


def refused(result: ReferralRedeemed | ReferralRefused) -> tuple[RefusalCode, str]:
    assert isinstance(result, ReferralRefused), result
    return result.reason_code, result.reason


def redemptions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ReferralRedemption)) or 0


def test_new_person_becomes_a_customer_linked_to_the_referrer(session: Session) -> None:
    anna = make_referrer(session)
    sent = send_offer(session, anna, make_offer(session))
    result = redeem(
        session,
        sent.referral.code,
        NewReferee(external_id="shop-77", name="Bo", email="bo@example.com", phone="+1 555 7"),
        at=LATER,
    )
    bo = result.referee
    assert result.new_customer is True
    assert (
        bo.external_id,
        bo.name,
        bo.email,
        bo.referred_by_id,
        bo.acquisition_channel_id,
        bo.created_at,
    ) == ("shop-77", "Bo", "bo@example.com", anna.id, channel(session, "referral").id, LATER)
    assert (result.redemption.referral_id, result.redemption.referee_id) == (
        sent.referral.id,
        bo.id,
    )
    assert (result.redemption.redeemed_at, result.redemption.converted_at) == (LATER, None)
    referral = session.get(Referral, sent.referral.id)
    assert referral is not None
    assert (referral.status, referral.referee_id, referral.redeemed_at, referral.uses) == (
        "redeemed",
        bo.id,
        LATER,
        1,
    )


def test_existing_prospect_redeems_by_id(session: Session) -> None:
    anna = make_referrer(session)
    pat = make_customer(session, name="Pat")
    sent = send_offer(session, anna, make_offer(session))
    result = redeem(session, sent.referral.code, pat.id, at=LATER)
    assert (result.new_customer, result.referee.id, pat.referred_by_id) == (False, pat.id, anna.id)


def test_new_details_matching_a_known_email_use_that_customer(session: Session) -> None:
    anna = make_referrer(session)
    pat = make_customer(session, email="pat@example.com")
    sent = send_offer(session, anna, make_offer(session))
    result = redeem(session, sent.referral.code, NewReferee(email=" PAT@example.com"), at=LATER)
    assert (result.new_customer, result.referee.id) == (False, pat.id)


def test_unknown_code_is_refused(session: Session) -> None:
    result = redeem_referral(session=session, code="nope", referee=NewReferee(), at=AT)
    assert refused(result) == (RefusalCode.UNKNOWN_CODE, "this referral link is not valid")


def test_referrer_cannot_redeem_their_own_code(session: Session) -> None:
    anna = make_referrer(session)
    sent = send_offer(session, anna, make_offer(session))
    result = redeem_referral(session=session, code=sent.referral.code, referee=anna.id, at=LATER)
    assert refused(result) == (
        RefusalCode.SELF_REFERRAL,
        "customers cannot redeem their own referral link",
    )


OWN_EMAIL = "the new customer's email is the referrer's own; self-referrals do not count"
OWN_PHONE = "the new customer's phone is the referrer's own; self-referrals do not count"


@pytest.mark.parametrize(
    ("details", "reason"),
    [
        # The address finds the referrer's own record, whatever its case and spacing.
        (
            NewReferee(email="  ANNA@Example.com "),
            "customers cannot redeem their own referral link",
        ),
        (NewReferee(email="anna+friend@example.com"), OWN_EMAIL),
        (NewReferee(email="new@example.com", phone="+1 (555) 010-0000"), OWN_PHONE),
    ],
)
def test_self_referral_by_the_referrers_email_or_phone_is_refused(
    session: Session, details: NewReferee, reason: str
) -> None:
    anna = make_referrer(session, email="anna@example.com", phone="15550100000")
    sent = send_offer(session, anna, make_offer(session))
    result = redeem_referral(session=session, code=sent.referral.code, referee=details, at=LATER)
    assert refused(result) == (RefusalCode.SELF_REFERRAL, reason)
    assert redemptions(session) == 0


def test_a_referee_can_redeem_only_one_code(session: Session) -> None:
    offer = make_offer(session)
    first = send_offer(session, make_referrer(session), offer)
    second = send_offer(session, make_referrer(session), offer)
    bo = redeem(session, first.referral.code, NewReferee(name="Bo", email="bo@x.com"), at=LATER)
    again = redeem_referral(
        session=session, code=second.referral.code, referee=bo.referee.id, at=LATER
    )
    assert refused(again) == (
        RefusalCode.ALREADY_REFERRED,
        "Bo was already referred; each new customer can be referred once",
    )
    assert redemptions(session) == 1


def test_someone_who_has_bought_before_is_not_a_new_customer(session: Session) -> None:
    sent = send_offer(session, make_referrer(session), make_offer(session))
    cy = make_customer(session, name="Cy")
    make_order(session, cy, at=AT - timedelta(days=40))
    result = redeem_referral(session=session, code=sent.referral.code, referee=cy.id, at=LATER)
    assert refused(result) == (
        RefusalCode.ALREADY_CUSTOMER,
        "Cy has bought before; referral benefits are for new customers",
    )


def test_expired_code_is_refused_and_marked(session: Session) -> None:
    sent = send_offer(session, make_referrer(session), make_offer(session, valid_days=30))
    expiry = AT + timedelta(days=30)
    result = redeem_referral(
        session=session, code=sent.referral.code, referee=NewReferee(), at=expiry
    )
    assert refused(result) == (RefusalCode.EXPIRED, "this referral link expired on 2026-12-25")
    assert session.get(Referral, sent.referral.id).status == "expired"  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_code_works_up_to_its_maximum_uses(session: Session) -> None:
    sent = send_offer(session, make_referrer(session), make_offer(session, max_uses=2))
    code = sent.referral.code
    redeem(session, code, NewReferee(email="b1@x.com"), at=LATER)
    redeem(session, code, NewReferee(email="b2@x.com"), at=LATER)
    third = redeem_referral(
        session=session, code=code, referee=NewReferee(email="b3@x.com"), at=LATER
    )
    assert refused(third) == (
        RefusalCode.MAX_USES,
        "this referral link was already used 2 times, its maximum",
    )
    assert session.get(Referral, sent.referral.id).uses == 2  # type: ignore[union-attr]
    emails = set(session.scalars(select(Customer.email)))
    assert "b3@x.com" not in emails


def test_single_use_code_says_once(session: Session) -> None:
    sent = send_offer(session, make_referrer(session), make_offer(session))
    redeem(session, sent.referral.code, NewReferee(email="b1@x.com"), at=LATER)
    second = redeem_referral(
        session=session, code=sent.referral.code, referee=NewReferee(email="b2@x.com"), at=LATER
    )
    assert refused(second) == (
        RefusalCode.MAX_USES,
        "this referral link was already used once, its maximum",
    )


def test_a_referrer_collects_at_most_the_monthly_limit(session: Session) -> None:
    anna = make_referrer(session, name="Anna")
    offer = make_offer(session, max_uses=5, valid_days=60)
    sent = send_offer(session, anna, offer)
    config = ReferralConfig(monthly_redemption_limit=2)
    for n, day in enumerate((1, 2)):
        result = redeem_referral(
            session=session,
            code=sent.referral.code,
            referee=NewReferee(email=f"b{n}@x.com"),
            at=datetime(2026, 12, day, 10, tzinfo=UTC),
            config=config,
        )
        assert isinstance(result, ReferralRedeemed)
    over = redeem_referral(
        session=session,
        code=sent.referral.code,
        referee=NewReferee(email="b9@x.com"),
        at=datetime(2026, 12, 20, 10, tzinfo=UTC),
        config=config,
    )
    assert refused(over) == (
        RefusalCode.MONTHLY_LIMIT,
        "Anna reached the limit of 2 referrals this month",
    )
    december_done = redeem_referral(
        session=session,
        code=sent.referral.code,
        referee=NewReferee(email="b9@x.com"),
        at=datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
        config=config,
    )
    assert isinstance(december_done, ReferralRedeemed)


def test_inactive_offer_cannot_be_redeemed(session: Session) -> None:
    offer = make_offer(session, name="Autumn friends")
    sent = send_offer(session, make_referrer(session), offer)
    offer.active = False
    session.add(offer)
    session.flush()
    result = redeem_referral(
        session=session, code=sent.referral.code, referee=NewReferee(), at=LATER
    )
    assert refused(result) == (RefusalCode.OFFER_INACTIVE, "the offer Autumn friends has ended")


def test_unknown_referee_id_is_an_error(session: Session) -> None:
    sent = send_offer(session, make_referrer(session), make_offer(session))
    with pytest.raises(UnknownCustomer):
        redeem_referral(session=session, code=sent.referral.code, referee=999_999, at=LATER)
