"""Read-only look-ups of customers: by key, by ids in bulk, and filtered keyset pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    any_,
    bindparam,
    func,
    literal,
    or_,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from domain.customers.models import Consent, Customer
from domain.db import DriverQuery
from domain.scoring.models import RunStatus, Score, ScoringRun
from domain.scoring.queries import SCORE_RECORD_COLUMNS, ScoreRecord

CUSTOMER = cast(Table, Customer.__table__)  # type: ignore[attr-defined]
SCORE = cast(Table, Score.__table__)  # type: ignore[attr-defined]
SCORING_RUN = cast(Table, ScoringRun.__table__)  # type: ignore[attr-defined]
# Keeps IN lists well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 2000
# Stand-ins for empty values, so that sort keys are never NULL and keyset pages stay exact.
NO_DATE = datetime(1970, 1, 1, tzinfo=UTC)
NO_AMOUNT = -(2**62)
# The shortest search a trigram index can answer; shorter ones scan however they are asked.
TRIGRAM = 3


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


NO_FILTER = CustomerFilter()


class CustomerRecord(NamedTuple):
    """A customer as a plain row: what reads need, without an ORM object behind it.

    Hot reads (the API's pages and loaders) build thousands of them a second: a tuple costs
    a fraction of an ORM object and reads its fields several times faster than a `Row`.
    """

    id: int
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    birthday: date | None
    language: str | None
    timezone: str | None
    country: str | None
    acquisition_channel_id: int | None
    owner_id: int | None
    referral_code: str | None
    referred_by_id: int | None
    created_at: datetime
    stage: str
    stage_since: datetime
    first_order_at: datetime | None
    last_order_at: datetime | None
    order_count: int
    net_revenue_minor: int
    last_engaged_at: datetime | None


_RECORD_COLUMNS = tuple(CUSTOMER.c[name] for name in CustomerRecord._fields)

# Hot look-ups (the API's dataloaders and pages) are built once: building a statement and
# its cache key costs more than running it. They read plain records, not ORM objects (a page
# costs about half as much), and on PostgreSQL straight from the driver (`DriverQuery`).
# PostgreSQL gets the id list as one array, so the statement text never varies and is
# prepared once per connection; SQLite an IN list expanded at execution.
IdsMatch = Callable[[ColumnElement[int]], ColumnElement[bool]]


def _any_id(column: ColumnElement[int]) -> ColumnElement[bool]:
    return column == any_(bindparam("ids", type_=ARRAY(BigInteger)))


def _in_ids(column: ColumnElement[int]) -> ColumnElement[bool]:
    return column.in_(bindparam("ids", expanding=True))


def _customer_rows(ids: IdsMatch) -> Select[Any]:
    return sa.select(*_RECORD_COLUMNS).where(ids(CUSTOMER.c.id))


def _latest_score_rows(ids: IdsMatch) -> Select[Any]:
    latest = (
        sa.select(SCORE.c.customer_id, func.max(SCORE.c.run_id).label("run_id"))
        .join(SCORING_RUN, SCORING_RUN.c.id == SCORE.c.run_id)
        .where(ids(SCORE.c.customer_id), SCORING_RUN.c.status == RunStatus.SUCCEEDED)
        .group_by(SCORE.c.customer_id)
        .subquery("latest")
    )
    return sa.select(*SCORE_RECORD_COLUMNS).join(
        latest,
        (SCORE.c.customer_id == latest.c.customer_id) & (SCORE.c.run_id == latest.c.run_id),
    )


_CUSTOMER_ROWS = DriverQuery(_customer_rows(_any_id), elsewhere=_customer_rows(_in_ids))
_LATEST_SCORE_ROWS = DriverQuery(_latest_score_rows(_any_id), elsewhere=_latest_score_rows(_in_ids))
# Callers that change the customers they load need ORM objects.
_CUSTOMERS_BY_IDS = select(Customer).where(col(Customer.id).in_(bindparam("ids", expanding=True)))


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


def _rows_by_ids(
    session: Session, query: DriverQuery, ids: Collection[int]
) -> Iterator[tuple[Any, ...]]:
    """The query's rows for these ids (bound as `ids`), a chunk of ids at a time."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield from query.rows(session, {"ids": ordered[start : start + CHUNK]})


def customer_rows_by_ids(*, session: Session, ids: Collection[int]) -> dict[int, CustomerRecord]:
    """The customers with these ids as plain rows, by id (missing ids are left out)."""
    records = map(CustomerRecord._make, _rows_by_ids(session, _CUSTOMER_ROWS, ids))
    return {record.id: record for record in records}


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


def _conditions(filters: CustomerFilter) -> list[ColumnElement[bool]]:
    """The filter as conditions on customer and (latest) score columns."""
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
                # Case-folded like its index (ILIKE could not use a B-tree).
                func.lower(col(Customer.email)).like(f"{escaped.lower()}%", escape="\\"),
                col(Customer.phone).like(f"{escaped}%", escape="\\"),
            )
        )
    return conditions


def _filtered(
    session: Session, statement: Select[Any], filters: CustomerFilter, scores: bool
) -> Select[Any]:
    if scores:
        statement = statement.outerjoin(
            Score,
            (col(Score.customer_id) == col(Customer.id))
            & (col(Score.run_id) == (latest_run_id(session=session) or 0)),
        )
    return statement.where(*_conditions(filters))


