"""Referral analytics: sent, redeemed, converted, reward cost and referee revenue, grouped."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlmodel import Session, col

from domain.clock import as_utc
from domain.orders.models import Order, OrderStatus
from domain.referrals.models import Referral, ReferralRedemption
from domain.referrals.results import ReferralStats

GroupBy = Literal["referrer", "staff"]
_METRICS = ("sent", "redeemed", "converted", "reward_cost_minor", "referee_revenue_minor")


def referral_stats(
    *, session: Session, start: datetime, end: datetime, by: GroupBy | None = None
) -> list[ReferralStats]:
    """Referral figures for events in [start, end), per referrer, per staff member, or in total.

    Each figure counts its own event in the period: referrals created (sent), redemptions,
    conversions, rewards granted (their cost), and the referees' completed orders net of
    returns placed from their redemption on (revenue). Groups come ordered by key; a
    referral without a staff member falls in the group whose key is None.
    """
    start, end = as_utc(start), as_utc(end)
    key: Any = {
        "referrer": col(Referral.referrer_id),
        "staff": col(Referral.staff_id),
        None: None,
    }[by]
    redemption_join = col(Referral.id) == col(ReferralRedemption.referral_id)

    def in_period(column: Any) -> ColumnElement[bool]:
        return and_(column >= start, column < end)

    queries: dict[str, Select[Any]] = {
        "sent": select(func.count(col(Referral.id))).where(in_period(col(Referral.created_at))),
        "redeemed": select(func.count(col(ReferralRedemption.id)))
        .join(Referral, redemption_join)
        .where(in_period(col(ReferralRedemption.redeemed_at))),
        "converted": select(func.count(col(ReferralRedemption.id)))
        .join(Referral, redemption_join)
        .where(in_period(col(ReferralRedemption.converted_at))),
        "reward_cost_minor": select(func.sum(col(ReferralRedemption.reward_minor)))
        .join(Referral, redemption_join)
        .where(in_period(col(ReferralRedemption.reward_granted_at))),
        "referee_revenue_minor": select(func.sum(col(Order.total_minor)))
        .select_from(ReferralRedemption)
        .join(Referral, redemption_join)
        .join(
            Order,
            and_(
                col(Order.customer_id) == col(ReferralRedemption.referee_id),
                col(Order.ordered_at) >= col(ReferralRedemption.redeemed_at),
            ),
        )
        .where(col(Order.status) == OrderStatus.COMPLETED, in_period(col(Order.ordered_at))),
    }
    if key is None:
        totals = {metric: int(session.scalar(query) or 0) for metric, query in queries.items()}
        return [ReferralStats(key=None, **totals)]
    figures: dict[int | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_METRICS, 0))
    for metric, query in queries.items():
        for value, group in session.execute(query.add_columns(key).group_by(key)):
            figures[group][metric] = int(value or 0)
    ordered = sorted(figures.items(), key=lambda item: (item[0] is not None, item[0] or 0))
    return [ReferralStats(key=group, **values) for group, values in ordered]
