"""Sending the reactivation offer: ranking by expected value, budget, contact policy, outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from domain.contact.models import ContactLog, ContactOutcome
from domain.contact.service import record_touch
from domain.customers.models import Customer
from domain.outbox.models import OutboxMessage
from domain.reactivation.config import ReactivationConfig
from domain.reactivation.errors import ReactivationError, UnusableOffer
from domain.reactivation.models import AttemptStatus, ReactivationAttempt
from domain.reactivation.offers import DEFAULT_OFFER_CODE
from domain.reactivation.service import run_reactivation
from domain.referrals.models import Offer, OfferKind
from domain.stages.vocabulary import Stage
from tests.domain.triggers.factories import make_offer, make_score
from tests.factories import channel, grant_consent, make_customer

AS_OF = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _sleeper(session: Session, *, consent: str | None = "email", **overrides: object) -> Customer:
    values: dict[str, object] = {
        "stage": Stage.SLEEPING,
        "stage_since": AS_OF - timedelta(days=60),
        "order_count": 2,
        "net_revenue_minor": 10_000,
        "last_order_at": AS_OF - timedelta(days=100),
    }
    values.update(overrides)
    customer = make_customer(session, **values)
    if consent:
        grant_consent(session, customer, consent)
    return customer


def _attempts(session: Session) -> list[ReactivationAttempt]:
    return list(session.scalars(select(ReactivationAttempt).order_by(ReactivationAttempt.id)))


def test_budget_takes_the_highest_expected_value_first(session: Session) -> None:
    # recent: 10,000 × 0.30 (last order within 180 days) = 3,000
    recent = _sleeper(session)
    # big_old: 50,000 × 0.10 (last order within two years) = 5,000
    big_old = _sleeper(session, net_revenue_minor=50_000, last_order_at=AS_OF - timedelta(days=500))
    # scored: predicted CLV 20,000 × scored propensity 0.5 = 10,000
    scored = _sleeper(session, net_revenue_minor=1_000)
    make_score(session, scored, predicted_clv_minor=20_000, reactivation_propensity=0.5)
    _sleeper(session, stage=Stage.REPEAT, net_revenue_minor=900_000)

    result = run_reactivation(session=session, as_of=AS_OF, offer_id=None, budget=2)

    attempts = _attempts(session)
    assert result.sent == 2
    assert result.considered == 2
    assert [a.customer_id for a in attempts] == [scored.id, big_old.id]
    assert [a.expected_value_minor for a in attempts] == [10_000, 5_000]
    assert result.attempt_ids == [a.id for a in attempts]
    assert recent.id not in {a.customer_id for a in attempts}


def test_offer_goes_to_the_outbox_with_a_sent_contact_log(session: Session) -> None:
    customer = _sleeper(session, name="Maria Lopez", email="maria@example.com")

    result = run_reactivation(session=session, as_of=AS_OF, offer_id=None, budget=None)

    offer = session.scalars(select(Offer).where(Offer.code == DEFAULT_OFFER_CODE)).one()
    [attempt] = _attempts(session)
    [message] = session.scalars(select(OutboxMessage))
    [log] = session.scalars(select(ContactLog))
    key = f"reactivation:{customer.id}:2026-12-01"
    assert result.offer_id == offer.id
    assert offer.kind == OfferKind.REACTIVATION
    assert (attempt.offer_id, attempt.status, attempt.dedupe_key) == (offer.id, "open", key)
    assert attempt.sent_at == AS_OF
    assert attempt.window_ends_at == AS_OF + timedelta(days=14)
    assert attempt.channel_id == channel(session, "email").id
    assert attempt.outbox_id == message.id
    assert (message.adapter, message.recipient, message.dedupe_key) == (
        "email",
        "maria@example.com",
        key,
    )
    assert message.subject == offer.name
    assert message.body.startswith("Hello Maria,\n\nIt has been a while")
    assert "Use the code WELCOME-BACK by 15 Dec 2026." in message.body
    assert message.payload["offer_code"] == "WELCOME-BACK"
    assert (log.kind, log.outcome, log.outbox_id, log.at) == (
        "reactivation",
        "sent",
        message.id,
        AS_OF,
    )


def test_no_consent_means_no_offer_and_a_logged_refusal(session: Session) -> None:
    silent = _sleeper(session, consent=None, net_revenue_minor=99_000)
    opted_out = _sleeper(session, consent=None, net_revenue_minor=98_000)
    grant_consent(session, opted_out, "sms", granted=False)
    reachable = _sleeper(session)

    result = run_reactivation(session=session, as_of=AS_OF, offer_id=None, budget=1)

    logs = {log.customer_id: log for log in session.scalars(select(ContactLog))}
    assert [a.customer_id for a in _attempts(session)] == [reachable.id]
    assert result.held_back == {"no_consent": 1, "opted_out": 1}
    assert result.considered == 3
    assert (logs[silent.id].outcome, logs[silent.id].reason_code) == ("blocked", "no_consent")
    assert logs[silent.id].reason == "reactivation offer not sent: no email consent"
    assert (logs[opted_out.id].outcome, logs[opted_out.id].reason_code) == (
        "blocked",
        "opted_out",
    )
    assert logs[opted_out.id].channel_id == channel(session, "sms").id
    assert {m.customer_id for m in session.scalars(select(OutboxMessage))} == {reachable.id}


def test_quiet_hours_delay_the_offer_and_its_window(session: Session) -> None:
    night = datetime(2026, 12, 1, 22, tzinfo=UTC)
    customer = _sleeper(session)

    run_reactivation(session=session, as_of=night, offer_id=None, budget=None)

    [attempt] = _attempts(session)
    [message] = session.scalars(select(OutboxMessage))
    morning = datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert attempt.customer_id == customer.id
    assert (attempt.sent_at, attempt.window_ends_at) == (morning, morning + timedelta(days=14))
    assert message.next_attempt_at == morning


def test_customers_in_an_open_window_or_tried_lately_are_left_alone(session: Session) -> None:
    customer = _sleeper(session)
    first = run_reactivation(session=session, as_of=AS_OF, offer_id=None, budget=None)
    second = run_reactivation(
        session=session, as_of=AS_OF + timedelta(days=1), offer_id=None, budget=None
    )
    [attempt] = _attempts(session)
    attempt.status = AttemptStatus.RESPONDED
    session.add(attempt)
    session.flush()
    soon_after = run_reactivation(
        session=session, as_of=AS_OF + timedelta(days=60), offer_id=None, budget=None
    )
    much_later = run_reactivation(
        session=session, as_of=AS_OF + timedelta(days=120), offer_id=None, budget=None
    )

    assert (first.sent, second.sent, soon_after.sent, much_later.sent) == (1, 0, 0, 1)
    assert [a.customer_id for a in _attempts(session)] == [customer.id, customer.id]


def test_a_chosen_offer_must_be_an_active_reactivation_offer(session: Session) -> None:
    referral = make_offer(session, kind=OfferKind.REFERRAL, code="MGM")
    retired = make_offer(session, active=False, code="OLD")
    chosen = make_offer(session, code="COMEBACK")
    _sleeper(session)

    with pytest.raises(UnusableOffer, match="MGM is a referral offer"):
        run_reactivation(session=session, as_of=AS_OF, offer_id=referral.id, budget=None)
    with pytest.raises(UnusableOffer, match="OLD is inactive"):
        run_reactivation(session=session, as_of=AS_OF, offer_id=retired.id, budget=None)
    result = run_reactivation(session=session, as_of=AS_OF, offer_id=chosen.id, budget=None)

    assert result.offer_id == chosen.id
    assert [a.offer_id for a in _attempts(session)] == [chosen.id]


def test_a_capped_customer_is_dropped_for_this_run(session: Session) -> None:
    customer = _sleeper(session)
    for days in (1, 2):
        record_touch(
            session=session,
            customer_id=customer.id,
            channel_code="email",
            kind="campaign",
            outcome=ContactOutcome.SENT,
            reason="newsletter",
            at=AS_OF - timedelta(days=days),
        )

    result = run_reactivation(session=session, as_of=AS_OF, offer_id=None, budget=None)

    dropped = session.scalars(select(ContactLog).where(ContactLog.kind == "reactivation")).one()
    assert (result.sent, result.held_back) == (0, {"capped": 1})
    assert (dropped.outcome, dropped.reason_code) == ("dropped", "capped")
    assert dropped.reason == (
        "reactivation offer not sent: already contacted twice this week (cap 2 per 7 days)"
    )


def test_configured_channels_must_exist(session: Session) -> None:
    _sleeper(session)

    with pytest.raises(ReactivationError, match=r"none of the configured channels \(fax\)"):
        run_reactivation(
            session=session,
            as_of=AS_OF,
            offer_id=None,
            budget=None,
            config=ReactivationConfig(channels=["fax"]),
        )
