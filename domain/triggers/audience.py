"""SQL building blocks shared by the triggers and the reactivation flow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, select
from sqlalchemy.sql.elements import KeyedColumnElement
from sqlmodel import Session, col

from domain.channels.models import Channel
from domain.customers.models import Consent, Customer
from domain.scoring.models import RunStatus, Score, ScoringRun


@dataclass(frozen=True)
class PreferredChannel:
    """Customers' preferred consented channels: a grouped subquery to join on customer_id."""

    reach: Subquery
    channel_id: ColumnElement[Any]


def preferred_channel(
    session: Session, codes: Sequence[str], customer_ids: Sequence[int] | None = None
) -> PreferredChannel | None:
    """Each customer's first channel in `codes` they consented to and that carries messages.

    This is the consent rule of the contact policy applied to every candidate at once (one
    grouped pass over consents, joined, rather than a lookup per customer); caps and quiet
    hours are checked when the touch is actually made. None when no such channel exists.
    """
    known = dict(
        session.execute(
            select(col(Channel.code), col(Channel.id)).where(
                col(Channel.code).in_(list(codes)), col(Channel.contactable).is_(True)
            )
        ).all()
    )
    ids = [known[code] for code in codes if code in known]
    if not ids:
        return None
    rank = case({channel_id: n for n, channel_id in enumerate(ids)}, value=col(Consent.channel_id))
    conditions = [col(Consent.granted).is_(True), col(Consent.channel_id).in_(ids)]
    if customer_ids is not None:
        conditions.append(col(Consent.customer_id).in_(list(customer_ids)))
    reach = (
        select(col(Consent.customer_id).label("customer_id"), func.min(rank).label("rank"))
        .where(*conditions)
        .group_by(col(Consent.customer_id))
        .subquery("reach")
    )
    channel_id = case({n: channel_id for n, channel_id in enumerate(ids)}, value=reach.c.rank)
    return PreferredChannel(reach=reach, channel_id=channel_id)


def latest_score_on() -> ColumnElement[bool]:
    """Join condition picking the customer's Score from their latest successful scoring run."""
    latest_run = (
        select(func.max(col(Score.run_id)))
        .join(ScoringRun, col(ScoringRun.id) == col(Score.run_id))
        .where(
            col(Score.customer_id) == col(Customer.id),
            col(ScoringRun.status) == RunStatus.SUCCEEDED,
        )
        .correlate(Customer)
        .scalar_subquery()
    )
    return and_(col(Score.customer_id) == col(Customer.id), col(Score.run_id) == latest_run)


def customer_value() -> KeyedColumnElement[Any]:
    """Predicted CLV from the latest Score when present, else net revenue (minor units)."""
    return func.coalesce(col(Score.predicted_clv_minor), col(Customer.net_revenue_minor)).label(
        "value"
    )
