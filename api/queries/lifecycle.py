"""Lifecycle queries: the stage funnel over a period and sleeping customers worth waking."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import strawberry
from sqlmodel import Session

from api.context import Info
from api.errors import ExpectedError
from api.pagination import page_size
from api.types.customer import REASONS_DESCRIPTION, Customer
from api.types.referral import Offer
from api.types.scalars import Long
from domain.clock import as_utc, utcnow
from domain.customers.models import Customer as CustomerRow
from domain.customers.queries import ScoreRecord, customers_by_ids, latest_scores
from domain.reactivation.ranking import top_sleeping
from domain.referrals.models import Offer as OfferRow
from domain.referrals.models import OfferKind
from domain.referrals.queries import active_offers
from domain.scoring.reasons import render_all
from domain.stages.config import default_config
from domain.stages.errors import StageError
from domain.stages.queries import funnel
from domain.stages.vocabulary import Stage


@strawberry.type(description="Customers in one stage at a moment.")
class StageTotal:
    stage: Stage
    customers: int


@strawberry.type(description="How many customers moved from one stage to another.")
class StageFlow:
    from_stage: Stage
    to_stage: Stage
    customers: int


@strawberry.type(description="Customers per stage at the start and end of a period, and the moves.")
class LifecycleFunnel:
    start: datetime
    end: datetime
    at_start: list[StageTotal]
    at_end: list[StageTotal]
    flows: list[StageFlow]


@strawberry.type(description="A sleeping customer worth waking, with why and with what.")
class ReactivationCandidate:
    rank: int
    customer: Customer
    expected_value_minor: Long
    suggested_offer: Offer | None
    stored_reasons: strawberry.Private[list[Any]]

    @strawberry.field(description=REASONS_DESCRIPTION)
    def reasons(self, language: str | None = None) -> list[str]:
        return render_all(self.stored_reasons, language)


# The stages whose customers reactivation can rank.
WAKEABLE = frozenset({Stage.AT_RISK, Stage.SLEEPING})


@strawberry.type
class LifecycleQueries:
    @strawberry.field(description="The stage funnel for [from, to]: default the last 30 days.")
    async def lifecycle_funnel(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> LifecycleFunnel:
        end = as_utc(to) if to else utcnow()
        start = as_utc(from_) if from_ else end - timedelta(days=30)
        try:
            result = await info.context.db.run(lambda s: funnel(session=s, start=start, end=end))
        except StageError as exc:
            raise ExpectedError(str(exc), "BAD_PERIOD") from exc
        return LifecycleFunnel(
            start=result.start,
            end=result.end,
            at_start=[StageTotal(stage=s, customers=n) for s, n in result.at_start.items()],
            at_end=[StageTotal(stage=s, customers=n) for s, n in result.at_end.items()],
            flows=[
                StageFlow(from_stage=f.previous, to_stage=f.current, customers=f.count)
                for f in result.flows
            ],
        )

    @strawberry.field(
        description="Sleeping (and, when asked, at-risk) customers ranked by expected value of "
        "waking them; `mine` keeps the calling staff member's own customers."
    )
    async def reactivation_candidates(
        self,
        info: Info,
        first: int | None = None,
        offset: int = 0,
        mine: bool = False,
        stages: list[Stage] | None = None,
    ) -> list[ReactivationCandidate]:
        size = page_size(info.context.settings, first)
        wanted = set(stages or [Stage.SLEEPING])
        if not wanted <= WAKEABLE:
            raise ExpectedError(
                "stages: only AT_RISK and SLEEPING customers are woken", "BAD_STAGE"
            )
        owner_id = info.context.principal.staff_id if mine else None
        if mine and owner_id is None:
            raise ExpectedError("mine: this token acts for no staff member", "FORBIDDEN")
        if offset < 0:
            raise ExpectedError("offset must be 0 or more", "BAD_OFFSET")

        def load(
            session: Session,
        ) -> tuple[
            list[tuple[int, float]], dict[int, CustomerRow], dict[int, ScoreRecord], OfferRow | None
        ]:
            # The database picks the page: no streaming every sleeper through the process.
            top = top_sleeping(
                session=session,
                as_of=utcnow(),
                config=default_config().reactivation,
                first=size,
                offset=offset,
                owner_id=owner_id,
                stages=sorted(wanted),
            )
            ids = [customer_id for customer_id, _ in top]
            offers = active_offers(session=session, kind=OfferKind.REACTIVATION)
            return (
                top,
                customers_by_ids(session=session, ids=ids),
                latest_scores(session=session, customer_ids=ids),
                offers[0] if offers else None,
            )

        top, customers, scores, offer = await info.context.db.run(load)
        suggested = Offer.from_row(offer) if offer else None
        return [
            ReactivationCandidate(
                rank=rank,
                customer=Customer.from_row(customers[customer_id]),
                expected_value_minor=Long(round(value)),
                stored_reasons=scores[customer_id].reasons if customer_id in scores else [],
                suggested_offer=suggested,
            )
            for rank, (customer_id, value) in enumerate(top, start=offset + 1)
            if customer_id in customers
        ]
