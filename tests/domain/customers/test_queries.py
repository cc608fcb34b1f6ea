"""The hot reads (pages, look-ups, latest scores) return what the ORM rows hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.customers.models import Customer
from domain.customers.queries import (
    NO_FILTER,
    CustomerFilter,
    CustomerOrder,
    CustomerRecord,
    customer_page,
    customer_rows_by_ids,
    latest_scores,
)
from domain.db import make_engine
from domain.scoring.models import RunStatus
from tests.api.factories import make_run, make_score
from tests.factories import make_customer

BASE = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def as_record(row: Customer) -> CustomerRecord:
    """The record the queries should give for an ORM row."""
    return CustomerRecord(*(getattr(row, name) for name in CustomerRecord._fields))


def page_through(session: Session, **query: Any) -> list[int]:
    """The ids customer_page gives, three at a time, following its keyset cursor."""
    seen: list[int] = []
    after = None
    while page := customer_page(session=session, after=after, limit=3, **query):
        seen += [record.id for record, _ in page]
        after = (page[-1][1], page[-1][0].id)
    return seen


def seed_customers(session: Session, n: int) -> list[Customer]:
    customers = [
        make_customer(
            session,
            created_at=BASE + timedelta(days=i % 4, minutes=i),
            net_revenue_minor=1_000 * (i % 3),
            order_count=i % 3,
            last_order_at=None if i % 2 else BASE - timedelta(days=i),
        )
        for i in range(n)
    ]
    session.commit()
    return customers


@pytest.mark.parametrize(
    "order", [o for o in CustomerOrder if o is not CustomerOrder.PREDICTED_CLV]
)
@pytest.mark.parametrize("descending", [False, True])
def test_paging_the_plain_list_visits_every_customer_once_in_order(
    session: Session, order: CustomerOrder, descending: bool
) -> None:
    customers = {c.id: as_record(c) for c in seed_customers(session, 11)}
    seen: list[tuple[CustomerRecord, object]] = []
    after = None
    while True:
        page = customer_page(
            session=session, filters=NO_FILTER, order=order, descending=descending, after=after
        )[:3]
        if not page:
            break
        seen.extend(page)
        after = (page[-1][1], page[-1][0].id)
    assert [record for record, _ in seen] == [customers[record.id] for record, _ in seen]
    assert sorted(record.id for record, _ in seen) == sorted(customers)
    keys = [(value, record.id) for record, value in seen]
    assert keys == sorted(keys, reverse=descending)


def test_a_filtered_page_reads_the_same_records_as_the_plain_one(session: Session) -> None:
    customers = seed_customers(session, 6)
    owned = CustomerFilter(ids=[c.id for c in customers if c.id is not None])
    plain = customer_page(session=session, filters=NO_FILTER, order=CustomerOrder.CREATED_AT)
    filtered = customer_page(session=session, filters=owned, order=CustomerOrder.CREATED_AT)
    assert filtered == plain
    assert [record for record, _ in plain] == sorted(
        (as_record(c) for c in customers), key=lambda r: (r.created_at, r.id)
    )


def test_look_ups_read_records_with_aware_utc_timestamps(session: Session) -> None:
    customer = make_customer(session, created_at=BASE, last_engaged_at=BASE)
    session.commit()
    assert customer.id is not None
    found = customer_rows_by_ids(session=session, ids=[customer.id, customer.id + 999])
    assert found == {customer.id: as_record(customer)}
    assert found[customer.id].created_at == BASE
    assert found[customer.id].created_at.utcoffset() == timedelta(0)


def test_latest_scores_come_from_the_newest_succeeded_run(session: Session) -> None:
    customer = make_customer(session)
    older = make_run(session)
    newer = make_run(session)
    failed = make_run(session, status=RunStatus.FAILED)
    make_score(session, older, customer, p_alive=0.2)
    expected = make_score(session, newer, customer, p_alive=0.7)
    make_score(session, failed, customer, p_alive=0.1)
    session.commit()
    assert customer.id is not None
    scores = latest_scores(session=session, customer_ids=[customer.id])
    score = scores[customer.id]
    assert (score.run_id, score.p_alive, score.reasons, score.cross_sell) == (
        expected.run_id,
        0.7,
        ["bought 5 times", "last order 10 days ago"],
        [{"sku": "SKU-TEA", "name": "Green tea", "score": 0.4, "due_in_days": 20.0}],
    )


def test_postgres_sessions_read_utc_whatever_the_server_zone(pg_url: str) -> None:
    # A server (or role) whose sessions default to another zone still yields UTC values.
    engine: Engine = make_engine(pg_url, connect_args={"options": "-c TimeZone=Asia/Tokyo"})
    try:
        with Session(engine) as session:
            customer = make_customer(session, created_at=BASE)
            session.commit()
            assert customer.id is not None
            assert session.execute(text("SHOW TimeZone")).scalar_one() == "UTC"
            record = customer_rows_by_ids(session=session, ids=[customer.id])[customer.id]
            assert record.created_at == BASE
            assert record.created_at.tzinfo is UTC
            session.delete(session.get(Customer, customer.id))
            session.commit()
    finally:
        engine.dispose()


def test_the_most_valuable_first_pages_like_sorting_everyone(session: Session) -> None:
    older, latest = make_run(session), make_run(session)
    failed = make_run(session, status=RunStatus.FAILED)
    latest_value: dict[int, int | None] = {}
    stages = {}
    for n in range(14):
        customer = make_customer(session, stage="sleeping" if n % 3 else "loyal")
        assert customer.id is not None
        stages[customer.id] = customer.stage
        make_score(session, older, customer, predicted_clv_minor=99_999)
        make_score(session, failed, customer, predicted_clv_minor=1)
        if n % 5 == 4:
            continue  # not scored by the latest run
        value = None if n % 7 == 6 else 1_000 * (n % 4)  # ties, and a run without a CLV
        make_score(session, latest, customer, predicted_clv_minor=value)
        latest_value[customer.id] = value
    session.commit()

    def pages(filters: CustomerFilter) -> list[int]:
        return page_through(
            session, filters=filters, order=CustomerOrder.PREDICTED_CLV, descending=True
        )

    def expected(ids: list[int]) -> list[int]:
        worth = {i: latest_value.get(i) for i in ids}
        return sorted(ids, key=lambda i: (worth[i] if worth[i] is not None else -(2**62), i))[::-1]

    assert pages(NO_FILTER) == expected(list(stages))
    sleeping = [i for i, stage in stages.items() if stage == "sleeping"]
    assert pages(CustomerFilter(stages=["sleeping"])) == expected(sleeping)
    assert pages(CustomerFilter(min_predicted_clv_minor=2_000)) == expected(
        [i for i, value in latest_value.items() if value is not None and value >= 2_000]
    )


@pytest.mark.parametrize("descending", [False, True])
def test_a_search_pages_through_its_matches_in_id_order(session: Session, descending: bool) -> None:
    names = ["Ann Smithson", "Bo Lee", "Cy Smith", "Di Ng", "Ed Smithers"]
    customers = [
        make_customer(session, name=name, email=f"{name.split()[0].lower()}@example.com")
        for name in names
    ]
    by_email = make_customer(session, name="Fay", email="Smithy@Example.com")
    by_phone = make_customer(session, name="Gus", phone="+4477001")
    session.commit()

    def ids(search: str) -> list[int]:
        return page_through(session, filters=CustomerFilter(search=search), descending=descending)

    smiths = [c.id for c in customers if "Smith" in (c.name or "")] + [by_email.id]
    assert ids("smith") == sorted(smiths, reverse=descending)
    assert ids("+44770") == [by_phone.id]
    assert ids("SMITHY@") == [by_email.id]
    assert ids("zz") == []
