"""Demo data written into real databases (SQLite and PostgreSQL).

Read-only checks share one generated database per backend (`demo_db`); tests that write
or expect a refusal use the cleaned `engine` fixture.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

import domain.models  # noqa: F401 (every table in the metadata)
from domain import migrate
from domain.catalog.models import Product
from domain.columns import metadata
from domain.customers.models import Customer
from domain.db import make_engine
from domain.demo import DatabaseNotEmptyError, DemoDataError, DemoSummary, generate
from domain.demo.service import TABLES
from domain.demo.writer import skip_row_triggers, verify_references
from domain.events.models import Event
from domain.orders.models import Order, OrderLine
from domain.referrals.models import Offer
from domain.staff.models import Staff
from domain.stages.rules import NOT_ENGAGEMENT
from tests.factories import make_customer, make_staff

AS_OF = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, tzinfo=UTC)
CUSTOMERS = 600
PG_ADMIN_DSN = os.environ.get(
    "LIFECYCLE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database of its own per backend, migrated and filled once with the demo business."""
    name = f"lifecycle_demo_{secrets.token_hex(4)}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    else:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{base}/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    _generate(engine)
    yield engine
    engine.dispose()
    if request.param == "postgres":
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def demo(demo_db: Engine) -> Iterator[Session]:
    """A session on the shared demo database."""
    with Session(demo_db) as session:
        yield session


def _generate(engine: Engine, **overrides: Any) -> DemoSummary:
    arguments: dict[str, Any] = {"customers": CUSTOMERS, "seed": 5, "as_of": AS_OF}
    arguments.update(overrides)
    return generate(engine=engine, **arguments)


