"""Reading back what an import wrote, and a database that refuses some rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.catalog.models import Product
from domain.customers.models import Customer
from domain.events.models import Event
from domain.imports.store import ORDER, ORDER_LINE
from domain.orders.models import Order, OrderLine


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table the importers write."""
    with Session(engine) as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Customer, Product, Order, OrderLine, Event)
        }


def orders(engine: Engine) -> dict[str, Order]:
    """Orders by external id."""
    with Session(engine, expire_on_commit=False) as session:
        return {o.external_id: o for o in session.scalars(select(Order))}


def lines(engine: Engine, external_id: str) -> list[tuple[Any, ...]]:
    """(line_no, sku, description, quantity, unit_price, line_total_minor) of an order."""
    statement = (
        select(
            ORDER_LINE.c.line_no,
            ORDER_LINE.c.sku,
            ORDER_LINE.c.description,
            ORDER_LINE.c.quantity,
            ORDER_LINE.c.unit_price,
            ORDER_LINE.c.line_total_minor,
        )
        .join(ORDER, ORDER.c.id == ORDER_LINE.c.order_id)
        .where(ORDER.c.external_id == external_id)
        .order_by(ORDER_LINE.c.line_no)
    )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def customers(engine: Engine) -> dict[str, Customer]:
    """Customers by external id."""
    with Session(engine, expire_on_commit=False) as session:
        return {c.external_id: c for c in session.scalars(select(Customer))}


def products(engine: Engine) -> dict[str, str]:
    """Product names by SKU."""
    with Session(engine) as session:
        return {p.sku: p.name for p in session.scalars(select(Product))}


@contextmanager
def refusing_boom(engine: Engine) -> Iterator[Callable[[], None]]:
    """A trigger makes the database refuse order lines with SKU BOOM (a real database
    error) inside the block; the callable it yields lifts the refusal early."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgres:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.sku = 'BOOM' THEN RAISE EXCEPTION 'refused BOOM'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_boom BEFORE INSERT ON order_line "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_boom BEFORE INSERT ON order_line "
                    "WHEN NEW.sku = 'BOOM' BEGIN SELECT RAISE(ABORT, 'refused BOOM'); END"
                )
            )

    def lift() -> None:
        with engine.begin() as connection:
            if postgres:
                connection.execute(text("DROP TRIGGER IF EXISTS refuse_boom ON order_line"))
                connection.execute(text("DROP FUNCTION IF EXISTS refuse_boom()"))
            else:
                connection.execute(text("DROP TRIGGER IF EXISTS refuse_boom"))

    try:
        yield lift
    finally:
        lift()
