"""Bulk extraction of one shard's behaviour: one query per table over its customer-id range.

On PostgreSQL each query's rows come as one binary COPY row of arrays (`array_agg`), read by
numpy in place; SQLite runs the same query as a plain SELECT. Rows become the flat arrays of
`worker.models.features`, sorted there by customer and time: customers by dense index (their
position among the shard's ids), times as days since 1970, amounts in minor units (returns
negative). Only rows before the run's as-of moment are read.

A shard's order lines are reached from its orders through the order_line(order_id) index,
never by scanning every line of the table: the cost of a shard then depends on the shard's
own rows only, which is what lets a run grow by adding shards.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from domain.columns import UTCDateTime
from worker.models.features import (
    Events,
    Lines,
    Touches,
    Transactions,
    make_events,
    make_lines,
    make_touches,
    make_transactions,
)
from worker.pipeline.bundle import Arrays, pack, unpack
from worker.pipeline.catalog import Catalog
from worker.pipeline.pgcopy import ReadType, read_arrays

IntArray = NDArray[np.int64]
# julianday() of 1970-01-01T00:00:00.
_UNIX_JULIAN_DAY = 2440587.5


@dataclass(frozen=True, slots=True)
class ShardData:
    """One shard's customers and their history before the as-of moment."""

    customer_ids: IntArray
    acquisition: IntArray
    tx: Transactions
    lines: Lines
    events: Events
    touches: Touches

    @property
    def n_customers(self) -> int:
        """Customers in the shard."""
        return int(self.customer_ids.size)


@dataclass(frozen=True, slots=True)
class _Query:
    """SELECT columns (expressions) FROM source; one read type per column."""

    columns: tuple[str, ...]
    source: str
    types: tuple[ReadType, ...]
    # Reach the rows through an index per outer row (see the module docstring).
    nested_loop: bool = False

    @property
    def sql(self) -> str:
        """The plain SELECT, columns named c0, c1, …"""
        named = ", ".join(f"{column} AS c{i}" for i, column in enumerate(self.columns))
        return f"SELECT {named} {self.source}"


def _queries(postgres: bool) -> dict[str, _Query]:
    def day(column: str) -> str:
        return column if postgres else f"(julianday({column}) - {_UNIX_JULIAN_DAY})"

    def param(name: str) -> str:
        return f"%({name})s" if postgres else f":{name}"

    lo, hi, as_of = param("lo"), param("hi"), param("as_of")
    return {
        "customers": _Query(
            ("id", "COALESCE(acquisition_channel_id, -1)"),
            f"FROM customer WHERE id BETWEEN {lo} AND {hi}",
            ("int8", "int8"),
        ),
        "orders": _Query(
            (
                "customer_id",
                day("ordered_at"),
                "CASE WHEN kind = 'return' THEN -abs(total_minor) ELSE total_minor END",
            ),
            f"FROM orders WHERE customer_id BETWEEN {lo} AND {hi} AND status = 'completed' "
            f"AND ordered_at < {as_of}",
            ("int8", "timestamptz", "int8"),
        ),
        "lines": _Query(
            ("o.customer_id", "l.order_id", "l.product_id", day("o.ordered_at")),
            "FROM orders o JOIN order_line l ON l.order_id = o.id "
            f"WHERE o.customer_id BETWEEN {lo} AND {hi} AND o.status = 'completed' "
            f"AND o.kind = 'sale' AND o.ordered_at < {as_of} AND l.product_id IS NOT NULL",
            ("int8", "int8", "int8", "timestamptz"),
            nested_loop=True,
        ),
        # Signups and unsubscribes are not engagement (as in the stage rules), but any event
        # on a channel shows the channel reached the customer.
        "events": _Query(
            (
                "customer_id",
                day("occurred_at"),
                "COALESCE(channel_id, -1)",
                "CASE WHEN type IN ('signup', 'unsubscribe') THEN 0 ELSE 1 END",
            ),
            f"FROM event WHERE customer_id BETWEEN {lo} AND {hi} AND occurred_at < {as_of}",
            ("int8", "timestamptz", "int8", "int4"),
        ),
        "contacts": _Query(
            ("customer_id", day("at"), "channel_id"),
            f"FROM contact_log WHERE customer_id BETWEEN {lo} AND {hi} AND outcome = 'sent' "
            f"AND at < {as_of}",
            ("int8", "timestamptz", "int8"),
        ),
    }


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction in which every query of a shard sees the same data."""
    connection = engine.connect()
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    with connection, connection.begin():
        if postgres:
            # Plain scans of one shard: compiling them (JIT) costs more than it saves.
            connection.exec_driver_sql("SET LOCAL jit = off")
        yield connection


def load_shard(
    connection: Connection, *, lo: int, hi: int, as_of: datetime, catalog: Catalog
) -> ShardData:
    """Customers with ids in [lo, hi] and their orders, lines, events and touches before as_of."""
    postgres = connection.dialect.name == "postgresql"
    queries = _queries(postgres)
    params: dict[str, Any] = {"lo": lo, "hi": hi, "as_of": as_of}

    def fetch(name: str) -> list[NDArray[Any]]:
        query = queries[name]
        if postgres:
            return _copy_out(connection, query, params)
        return _select(connection, query, params)

    ids, acquisition_channel = fetch("customers")
    order = np.argsort(ids)
    ids, acquisition_channel = ids[order], acquisition_channel[order]
    n = int(ids.size)
    o_customer, o_t, o_amount = fetch("orders")
    l_customer, l_order, l_product, l_t = fetch("lines")
    e_customer, e_t, e_channel, e_engaged = fetch("events")
    c_customer, c_t, c_channel = fetch("contacts")

    tx_index = _dense(ids, o_customer)
    tx = make_transactions(tx_index, o_t, o_amount.astype(np.float64), n_customers=n)
    items = catalog.items(l_product)
    known = items >= 0  # products created after the run began are not in its item space
    lines = make_lines(
        _dense(ids, l_customer[known]),
        l_order[known],
        items[known],
        l_t[known],
        n_customers=n,
        n_items=catalog.n_items,
    )
    engaged = e_engaged.astype(bool)
    events = make_events(_dense(ids, e_customer[engaged]), e_t[engaged], n_customers=n)
    touch_channel = catalog.channels(np.r_[e_channel, c_channel])
    reached = touch_channel >= 0
    touches = make_touches(
        _dense(ids, np.r_[e_customer, c_customer][reached]),
        np.r_[e_t, c_t][reached],
        touch_channel[reached],
        n_customers=n,
        n_channels=catalog.n_channels,
    )
    return ShardData(
        customer_ids=ids,
        acquisition=catalog.channels(acquisition_channel),
        tx=tx,
        lines=lines,
        events=events,
        touches=touches,
    )


def pack_shard(data: ShardData) -> Arrays:
    """The shard's history as arrays, indices narrowed to 32 bits (a shard stays far below)."""
    narrow = np.int32
    return {
        "shard.customer_ids": data.customer_ids,
        "shard.acquisition": data.acquisition.astype(narrow),
        **pack(replace(data.tx, customer=data.tx.customer.astype(narrow)), "tx"),
        **pack(
            replace(
                data.lines,
                customer=data.lines.customer.astype(narrow),
                item=data.lines.item.astype(narrow),
            ),
            "lines",
        ),
        **pack(replace(data.events, customer=data.events.customer.astype(narrow)), "events"),
        **pack(
            replace(
                data.touches,
                customer=data.touches.customer.astype(narrow),
                channel=data.touches.channel.astype(narrow),
            ),
            "touches",
        ),
    }