def _normalised(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else value


def _content(engine: Engine) -> dict[str, str]:
    """A hash of every demo table's rows in id order, as read back through the column types."""
    digests = {}
    with engine.connect() as connection:
        for name in TABLES:
            table = metadata.tables[name]
            digest = hashlib.sha256()
            for row in connection.execute(select(table).order_by(table.c.id)):
                digest.update(repr(tuple(_normalised(value) for value in row)).encode())
            digests[name] = digest.hexdigest()
    return digests


def _sale_lines(session: Session) -> list[tuple[int, str, datetime]]:
    return list(
        session.execute(
            select(col(Order.customer_id), col(Product.category), col(Order.ordered_at))
            .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
            .join(Product, col(Product.id) == col(OrderLine.product_id))
            .where(col(Order.kind) == "sale", col(Order.status) == "completed")
        )
    )


def test_generate_writes_the_rows_it_reports(engine: Engine) -> None:
    summary = _generate(engine)
    with engine.connect() as connection:
        for table, count in summary.rows.items():
            found = connection.execute(select(func.count()).select_from(metadata.tables[table]))
            assert found.scalar_one() == count, table
    assert summary.rows["customer"] == CUSTOMERS
    assert summary.rows["staff"] == 4
    assert summary.rows["product"] == 143
    assert summary.rows["offer"] == 3
    assert sum(summary.archetypes.values()) == CUSTOMERS
    assert min(summary.archetypes.values()) > 0
    assert summary.as_of == AS_OF
    with Session(engine) as session:
        assert make_customer(session).id == CUSTOMERS + 1


def test_the_same_seed_gives_identical_content_in_another_database(
    engine: Engine, tmp_path: Path
) -> None:
    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    migrate.upgrade(other)
    try:
        assert _generate(engine) == _generate(other)
        assert _content(engine) == _content(other)
    finally:
        other.dispose()


def test_customer_facts_match_orders_and_events_recomputed_in_sql(demo: Session) -> None:
    session = demo
    sale = col(Order.kind) == "sale"
    orders = (
        select(
            col(Order.customer_id),
            func.count(case((sale, 1))).label("count"),
            func.sum(col(Order.total_minor)).label("revenue"),
            func.min(case((sale, col(Order.ordered_at)))).label("first"),
            func.max(case((sale, col(Order.ordered_at)))).label("last"),
        )
        .where(col(Order.status) == "completed")
        .group_by(col(Order.customer_id))
        .subquery()
    )
    events = (
        select(col(Event.customer_id), func.max(col(Event.occurred_at)).label("last"))
        .where(col(Event.type).not_in(sorted(NOT_ENGAGEMENT)))
        .group_by(col(Event.customer_id))
        .subquery()
    )
    rows = session.execute(
        select(
            Customer,
            func.coalesce(orders.c.count, 0),
            func.coalesce(orders.c.revenue, 0),
            orders.c.first,
            orders.c.last,
            events.c.last,
        )
        .outerjoin(orders, orders.c.customer_id == col(Customer.id))
        .outerjoin(events, events.c.customer_id == col(Customer.id))
    ).all()
    assert len(rows) == CUSTOMERS
    for customer, count, revenue, first, last, engaged in rows:
        assert (customer.order_count, customer.net_revenue_minor) == (count, revenue)
        assert customer.first_order_at == (first and first.replace(tzinfo=UTC))
        assert customer.last_order_at == (last and last.replace(tzinfo=UTC))
        assert customer.last_engaged_at == (engaged and engaged.replace(tzinfo=UTC))
    assert sum(1 for row in rows if row[1] >= 2) > CUSTOMERS / 4


def test_some_customers_buy_infant_formula_three_to_nine_months_after_maternity(
    demo: Session,
) -> None:
    session = demo
    bought: dict[int, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for customer_id, category, at in _sale_lines(session):
        bought[customer_id][category].append(at)
    followed = [
        customer_id
        for customer_id, categories in bought.items()
        if any(
            timedelta(days=90) <= formula - maternity <= timedelta(days=270)
            for maternity in categories["maternity"]
            for formula in categories["infant_formula"]
        )
    ]
    moved_on = [
        customer_id
        for customer_id, categories in bought.items()
        if categories["infant_formula"]
        and categories["toddler_formula"]
        and min(categories["toddler_formula"]) - min(categories["infant_formula"])
        >= timedelta(days=300)
    ]
    assert len(followed) >= 20
    assert len(moved_on) >= 20


def test_abandoned_carts_include_some_from_the_last_three_days(demo: Session) -> None:
    session = demo
    order_days = {
        (customer_id, at.date())
        for customer_id, at in session.execute(
            select(col(Order.customer_id), col(Order.ordered_at)).where(col(Order.kind) == "sale")
        )
    }
    carts = session.execute(
        select(col(Event.customer_id), col(Event.occurred_at)).where(col(Event.type) == "cart_add")
    )
    abandoned = [at for customer_id, at in carts if (customer_id, at.date()) not in order_days]
    recent = [at for at in abandoned if at >= NOW - timedelta(days=3)]
    assert len(abandoned) >= 100
    assert len(recent) >= 5
    assert max(recent) < NOW


def test_referred_customers_point_at_customers_who_joined_and_bought_before_them(
    demo: Session,
) -> None:
    session = demo
    referrer = Customer.__table__.alias("referrer")  # type: ignore[attr-defined]
    pairs = session.execute(
        select(
            col(Customer.created_at),
            referrer.c.created_at,
            referrer.c.first_order_at,
        ).join(referrer, referrer.c.id == col(Customer.referred_by_id))
    ).all()
    assert len(pairs) >= 20
    for joined, referrer_joined, referrer_bought in pairs:
        assert referrer_joined < joined
        assert referrer_bought is not None and referrer_bought < joined
    channels = session.execute(
        select(func.count(func.distinct(col(Customer.acquisition_channel_id)))).where(
            col(Customer.referred_by_id).is_not(None)
        )
    ).scalar_one()
    assert channels == 1


def test_returns_are_completed_orders_with_negative_totals_and_quantities(demo: Session) -> None:
    session = demo
    returns = session.execute(
        select(func.count(), func.max(col(Order.total_minor))).where(col(Order.kind) == "return")
    ).one()
    assert returns[0] > 0
    assert returns[1] < 0
    quantities = session.execute(
        select(func.max(col(OrderLine.quantity)))
        .join(Order, col(Order.id) == col(OrderLine.order_id))
        .where(col(Order.kind) == "return")
    ).scalar_one()
    assert quantities < 0
    statuses = session.execute(
        select(func.distinct(col(Order.status))).where(col(Order.kind) == "return")
    ).scalars()
    assert list(statuses) == ["completed"]


def test_rows_read_back_through_the_models(demo: Session) -> None:
    session = demo
    customer = session.get(Customer, 1)
    assert customer is not None
    assert customer.external_id == "CUST-00000001"
    assert customer.stage == "prospect"
    assert customer.stage_since == customer.created_at
    assert customer.created_at.tzinfo is not None
    line = session.scalars(select(OrderLine).order_by(col(OrderLine.id)).limit(1)).one()
    assert isinstance(line.unit_price, Decimal)
    assert line.unit_price * 100 * line.quantity == line.line_total_minor
    offer = session.scalars(select(Offer).where(col(Offer.code) == "GIVE10GET10")).one()
    assert (offer.kind, offer.referrer_reward_minor, offer.valid_days, offer.max_uses) == (
        "referral",
        1000,
        30,
        5,
    )
    assert offer.referee_benefit == "10 off first order"


def test_existing_staff_are_kept_and_demo_staff_follow_them(
    engine: Engine, session: Session
) -> None:
    existing = make_staff(session, name="Real Person")
    session.commit()
    summary = _generate(engine)
    assert summary.rows["staff"] == 4
    ids = session.scalars(select(col(Staff.id)).order_by(col(Staff.id))).all()
    assert existing.id is not None
    assert ids == [existing.id + k for k in range(5)]
    owners = session.scalars(select(func.distinct(col(Customer.owner_id)))).all()
    assert existing.id not in owners


def test_refuses_a_database_with_customers_and_changes_nothing(
    engine: Engine, session: Session
) -> None:
    make_customer(session)
    session.commit()
    with pytest.raises(DatabaseNotEmptyError, match=r"customer \(1 rows\)"):
        _generate(engine)
    assert session.scalar(select(func.count()).select_from(Staff)) == 0
    assert session.scalar(select(func.count()).select_from(Product)) == 0
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_refuses_fewer_than_one_customer() -> None:
    with pytest.raises(DemoDataError, match="at least 1"):
        _generate(make_engine("sqlite://"), customers=0)


def _schema_objects(engine: Engine) -> set[tuple[str, str]]:
    if engine.dialect.name == "postgresql":
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "UNION SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = current_schema()::regnamespace"
        )
    else:
        query = "SELECT name, coalesce(sql, '') FROM sqlite_master"
    with engine.connect() as connection:
        return {(name, definition) for name, definition in connection.exec_driver_sql(query)}


def test_indexes_and_constraints_are_the_same_after_the_bulk_load(engine: Engine) -> None:
    before = _schema_objects(engine)
    _generate(engine)
    assert _schema_objects(engine) == before
    assert len(before) > 40


def test_reference_check_finds_rows_pointing_nowhere(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            assert skip_row_triggers(connection, ["event"])
            connection.exec_driver_sql(
                "INSERT INTO event (id, customer_id, type, occurred_at, properties, "
                "idempotency_key, created_at) "
                "VALUES (424242, 424242, 'visit', now(), '{}', 'dangling', now())"
            )
            with pytest.raises(DemoDataError, match=r"1 rows of event\.customer_id pointing at no"):
                verify_references(connection, ["event"])
            transaction.rollback()
    finally:
        engine.dispose()
