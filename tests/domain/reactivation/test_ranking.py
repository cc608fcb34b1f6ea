"""A page of reactivation candidates: the same order as the whole ranking, per owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from domain.customers.models import Customer
from domain.reactivation.config import ReactivationConfig
from domain.reactivation.ranking import rank_sleeping, top_sleeping
from domain.stages.vocabulary import Stage
from tests.factories import make_customer, make_staff

AS_OF = datetime(2026, 12, 1, 10, tzinfo=UTC)
CONFIG = ReactivationConfig()


def _sleeper(session: Session, revenue: int, owner_id: int | None = None) -> Customer:
    return make_customer(
        session,
        stage=Stage.SLEEPING,
        stage_since=AS_OF - timedelta(days=60),
        order_count=2,
        net_revenue_minor=revenue,
        last_order_at=AS_OF - timedelta(days=100),
        owner_id=owner_id,
    )


def test_pages_of_the_top_candidates_follow_the_whole_ranking(session: Session) -> None:
    for revenue in (5_000, 9_000, 1_000, 9_000, 7_000):
        _sleeper(session, revenue)
    make_customer(session, stage=Stage.LOYAL, net_revenue_minor=99_000)

    ranked = next(rank_sleeping(session=session, as_of=AS_OF, config=CONFIG).batches(10))
    pages = [
        top_sleeping(session=session, as_of=AS_OF, config=CONFIG, first=2, offset=offset)
        for offset in (0, 2, 4)
    ]

    assert [pair for page in pages for pair in page] == ranked
    assert [value for _, value in ranked] == [2_700.0, 2_700.0, 2_100.0, 1_500.0, 300.0]


def test_an_owner_sees_only_their_own_sleepers_best_first(session: Session) -> None:
    ana, bo = make_staff(session), make_staff(session)
    small = _sleeper(session, 2_000, owner_id=ana.id)
    _sleeper(session, 90_000, owner_id=bo.id)
    big = _sleeper(session, 8_000, owner_id=ana.id)
    _sleeper(session, 50_000)

    mine = top_sleeping(session=session, as_of=AS_OF, config=CONFIG, first=10, owner_id=ana.id)

    assert [customer_id for customer_id, _ in mine] == [big.id, small.id]
