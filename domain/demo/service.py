"""Write a whole demo business into an empty database, block by block, in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import chain, groupby
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from domain.clock import utcnow
from domain.customers.models import Customer
from domain.db import unit_of_work
from domain.demo.archetypes import ARCHETYPES, CHANNELS
from domain.demo.block import Block, FirstIds, Setting, build_block
from domain.demo.catalog import build_catalogue
from domain.demo.errors import DatabaseNotEmptyError, DemoDataError
from domain.demo.pipeline import read_ahead
from domain.demo.rows import row_count
from domain.demo.sampling import IntArray
from domain.demo.shop import offer_rows, product_rows, staff_rows
from domain.demo.writer import (
    advance_sequences,
    defer_indexes,
    rebuild_indexes,
    render,
    skip_row_triggers,
    verify_references,
    write_batches,
    write_rows,
)
from domain.settings import get_settings
from domain.stages.config import LifecycleConfig, default_config
from domain.stages.decay import recompute_all
from domain.stages.vocabulary import Stage

BLOCK_SIZE = 25_000
READ_AHEAD = 4  # rendered batches waiting for the writer, about 5 MB each
# Tables whose rows mean the database is in use: demo data never mixes with them.
GUARDED_TABLES = ("customer", "product", "orders", "event", "offer")
TABLES = ("staff", "product", "offer", "customer", "consent", "orders", "order_line", "event")
BULK_TABLES = ("customer", "consent", "orders", "order_line", "event")

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class DemoSummary:
    """What was written: rows per table and customers per archetype."""

    customers: int
    seed: int
    as_of: date
    rows: dict[str, int]
    archetypes: dict[str, int]
    seconds: float = field(compare=False)


@dataclass(frozen=True)
class _Batch:
    """Rendered rows of one table from one block."""

    table: str
    columns: tuple[str, ...]
    count: int
    rows: Any


@dataclass(frozen=True)
class _BlockDone:
    """All rows of a block have been handed over."""

    customers: int
    archetypes: IntArray


def _refuse_unless_empty(connection: Connection) -> None:
    counts = {}
    for table in GUARDED_TABLES:
        if connection.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{table}")')).scalar_one():
            counts[table] = connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    if counts:
        raise DatabaseNotEmptyError(counts)


def _channel_ids(connection: Connection) -> IntArray:
    rows = connection.execute(text("SELECT code, id FROM channel")).all()
    found: dict[str, int] = dict(rows)
    missing = [str(code) for code in CHANNELS if str(code) not in found]
    if missing:
        raise DemoDataError(
            f"the channel table lacks {', '.join(missing)}: run the migrations first"
        )
    return np.array([found[str(code)] for code in CHANNELS], dtype=np.int64)


def _after(first: FirstIds, block: Block) -> FirstIds:
    """The first ids of the block that follows `block`."""
    counts = {table: row_count(rows) for table, rows in block.tables.items()}
    return FirstIds(
        customer=first.customer + counts["customer"],
        consent=first.consent + counts["consent"],
        orders=first.orders + counts["orders"],
        order_line=first.order_line + counts["order_line"],
        event=first.event + counts["event"],
    )


def _pieces(
    dialect: str, seed: int, customers: int, setting: Setting
) -> Iterator[_Batch | _BlockDone]:
    """Every block's rows rendered batch by batch, each block followed by its tally."""
    first = FirstIds(customer=1, consent=1, orders=1, order_line=1, event=1)
    for number, start in enumerate(range(0, customers, BLOCK_SIZE)):
        size = min(BLOCK_SIZE, customers - start)
        block = build_block(seed=seed, number=number, size=size, first=first, setting=setting)
        for table, rows in block.tables.items():
            for count, batch in render(dialect, rows):
                yield _Batch(table, tuple(rows), count, batch)
        yield _BlockDone(size, np.bincount(block.archetype, minlength=len(ARCHETYPES)))
        first = _after(first, block)


