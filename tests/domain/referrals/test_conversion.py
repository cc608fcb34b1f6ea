"""The referrer's reward: granted once, after the referee's first paid order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from domain.contact.models import ContactLog
from domain.contact.service import set_consent
from domain.customers.models import Customer
from domain.orders.models import OrderKind, OrderStatus
from domain.outbox.models import OutboxMessage
from domain.referrals.conversion import on_order_paid
from domain.referrals.errors import UnknownOrder
from domain.referrals.models import Referral, ReferralRedemption
from domain.referrals.results import NewReferee, ReferralConverted, ReferralSent
from tests.domain.referrals.factories import AT, make_offer, make_referrer, redeem, send_offer
from tests.factories import make_customer, make_order

REDEEMED = AT + timedelta(days=1)
PAID = AT + timedelta(days=3)


def referred(session: Session, referrer: Customer | None = None) -> tuple[ReferralSent, Customer]:
    anna = referrer or make_referrer(session, email="anna@example.com")
    sent = send_offer(session, anna, make_offer(session, referrer_reward_minor=1500))
    result = redeem(
        session, sent.referral.code, NewReferee(name="Bo", email="bo@x.com"), at=REDEEMED
    )
    return sent, result.referee


def first_redemption_id(session: Session) -> int | None:
    return session.scalars(select(ReferralRedemption.id)).one()


def paid(session: Session, customer: Customer, order_id: int) -> ReferralConverted | None:
    return on_order_paid(session=session, customer_id=customer.id, order_id=order_id, at=PAID)


def test_first_completed_sale_converts_and_grants_the_reward(session: Session) -> None:
    sent, bo = referred(session)
    order = make_order(session, bo, at=PAID, total_minor=4000)

    result = paid(session, bo, order.id)

    assert isinstance(result, ReferralConverted)
    redemption = session.scalars(select(ReferralRedemption)).one()
    assert (
        redemption.order_id,
        redemption.converted_at,
        redemption.reward_minor,
        redemption.reward_granted_at,
    ) == (order.id, PAID, 1500, PAID)
    referral = session.get(Referral, sent.referral.id)
    assert referral is not None
    assert (referral.status, referral.converted_at, referral.reward_granted_at) == (
        "converted",
        PAID,
        PAID,
    )
    assert result.reward_minor == 1500
    notice = result.notice
    assert notice is not None
    assert (notice.adapter, notice.recipient, notice.dedupe_key, notice.subject) == (
        "email",
        "anna@example.com",
        f"referral-reward:{redemption.id}",
        "You earned a referral reward",
    )
    assert notice.body == (
        "Hi Anna,\n\na friend you referred placed their first order. "
        "Your reward from Bring a friend: $15.00. Thank you!"
    )
    log = session.scalars(select(ContactLog).where(ContactLog.outbox_id == notice.id)).one()
    assert (log.kind, log.outcome, log.at) == ("service", "sent", PAID)


def test_a_second_order_grants_nothing_more(session: Session) -> None:
    _, bo = referred(session)
    first = make_order(session, bo, at=PAID)
    assert paid(session, bo, first.id) is not None
    second = make_order(session, bo, at=PAID + timedelta(days=5))
    assert paid(session, bo, second.id) is None
    assert paid(session, bo, first.id) is None
    notices = session.scalars(
        select(OutboxMessage.dedupe_key).where(
            col(OutboxMessage.dedupe_key).startswith("referral-")
        )
    ).all()
    assert notices == [f"referral-reward:{first_redemption_id(session)}"]


@pytest.mark.parametrize(
    ("kind", "status", "total"),
    [
        (OrderKind.RETURN, OrderStatus.COMPLETED, -4000),
        (OrderKind.SALE, OrderStatus.CANCELLED, 4000),
    ],
)
def test_returns_and_cancelled_orders_do_not_convert(
    session: Session, kind: str, status: str, total: int
) -> None:
    _, bo = referred(session)
    order = make_order(session, bo, at=PAID, kind=kind, status=status, total_minor=total)
    assert paid(session, bo, order.id) is None
    assert session.scalars(select(ReferralRedemption.converted_at)).one() is None


def test_a_missed_first_order_is_made_good_by_the_next_call(session: Session) -> None:
    _, bo = referred(session)
    first = make_order(session, bo, at=PAID)
    second = make_order(session, bo, at=PAID + timedelta(days=1))
    result = paid(session, bo, second.id)
    assert result is not None and result.redemption.order_id == first.id


def test_orders_of_customers_who_were_not_referred_do_nothing(session: Session) -> None:
    cy = make_customer(session)
    order = make_order(session, cy, at=PAID)
    assert paid(session, cy, order.id) is None


def test_reward_stands_when_the_referrer_opted_out_but_no_notice_goes(session: Session) -> None:
    anna = make_referrer(session, name="Anna")
    _, bo = referred(session, anna)
    set_consent(
        session=session,
        customer_id=anna.id,
        channel_code="email",
        granted=False,
        source="unsubscribe link",
        at=REDEEMED,
    )
    order = make_order(session, bo, at=PAID)
    result = paid(session, bo, order.id)
    assert result is not None
    assert (result.reward_minor, result.notice) == (1500, None)
    log = session.scalars(select(ContactLog).where(ContactLog.kind == "service")).one()
    assert (log.outcome, log.reason, log.reason_code) == (
        "blocked",
        "reward notice not sent: Anna opted out of email on 2026-11-26",
        "opted_out",
    )


def test_an_order_of_another_customer_is_an_error(session: Session) -> None:
    _, bo = referred(session)
    other = make_order(session, make_customer(session), at=PAID)
    with pytest.raises(UnknownOrder):
        paid(session, bo, other.id)