def _top_value_page(
    session: Session, filters: CustomerFilter, after: tuple[Any, int] | None, limit: int
) -> list[tuple[Any, ...]]:
    """A page by predicted CLV, highest first: the scored customers walked down the latest
    run's CLV index, then (once those run out) the unscored ones by id.

    The same rows and order as sorting everyone by coalesce(CLV, NO_AMOUNT), but the top of
    a million customers costs an index range instead of a sort of all of them.
    """
    run_id = latest_run_id(session=session) or 0
    clv = SCORE.c.predicted_clv_minor
    conditions = _conditions(filters)
    rows: list[tuple[Any, ...]] = []
    if after is None or after[0] > NO_AMOUNT:
        scored = (
            sa.select(*_RECORD_COLUMNS, clv)
            .select_from(SCORE.join(CUSTOMER, CUSTOMER.c.id == SCORE.c.customer_id))
            .where(SCORE.c.run_id == run_id, clv.is_not(None), *conditions)
        )
        if after is not None:
            bound = tuple_(literal(after[0], clv.type), literal(after[1], CUSTOMER.c.id.type))
            scored = scored.where(tuple_(clv, SCORE.c.customer_id) < bound)
        scored = scored.order_by(clv.desc(), SCORE.c.customer_id.desc()).limit(limit)
        rows = [tuple(row) for row in session.execute(scored)]
    if len(rows) < limit:
        unscored = (
            sa.select(*_RECORD_COLUMNS, literal(NO_AMOUNT, clv.type))
            .select_from(
                CUSTOMER.outerjoin(
                    SCORE, (SCORE.c.customer_id == CUSTOMER.c.id) & (SCORE.c.run_id == run_id)
                )
            )
            .where(clv.is_(None), *conditions)
        )
        if after is not None and after[0] <= NO_AMOUNT:
            unscored = unscored.where(CUSTOMER.c.id < after[1])
        unscored = unscored.order_by(CUSTOMER.c.id.desc()).limit(limit - len(rows))
        rows += [tuple(row) for row in session.execute(unscored)]
    return rows


@lru_cache(maxsize=64)
def _plain_page(order: CustomerOrder, descending: bool, paged: bool) -> DriverQuery:
    """The statement of an unfiltered page: binds `limit`, and `after_id` (`after_value`)."""
    key = _SORT_KEYS[order]
    statement = sa.select(*_RECORD_COLUMNS, key)
    if paged:
        after = (
            bindparam("after_value", type_=key.type),
            bindparam("after_id", type_=CUSTOMER.c.id.type),
        )
        statement = _after(statement, order, descending, after)
    keys = [key] if order is CustomerOrder.ID else [key, CUSTOMER.c.id]
    statement = statement.order_by(*(k.desc() for k in keys) if descending else keys)
    return DriverQuery(statement.limit(bindparam("limit", type_=sa.Integer())))


def _after(
    statement: Select[Any],
    order: CustomerOrder,
    descending: bool,
    after: tuple[ColumnElement[Any], ColumnElement[Any]],
) -> Select[Any]:
    """The statement kept to rows past the keyset position (sort value, id), both typed binds
    (so a datetime is stored-format on SQLite like the column it meets)."""
    value, after_id = after
    if order is CustomerOrder.ID:
        # The id is the whole key: a plain comparison PostgreSQL plans once, where a row
        # comparison gets planned afresh for every page.
        position: ColumnElement[Any] = CUSTOMER.c.id
        bound: ColumnElement[Any] = after_id
    else:
        position = tuple_(_SORT_KEYS[order], CUSTOMER.c.id)
        bound = tuple_(value, after_id)
    return statement.where(position < bound if descending else position > bound)


def customer_page(
    *,
    session: Session,
    filters: CustomerFilter,
    order: CustomerOrder = CustomerOrder.ID,
    descending: bool = False,
    after: tuple[Any, int] | None = None,
    limit: int = 50,
) -> list[tuple[CustomerRecord, Any]]:
    """Up to `limit` customers (plain records) after the keyset position `after`, each with
    its sort value.

    `after` is the (sort value, id) of the last row of the previous page.
    """
    key = _SORT_KEYS[order]
    scores = filters.needs_scores or order is CustomerOrder.PREDICTED_CLV
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        params["after_value"], params["after_id"] = after
    if filters == NO_FILTER and not scores:
        # The plain list, the one front-ends page through most: a statement built once.
        rows = _plain_page(order, descending, after is not None).rows(session, params)
    elif order is CustomerOrder.PREDICTED_CLV and descending:
        # The most valuable customers first: the Pareto view, from an index.
        rows = _top_value_page(session, filters, after, limit)
    else:
        statement = _filtered(session, sa.select(*_RECORD_COLUMNS, key), filters, scores)
        if after is not None:
            bound = (literal(after[0], key.type), literal(after[1], CUSTOMER.c.id.type))
            statement = _after(statement, order, descending, bound)
        keys = [key] if order is CustomerOrder.ID else [key, CUSTOMER.c.id]
        if order is CustomerOrder.ID and len((filters.search or "").strip()) >= TRIGRAM:
            # Ordered by an expression, so the planner cannot walk the primary key and filter
            # (hoping for matches early, and reading half the table when they come late): it
            # collects the matches from the search indexes, then sorts those few.
            keys = [CUSTOMER.c.id + 0]
        statement = statement.order_by(*(k.desc() for k in keys) if descending else keys)
        rows = [tuple(row) for row in session.execute(statement.limit(limit))]
    return [(CustomerRecord._make(row[:-1]), row[-1]) for row in rows]


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


def latest_scores(*, session: Session, customer_ids: Collection[int]) -> dict[int, ScoreRecord]:
    """Each customer's score from the latest successful scoring run that scored them."""
    records = map(ScoreRecord._make, _rows_by_ids(session, _LATEST_SCORE_ROWS, customer_ids))
    return {record.customer_id: record for record in records}
