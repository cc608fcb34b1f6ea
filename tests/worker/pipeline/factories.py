"""A small business in the database, drawn from the behaviour models' seeded generator.

Customers have personal rhythms, drop-out, returns, category baskets and engagement events
(`tests.worker.models.factories_behaviour.purchase_histories`); each category is a product,
each sale an order with one line per basket item, each event a visit or an email open on a
channel. Rows go in with plain bulk INSERTs, so the same population lands in SQLite and
PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection, Engine

from domain.catalog.models import Product
from domain.contact.models import ContactLog, ContactOutcome
from domain.customers.models import Customer
from domain.events.models import Event, EventType
from domain.orders.models import Order, OrderKind, OrderLine, OrderStatus
from tests.worker.models.factories_behaviour import purchase_histories

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Population:
    """What was written: customer ids in index order, and the date the history ends."""

    customer_ids: list[int]
    as_of: date
    orders: int
    lines: int
    events: int


def _ids(connection: Connection, table: str, pattern: str) -> list[int]:
    """Ids of the rows whose external id matches, in insertion (id) order."""
    statement = text(f"SELECT id FROM {table} WHERE external_id LIKE :pattern ORDER BY id")
    return list(connection.execute(statement, {"pattern": pattern}).scalars())


def moment(days: float) -> datetime:
    """A UTC moment from days since 1970 (to the microsecond)."""
    return EPOCH + timedelta(microseconds=round(days * 86_400_000_000))


def populate(
    engine: Engine, *, customers: int = 400, seed: int = 0, prospects: int = 20
) -> Population:
    """Write a population of `customers` (the last `prospects` never buy) and its history."""
    data = purchase_histories(customers, seed=seed, n_categories=12, prospects=prospects)
    rng = np.random.default_rng(seed + 1)
    tx, lines, events = data.tx, data.lines, data.events
    with engine.begin() as connection:
        channel_ids = list(connection.execute(text("SELECT id FROM channel ORDER BY id")).scalars())
        products = [
            {
                "sku": f"CAT{i:02d}",
                "name": f"Category {i}",
                "category": f"c{i}",
                "price_minor": 1000,
            }
            for i in range(lines.n_items)
        ]
        connection.execute(insert(Product), products)
        product_ids = list(connection.execute(text("SELECT id FROM product ORDER BY id")).scalars())
        acquisition = rng.integers(-1, len(channel_ids), customers)
        connection.execute(
            insert(Customer),
            [
                {
                    "external_id": f"P{seed}-{i:06d}",
                    "acquisition_channel_id": None if a < 0 else channel_ids[a],
                    "created_at": moment(data.end - 2000),
                    "stage_since": moment(data.end - 2000),
                }
                for i, a in enumerate(acquisition.tolist())
            ],
        )
        ids = _ids(connection, "customer", f"P{seed}-%")
        order_rows = []
        order_of: dict[tuple[int, float], int] = {}
        for row, (c, t, amount) in enumerate(
            zip(tx.customer.tolist(), tx.t.tolist(), tx.amount.tolist(), strict=True)
        ):
            sale = amount > 0
            order_rows.append(
                {
                    "external_id": f"O{seed}-{row}",
                    "customer_id": ids[c],
                    "ordered_at": moment(t),
                    "kind": OrderKind.SALE if sale else OrderKind.RETURN,
                    "status": OrderStatus.COMPLETED,
                    "total_minor": int(amount),
                }
            )
        connection.execute(insert(Order), order_rows)
        order_ids = _ids(connection, "orders", f"O{seed}-%")
        for row, (c, t) in enumerate(zip(tx.customer.tolist(), tx.t.tolist(), strict=True)):
            if tx.amount[row] > 0:
                order_of[(c, t)] = order_ids[row]
        line_rows: list[dict[str, Any]] = []
        seen: dict[int, int] = {}
        for c, t, item in zip(
            lines.customer.tolist(), lines.t.tolist(), lines.item.tolist(), strict=True
        ):
            order_id = order_of[(c, t)]
            seen[order_id] = seen.get(order_id, 0) + 1
            line_rows.append(
                {
                    "order_id": order_id,
                    "line_no": seen[order_id],
                    "product_id": product_ids[item],
                    "sku": f"CAT{item:02d}",
                    "quantity": 1,
                    "unit_price": 10,
                    "line_total_minor": 1000,
                }
            )
        connection.execute(insert(OrderLine), line_rows)
        event_channel = rng.integers(0, len(channel_ids), events.t.size)
        event_type = np.where(
            rng.random(events.t.size) < 0.5, EventType.VISIT, EventType.EMAIL_OPEN
        )
        connection.execute(
            insert(Event),
            [
                {
                    "customer_id": ids[c],
                    "type": str(kind),
                    "channel_id": channel_ids[ch],
                    "occurred_at": moment(t),
                    "properties": {},
                    "idempotency_key": f"E{seed}-{i}",
                }
                for i, (c, t, ch, kind) in enumerate(
                    zip(
                        events.customer.tolist(),
                        events.t.tolist(),
                        event_channel.tolist(),
                        event_type.tolist(),
                        strict=True,
                    )
                )
            ],
        )
        contacts = rng.integers(0, customers, customers // 4)
        connection.execute(
            insert(ContactLog),
            [
                {
                    "customer_id": ids[c],
                    "channel_id": channel_ids[0],
                    "kind": "campaign",
                    "outcome": ContactOutcome.SENT,
                    "at": moment(data.end - 100 + i % 90),
                }
                for i, c in enumerate(contacts.tolist())
            ],
        )
    as_of = (EPOCH + timedelta(days=int(np.ceil(data.end)))).date()
    return Population(ids, as_of, len(order_rows), len(line_rows), int(events.t.size))


def add_customer(
    engine: Engine, *, as_of: date, orders: list[tuple[float, int]], external_id: str = "HAND"
) -> int:
    """A hand-built customer whose orders are (days before as_of, total): negative = return.

    Each sale has one line of the first product; returns have none.
    """
    with engine.begin() as connection:
        start = moment((as_of - EPOCH.date()).days - 4000)
        connection.execute(
            insert(Customer),
            [{"external_id": external_id, "created_at": start, "stage_since": start}],
        )
        customer_id = _ids(connection, "customer", external_id)[0]
        product_id = connection.execute(text("SELECT MIN(id) FROM product")).scalar_one()
        cutoff = (as_of - EPOCH.date()).days
        for i, (days_before, total) in enumerate(orders):
            connection.execute(
                insert(Order),
                [
                    {
                        "external_id": f"{external_id}-{i}",
                        "customer_id": customer_id,
                        "ordered_at": moment(cutoff - days_before),
                        "kind": OrderKind.SALE if total > 0 else OrderKind.RETURN,
                        "status": OrderStatus.COMPLETED,
                        "total_minor": total,
                    }
                ],
            )
            if total > 0 and product_id is not None:
                order_id = _ids(connection, "orders", f"{external_id}-{i}")[0]
                connection.execute(
                    insert(OrderLine),
                    [
                        {
                            "order_id": order_id,
                            "line_no": 1,
                            "product_id": product_id,
                            "sku": "HAND",
                            "quantity": 1,
                            "unit_price": 10,
                            "line_total_minor": total,
                        }
                    ],
                )
    return int(customer_id)
