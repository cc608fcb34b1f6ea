"""Read-only look-ups of channels, and the acquisition-channel report."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from domain.channels.models import Channel
from domain.customers.models import Customer
from domain.customers.queries import latest_run_id
from domain.scoring.models import Score


def all_channels(*, session: Session) -> dict[int, Channel]:
    """Every channel by id (a small table)."""
    return {row.id: row for row in session.exec(select(Channel)) if row.id is not None}


@dataclass(frozen=True)
class ChannelFigures:
    """How the customers who arrived through one channel turned out (None: unknown channel)."""

    channel_id: int | None
    customers: int
    buyers: int
    repeat_buyers: int
    net_revenue_minor: int
    average_predicted_clv_minor: int | None


def channel_report(*, session: Session) -> list[ChannelFigures]:
    """Customers, buyers, repeat buyers, net revenue and mean predicted CLV per acquisition
    channel, the CLV taken from the latest successful scoring run."""
    run_id = latest_run_id(session=session) or 0
    statement = (
        sa.select(
            col(Customer.acquisition_channel_id),
            func.count(col(Customer.id)),
            func.sum(case((col(Customer.order_count) > 0, 1), else_=0)),
            func.sum(case((col(Customer.order_count) > 1, 1), else_=0)),
            func.coalesce(func.sum(col(Customer.net_revenue_minor)), 0),
            func.avg(col(Score.predicted_clv_minor)),
        )
        .outerjoin(
            Score,
            (col(Score.customer_id) == col(Customer.id)) & (col(Score.run_id) == run_id),
        )
        .group_by(col(Customer.acquisition_channel_id))
        .order_by(col(Customer.acquisition_channel_id))
    )
    return [
        ChannelFigures(
            channel_id=channel_id,
            customers=int(customers),
            buyers=int(buyers or 0),
            repeat_buyers=int(repeat or 0),
            net_revenue_minor=int(revenue or 0),
            average_predicted_clv_minor=None if clv is None else round(float(clv)),
        )
        for channel_id, customers, buyers, repeat, revenue, clv in session.execute(statement)
    ]