def _table_of(piece: _Batch | _BlockDone) -> str:
    return piece.table if isinstance(piece, _Batch) else ""


def _batches(group: Iterable[_Batch | _BlockDone]) -> Iterator[_Batch]:
    return (piece for piece in group if isinstance(piece, _Batch))


def _tallies(group: Iterable[_Batch | _BlockDone]) -> Iterator[_BlockDone]:
    return (piece for piece in group if isinstance(piece, _BlockDone))


def generate(
    *,
    engine: Engine,
    customers: int,
    seed: int,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Write a synthetic business of `customers` customers, identical for the same arguments.

    Everything happens in one transaction: the database ends up with all of it or none.
    Raises DatabaseNotEmptyError when customers, products, orders, events or offers exist.
    `progress(step, customers_written)` is called after each step.
    """
    if customers < 1:
        raise DemoDataError("the number of customers must be at least 1")
    started = time.perf_counter()
    as_of = as_of or utcnow().date()
    now = int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp())
    settings = get_settings()
    report = progress or (lambda _step, _done: None)
    written = dict.fromkeys(TABLES, 0)
    archetypes = np.zeros(len(ARCHETYPES), dtype=np.int64)
    done = 0
    with engine.begin() as connection:
        _refuse_unless_empty(connection)
        channel_ids = _channel_ids(connection)
        checks_skipped = skip_row_triggers(connection, list(TABLES))
        rebuild = defer_indexes(connection, list(BULK_TABLES))
        last_staff = connection.execute(text("SELECT coalesce(max(id), 0) FROM staff"))
        staff, staff_language = staff_rows(
            first_id=last_staff.scalar_one() + 1, customers=customers, now=now
        )
        catalogue = build_catalogue()
        written["staff"] = write_rows(connection, "staff", staff)
        written["product"] = write_rows(connection, "product", product_rows(catalogue))
        written["offer"] = write_rows(connection, "offer", offer_rows(now=now))
        report("staff, catalogue and offers", done)
        setting = Setting(
            now=now,
            as_of=as_of,
            catalogue=catalogue,
            channel_ids=channel_ids,
            staff_ids=staff["id"].values[: len(staff_language)],
            staff_language=staff_language,
            currency=settings.currency,
            currency_exponent=settings.currency_exponent,
        )
        # A worker thread builds and renders blocks while earlier batches are written.
        pieces = _pieces(connection.dialect.name, seed, customers, setting)
        with read_ahead(pieces, depth=READ_AHEAD) as ready:
            for table, group in groupby(ready, key=_table_of):
                if table:
                    batches = _batches(group)
                    head = next(batches)
                    written[table] += write_batches(
                        connection,
                        table,
                        head.columns,
                        ((piece.count, piece.rows) for piece in chain([head], batches)),
                    )
                    continue
                for tally in _tallies(group):
                    archetypes += tally.archetypes
                    done += tally.customers
                    report("customers", done)
        rebuild_indexes(connection, rebuild)
        report("indexes rebuilt", done)
        if checks_skipped:
            verify_references(connection, list(TABLES))
            report("references verified", done)
        advance_sequences(connection, list(TABLES))
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text(f"ANALYZE {', '.join(TABLES)}"))
    return DemoSummary(
        customers=customers,
        seed=seed,
        as_of=as_of,
        rows=written,
        archetypes={str(a): int(count) for a, count in zip(ARCHETYPES, archetypes, strict=True)},
        seconds=time.perf_counter() - started,
    )


def classify(
    *, engine: Engine, as_of: date, config: LifecycleConfig | None = None
) -> dict[Stage, int]:
    """Put every customer in the stage their history earns at its end (midnight UTC of
    `as_of`), in one set-wise pass; customers per stage."""
    moment = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    with unit_of_work(engine) as session:
        recompute_all(session=session, as_of=moment, config=config or default_config())
        counted = session.execute(
            select(col(Customer.stage), func.count()).group_by(col(Customer.stage))
        )
        return {Stage(stage): count for stage, count in counted}