def unpack_shard(arrays: Arrays) -> ShardData:
    """The shard's history back from `pack_shard`, indices as int64 again."""
    wide = np.int64
    tx = unpack(Transactions, arrays, "tx")
    lines = unpack(Lines, arrays, "lines")
    events = unpack(Events, arrays, "events")
    touches = unpack(Touches, arrays, "touches")
    return ShardData(
        customer_ids=arrays["shard.customer_ids"].astype(wide),
        acquisition=arrays["shard.acquisition"].astype(wide),
        tx=replace(tx, customer=tx.customer.astype(wide)),
        lines=replace(lines, customer=lines.customer.astype(wide), item=lines.item.astype(wide)),
        events=replace(events, customer=events.customer.astype(wide)),
        touches=replace(
            touches, customer=touches.customer.astype(wide), channel=touches.channel.astype(wide)
        ),
    )


def _dense(ids: IntArray, customer_id: IntArray) -> IntArray:
    """Position of each customer id among the shard's sorted ids."""
    index = np.searchsorted(ids, customer_id)
    if customer_id.size and not np.array_equal(ids[np.minimum(index, ids.size - 1)], customer_id):
        # Rows of a customer created in the id range after the customers were read.
        raise RuntimeError("shard rows reference customers missing from the shard")
    return index.astype(np.int64)


def _copy_out(connection: Connection, query: _Query, params: dict[str, Any]) -> list[NDArray[Any]]:
    driver = connection.connection.driver_connection
    assert driver is not None
    columns = ", ".join(f"array_agg(c{i})" for i in range(len(query.types)))
    statement = f"COPY (SELECT {columns} FROM ({query.sql}) shard) TO STDOUT (FORMAT BINARY)"
    with driver.cursor() as cursor:
        if query.nested_loop:
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
        with cursor.copy(statement, params) as copy:
            data = b"".join(bytes(chunk) for chunk in copy)
        if query.nested_loop:
            cursor.execute("SET LOCAL enable_hashjoin = on")
            cursor.execute("SET LOCAL enable_mergejoin = on")
    return read_arrays(data, query.types)


def _select(connection: Connection, query: _Query, params: dict[str, Any]) -> list[NDArray[Any]]:
    statement = text(query.sql)
    if ":as_of" in query.sql:
        # SQLite keeps timestamps as text: the bound moment must be written the same way.
        statement = statement.bindparams(bindparam("as_of", type_=UTCDateTime()))
    rows = connection.execute(statement, params).all()
    return [_column(values, kind, len(rows)) for values, kind in _transpose(rows, query.types)]


def _transpose(
    rows: Sequence[Any], types: tuple[ReadType, ...]
) -> list[tuple[Sequence[Any], ReadType]]:
    if not rows:
        return [((), kind) for kind in types]
    return list(zip(zip(*rows, strict=True), types, strict=True))


def _column(values: Sequence[Any], kind: ReadType, size: int) -> NDArray[Any]:
    dtype = np.float64 if kind in ("float8", "timestamptz") else np.int64
    return np.fromiter(values, dtype=dtype, count=size)
