"""Double taps that race: one referral, one message, whichever request wins."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.contact.config import ContactPolicyConfig
from domain.contact.models import ContactLog
from domain.db import unit_of_work
from domain.outbox.models import OutboxMessage
from domain.referrals import service
from domain.referrals.models import Referral
from domain.referrals.results import ReferralRefused, ReferralSent
from tests.domain.referrals.factories import AT, make_offer, make_referrer


def tap(
    session: Session,
    customer_id: int,
    offer_id: int,
    contact_config: ContactPolicyConfig | None = None,
) -> ReferralSent | ReferralRefused:
    return service.trigger_referral_offer(
        session=session,
        customer_id=customer_id,
        offer_id=offer_id,
        staff_id=None,
        channel_code="email",
        idempotency_key="bot:9:tap",
        at=AT,
        contact_config=contact_config,
    )


def counts(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Referral, OutboxMessage, ContactLog)
    )


def blind_first_look_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each thread's first key look-up miss, as if the other request had not committed."""
    real = service._by_key
    seen = threading.local()

    def look_up(session: Session, key: str) -> Referral | None:
        if not getattr(seen, "done", False):
            seen.done = True
            return None
        return real(session, key)

    monkeypatch.setattr(service, "_by_key", look_up)


def test_insert_losing_on_the_unique_key_returns_the_committed_referral(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna, offer = make_referrer(session), make_offer(session)
    winner = tap(session, anna.id, offer.id)
    session.commit()
    blind_first_look_up(monkeypatch)
    # No cap and no collisions, so the loser gets as far as its INSERT.
    relaxed = ContactPolicyConfig(cap_count=10, collision_window_hours=0)

    loser = tap(session, anna.id, offer.id, relaxed)

    assert isinstance(winner, ReferralSent) and isinstance(loser, ReferralSent)
    assert (loser.referral.id, loser.message.id, loser.created) == (
        winner.referral.id,
        winner.message.id,
        False,
    )
    session.commit()
    assert counts(session) == (1, 1, 1)


def test_a_repeat_refused_by_the_winners_own_touch_returns_the_winners_referral(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna, offer = make_referrer(session), make_offer(session)
    winner = tap(session, anna.id, offer.id)
    session.commit()
    blind_first_look_up(monkeypatch)

    loser = tap(session, anna.id, offer.id)

    assert isinstance(winner, ReferralSent) and isinstance(loser, ReferralSent)
    assert (loser.referral.id, loser.created) == (winner.referral.id, False)
    assert counts(session) == (1, 1, 1)


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_two_concurrent_taps_on_postgres_create_one_referral(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unit_of_work(engine) as session:
        anna, offer = make_referrer(session), make_offer(session)
        ids = (anna.id, offer.id)
    blind_first_look_up(monkeypatch)
    both_looked = threading.Barrier(2, timeout=10)
    real_check = service.check
    results: list[ReferralSent | ReferralRefused] = []
    errors: list[BaseException] = []

    def checked_after_both_looked(**kwargs: object) -> object:
        both_looked.wait()
        return real_check(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "check", checked_after_both_looked)

    def run() -> None:
        try:
            with unit_of_work(engine) as session:
                results.append(tap(session, *ids))
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert all(isinstance(r, ReferralSent) for r in results)
    sent = [r for r in results if isinstance(r, ReferralSent)]
    assert sorted(r.created for r in sent) == [False, True]
    assert sent[0].referral.id == sent[1].referral.id
    with Session(engine) as session:
        assert counts(session) == (1, 1, 1)
        assert session.scalars(select(Referral.created_at)).one() == AT
