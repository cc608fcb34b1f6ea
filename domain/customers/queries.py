"""Read-only look-ups of customers: by key, by ids in bulk, and filtered keyset pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, Table, bindparam, func, literal, or_, tuple_
from sqlmodel import Session, col, select

from domain.customers.models import Consent, Customer
from domain.scoring.models import RunStatus, Score, ScoringRun

CUSTOMER = cast(Table, Customer.__table__)  # type: ignore[attr-defined]
SCORE = cast(Table, Score.__table__)  # type: ignore[attr-defined]
# Keeps IN lists well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 2000
# Stand-ins for empty values, so that sort keys are never NULL and keyset pages stay exact.
NO_DATE = datetime(1970, 1, 1, tzinfo=UTC)
NO_AMOUNT = -(2**62)


class CustomerOrder(StrEnum):
    """What a page of customers is sorted by (ties broken by id)."""

    ID = "id"
    CREATED_AT = "created_at"
    STAGE_SINCE = "stage_since"
    LAST_ORDER_AT = "last_order_at"
    NET_REVENUE = "net_revenue"
    ORDER_COUNT = "order_count"
    PREDICTED_CLV = "predicted_clv"


@dataclass(frozen=True)
class CustomerFilter:
    """Conditions a listed customer meets; empty fields do not filter."""

    stages: Sequence[str] = ()
    rfm_segments: Sequence[str] = ()
    owner_id: int | None = None
    acquisition_channel_id: int | None = None
    min_predicted_clv_minor: int | None = None
    search: str | None = None
    ids: Sequence[int] = field(default_factory=tuple)

    @property
    def needs_scores(self) -> bool:
        """Whether the filter reads the latest scores."""
        return bool(self.rfm_segments) or self.min_predicted_clv_minor is not None


# Hot look-ups (the API's dataloaders) are built once: building a statement and its cache
# key costs more than running it. The id lists are bound at execution ("expanding").
_CUSTOMERS_BY_IDS = select(Customer).where(col(Customer.id).in_(bindparam("ids", expanding=True)))
_LATEST = (
    select(col(Score.customer_id).label("customer_id"), func.max(col(Score.run_id)).label("run_id"))
    .join(ScoringRun, col(ScoringRun.id) == col(Score.run_id))
    .where(
        col(Score.customer_id).in_(bindparam("ids", expanding=True)),
        col(ScoringRun.status) == RunStatus.SUCCEEDED,
    )
    .group_by(col(Score.customer_id))
    .subquery("latest")
)
_LATEST_SCORES = select(Score).join(
    _LATEST,
    (col(Score.customer_id) == _LATEST.c.customer_id) & (col(Score.run_id) == _LATEST.c.run_id),
)


def find_customer(
    *,
    session: Session,
    customer_id: int | None = None,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Customer | None:
    """The customer with this id, external id, email or phone (lowest id if several share it)."""
    if customer_id is not None:
        return session.get(Customer, customer_id)
    if external_id is not None:
        condition = col(Customer.external_id) == external_id
    elif email is not None:
        condition = func.lower(col(Customer.email)) == email.strip().lower()
    elif phone is not None:
        condition = col(Customer.phone) == phone.strip()
    else:
        return None
    return session.exec(select(Customer).where(condition).order_by(col(Customer.id))).first()


def customers_by_ids(*, session: Session, ids: Collection[int]) -> dict[int, Customer]:
    """The customers with these ids, by id (missing ids are left out)."""
    found: dict[int, Customer] = {}
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        for row in session.exec(_CUSTOMERS_BY_IDS, params={"ids": chunk}):
            assert row.id is not None
            found[row.id] = row
    return found


def latest_run_id(*, session: Session) -> int | None:
    """The id of the newest scoring run that succeeded, if any."""
    return session.exec(
        select(func.max(ScoringRun.id)).where(ScoringRun.status == RunStatus.SUCCEEDED)
    ).one()


# Built once: the expressions are immutable and cheaper to share than to rebuild per page.
_SORT_KEYS: dict[CustomerOrder, ColumnElement[Any]] = {
    CustomerOrder.ID: CUSTOMER.c.id,
    CustomerOrder.CREATED_AT: CUSTOMER.c.created_at,
    CustomerOrder.STAGE_SINCE: CUSTOMER.c.stage_since,
    CustomerOrder.LAST_ORDER_AT: func.coalesce(CUSTOMER.c.last_order_at, NO_DATE),
    CustomerOrder.NET_REVENUE: CUSTOMER.c.net_revenue_minor,
    CustomerOrder.ORDER_COUNT: CUSTOMER.c.order_count,
    CustomerOrder.PREDICTED_CLV: func.coalesce(SCORE.c.predicted_clv_minor, NO_AMOUNT),
}


def _filtered(
    session: Session, statement: Select[Any], filters: CustomerFilter, scores: bool
) -> Select[Any]:
    if scores:
        statement = statement.outerjoin(
            Score,
            (col(Score.customer_id) == col(Customer.id))
            & (col(Score.run_id) == (latest_run_id(session=session) or 0)),
        )
    conditions: list[ColumnElement[bool]] = []
    if filters.stages:
        conditions.append(col(Customer.stage).in_(list(filters.stages)))
    if filters.owner_id is not None:
        conditions.append(col(Customer.owner_id) == filters.owner_id)
    if filters.acquisition_channel_id is not None:
        conditions.append(col(Customer.acquisition_channel_id) == filters.acquisition_channel_id)
    if filters.ids:
        conditions.append(col(Customer.id).in_(list(filters.ids)))
    if filters.rfm_segments:
        conditions.append(col(Score.rfm_segment).in_(list(filters.rfm_segments)))
    if filters.min_predicted_clv_minor is not None:
        conditions.append(col(Score.predicted_clv_minor) >= filters.min_predicted_clv_minor)
    if filters.search and filters.search.strip():
        text = filters.search.strip()
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(
            or_(
                col(Customer.external_id) == text,
                col(Customer.name).ilike(f"%{escaped}%", escape="\\"),
                col(Customer.email).ilike(f"{escaped}%", escape="\\"),
                col(Customer.phone).like(f"{escaped}%", escape="\\"),
            )
        )
    return statement.where(*conditions)


def customer_page(
    *,
    session: Session,
    filters: CustomerFilter,
    order: CustomerOrder = CustomerOrder.ID,
    descending: bool = False,
    after: tuple[Any, int] | None = None,
    limit: int = 50,
) -> list[tuple[Customer, Any]]:
    """Up to `limit` customers after the keyset position `after`, each with its sort value.

    `after` is the (sort value, id) of the last row of the previous page.
    """
    key = _SORT_KEYS[order]
    scores = filters.needs_scores or order is CustomerOrder.PREDICTED_CLV
    statement = _filtered(session, sa.select(Customer, key), filters, scores)
    if after is not None:
        position = tuple_(key, col(Customer.id))
        # Typed binds, so a datetime is stored-format on SQLite like the column it meets.
        bound = tuple_(literal(after[0], key.type), literal(after[1], CUSTOMER.c.id.type))
        statement = statement.where(position < bound if descending else position > bound)
    if descending:
        statement = statement.order_by(key.desc(), col(Customer.id).desc())
    else:
        statement = statement.order_by(key, col(Customer.id))
    rows = session.execute(statement.limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def count_customers(*, session: Session, filters: CustomerFilter) -> int:
    """How many customers meet the filter."""
    statement = _filtered(
        session, select(func.count(col(Customer.id))), filters, filters.needs_scores
    )
    return int(session.execute(statement).scalar_one())


def consents_of(*, session: Session, customer_ids: Collection[int]) -> dict[int, list[Consent]]:
    """Each customer's recorded consent answers, by channel id."""
    found: dict[int, list[Consent]] = defaultdict(list)
    statement = (
        select(Consent)
        .where(col(Consent.customer_id).in_(sorted(set(customer_ids))))
        .order_by(col(Consent.customer_id), col(Consent.channel_id))
    )
    for consent in session.exec(statement):
        found[consent.customer_id].append(consent)
    return found


def latest_scores(*, session: Session, customer_ids: Collection[int]) -> dict[int, Score]:
    """Each customer's Score from the latest successful scoring run that scored them."""
    ids = sorted(set(customer_ids))
    return {score.customer_id: score for score in session.exec(_LATEST_SCORES, params={"ids": ids})}
