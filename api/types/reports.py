"""Figures for dashboards: what is stored, channels, scoring runs."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON

from api.types.scalars import Long, long_or_none
from domain.channels.queries import ChannelFigures
from domain.scoring.models import ScoringRun as ScoringRunRow
from domain.stats import StoreStats


@strawberry.type(description="Customers in one stage.")
class StageCount:
    stage: str
    customers: int


@strawberry.type(description="What is stored; revenue is net of returns.")
class Stats:
    customers: int
    orders: int
    order_lines: int
    events: int
    products: int
    staff: int
    guest_orders: int
    returns: int
    revenue: str = strawberry.field(description="net revenue in major units, as a decimal string")
    currency: str
    stages: list[StageCount]

    @classmethod
    def from_result(cls, stats: StoreStats) -> Stats:
        """The API view of the store's figures."""
        return cls(
            customers=stats.customers,
            orders=stats.orders,
            order_lines=stats.order_lines,
            events=stats.events,
            products=stats.products,
            staff=stats.staff,
            guest_orders=stats.guest_orders,
            returns=stats.returns,
            revenue=str(stats.revenue),
            currency=stats.currency,
            stages=[StageCount(stage=s, customers=n) for s, n in stats.stages.items()],
        )


@strawberry.type(description="How the customers who arrived through one channel turned out.")
class ChannelFiguresRow:
    channel: str | None
    customers: int
    buyers: int
    repeat_buyers: int
    net_revenue_minor: Long
    average_predicted_clv_minor: Long | None

    @classmethod
    def from_result(cls, row: ChannelFigures, code: str | None) -> ChannelFiguresRow:
        """The API view of one channel's figures."""
        return cls(
            channel=code,
            customers=row.customers,
            buyers=row.buyers,
            repeat_buyers=row.repeat_buyers,
            net_revenue_minor=Long(row.net_revenue_minor),
            average_predicted_clv_minor=long_or_none(row.average_predicted_clv_minor),
        )


@strawberry.type(description="A scoring pass over every customer, with its fitted figures.")
class ScoringRun:
    id: strawberry.ID
    status: str
    as_of: date
    model_version: str
    shard_count: int
    shards_done: int
    params: JSON
    metrics: JSON
    timings: JSON
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: ScoringRunRow) -> ScoringRun:
        """The API view of a scoring run."""
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            as_of=row.as_of,
            model_version=row.model_version,
            shard_count=row.shard_count,
            shards_done=row.shards_done,
            params=JSON(row.params),
            metrics=JSON(row.metrics),
            timings=JSON(row.timings),
            error=row.error,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )
