"""Running an import: stream the file, commit one batch per transaction, refresh facts.

This is a long-running edge of its own: each batch is one unit of work (committed whole or
rolled back whole), so an interrupted import keeps its earlier batches and a rerun, being
idempotent, resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Generic

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from domain.clock import utcnow
from domain.customers.facts import refresh_facts
from domain.db import is_postgres, unit_of_work
from domain.imports.cdnow import Cdnow
from domain.imports.customers_csv import CustomersCsv
from domain.imports.errors import (
    BadOption,
    BatchFailed,
    ImportFailed,
    LayoutMismatch,
    SourceNotFound,
)
from domain.imports.events_csv import EventsCsv
from domain.imports.layout import ImportContext, ItemT, Layout
from domain.imports.online_retail import OnlineRetail
from domain.imports.orders_csv import OrdersCsv
from domain.imports.source import (
    Record,
    RejectsFile,
    Source,
    check_encoding,
    default_rejects_path,
    detect_encoding,
)
from domain.imports.store import CHANNEL
from domain.imports.summary import ImportSummary, Reject
from domain.imports.values import currency_exponent, zone
from domain.settings import get_settings
from domain.stages.config import default_config
from domain.stages.decay import recompute_all

ProgressCallback = Callable[[int], None]
# Past this many touched customers one grouped refresh of everybody beats per-customer
# look-ups, and the set of touched ids stops growing.
REFRESH_ALL_ABOVE = 100_000


class ImportKind(StrEnum):
    """The file layouts `lifecycle import` understands."""

    CUSTOMERS = "customers"
    ORDERS = "orders"
    EVENTS = "events"
    ONLINE_RETAIL = "online-retail"
    CDNOW = "cdnow"


@dataclass(slots=True)
class Batch(Generic[ItemT]):
    """Items loaded in one transaction, with the rejects read among them."""

    items: list[ItemT] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rows: int = 0
    first_line: int = 0
    last_line: int = 0

    def add(self, unit: ItemT | Reject) -> None:
        """Take an item or a reject into the batch."""
        if isinstance(unit, Reject):
            self.rejects.append(unit)
            self.rows += 1
            first, last = unit.line_no, unit.line_no
        else:
            self.items.append(unit)
            self.rows += unit.rows
            first, last = unit.first_line, unit.last_line
        self.first_line = min(self.first_line or first, first)
        self.last_line = max(self.last_line, last)


def batches(units: Iterable[ItemT | Reject], size: int) -> Iterator[Batch[ItemT]]:
    """Batches of at least `size` rows (the last may be smaller); items are never split."""
    batch: Batch[ItemT] = Batch()
    for unit in units:
        batch.add(unit)
        if batch.rows >= size:
            yield batch
            batch = Batch()
    if batch.rows:
        yield batch


def run_import(
    kind: ImportKind,
    path: Path,
    *,
    engine: Engine,
    currency: str | None = None,
    encoding: str | None = None,
    time_zone: str | None = None,
    rejects_path: Path | None = None,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import a file of the given kind; ImportFailed (or a subclass) when it cannot run.

    `encoding` None detects UTF-8 or Latin-1; `time_zone` (default: settings) applies to
    timestamps without one; `progress` receives the bytes read after each batch.
    """
    started = time.perf_counter()
    settings = get_settings()
    code = (currency or settings.currency).strip().upper()
    local_zone = _zone(time_zone or settings.default_timezone)
    size = batch_size or settings.import_batch_size
    if size < 1:
        raise BadOption("the batch size must be at least 1")
    try:
        currency_exponent(code, settings)
    except ValueError as exc:
        raise BadOption(str(exc)) from None
    if not path.is_file():
        raise SourceNotFound(str(path))
    chosen = check_encoding(encoding) if encoding else detect_encoding(path)
    context = ImportContext(
        source_name=path.name,
        settings=settings,
        currency=code,
        zone=local_zone,
        channels=_channels(engine),
    )
    rejects_file = rejects_path or default_rejects_path(path)
    with Source(path, chosen) as source:
        summary = ImportSummary(
            kind=str(kind), file=path, encoding=chosen, rejects_file=rejects_file
        )
        run = _Run(engine, source, summary, size, progress, started)
        if kind is ImportKind.CDNOW:
            run.load(Cdnow(context), source.whitespace_records())
        else:
            records = source.csv_records()
            header = _header(kind, records)
            if kind is ImportKind.ONLINE_RETAIL:
                run.load(OnlineRetail(context, header), records)
            elif kind is ImportKind.ORDERS:
                run.load(OrdersCsv(context, header), records)
            elif kind is ImportKind.CUSTOMERS:
                run.load(CustomersCsv(context, header), records)
            else:
                run.load(EventsCsv(context, header), records)
    summary.seconds = time.perf_counter() - started
    return summary


class _Run:
    """The batch loop of one import."""

    def __init__(
        self,
        engine: Engine,
        source: Source,
        summary: ImportSummary,
        size: int,
        progress: ProgressCallback | None,
        started: float,
    ) -> None:
        self.engine = engine
        self.started = started
        self.source = source
        self.summary = summary
        self.size = size
        self.progress = progress
        # None once too many customers were touched: then everybody is refreshed.
        self.touched: set[int] | None = set()

    def load(self, layout: Layout[ItemT], records: Iterator[Record | Reject]) -> None:
        """Parse, load and commit batch after batch, then refresh the touched customers."""
        self.summary.ignored_columns = layout.ignored_columns
        with RejectsFile(self.summary.rejects_file) as rejects:
            for batch in batches(layout.parse(records), self.size):
                try:
                    with unit_of_work(self.engine) as session:
                        outcome = layout.load(session, batch.items)
                except SQLAlchemyError as exc:
                    self._refresh_after_failure()
                    self.summary.seconds = time.perf_counter() - self.started
                    raise BatchFailed(batch.first_line, batch.last_line, exc, self.summary) from exc
                outcome.rows = batch.rows
                outcome.rejects.extend(batch.rejects)
                rejects.write(outcome.rejects)
                self.summary.add(outcome)
                self._touch(outcome.customer_ids)
                if self.progress is not None:
                    self.progress(self.source.bytes_read())
        self.summary.facts_changed = self._refresh()
        self.summary.stage_changes = self._reclassify()

    def _touch(self, customer_ids: set[int]) -> None:
        if self.touched is not None:
            self.touched |= customer_ids
            if len(self.touched) > REFRESH_ALL_ABOVE:
                self.touched = None

    def _refresh(self) -> int:
        if self.touched is not None and not self.touched:
            return 0
        ids = sorted(self.touched) if self.touched is not None else None
        with unit_of_work(self.engine) as session:
            return refresh_facts(session=session, customer_ids=ids)

    def _reclassify(self) -> int:
        """Fresh statistics for the planner, then every customer's stage from their facts."""
        with unit_of_work(self.engine) as session:
            if is_postgres(session):
                # Bulk loads leave stale statistics; later set-wise passes then pick nested
                # loops over millions of rows (seen: 279 s instead of 0.09 s).
                session.execute(text("ANALYZE customer, orders, order_line, event, product"))
            return recompute_all(session=session, as_of=utcnow(), config=default_config()).changed

    def _refresh_after_failure(self) -> None:
        # Committed batches stay, so their customers' facts must match them; a database
        # that fails here too is reported through the batch failure already being raised.
        try:
            self.summary.facts_changed = self._refresh()
        except SQLAlchemyError:
            self.summary.facts_changed = 0


def _header(kind: ImportKind, records: Iterator[Record | Reject]) -> Record:
    first = next(records, None)
    if first is None:
        raise LayoutMismatch(str(kind), problem="the file is empty (a header row is required)")
    if isinstance(first, Reject):
        raise LayoutMismatch(str(kind), problem=f"the header cannot be read: {first.detail}")
    return first


def _zone(name: str) -> tzinfo:
    try:
        return zone(name)
    except ValueError as exc:
        raise BadOption(str(exc)) from None


def _channels(engine: Engine) -> dict[str, int]:
    try:
        with unit_of_work(engine) as session:
            rows = session.execute(select(CHANNEL.c.code, CHANNEL.c.id)).all()
    except SQLAlchemyError as exc:
        raise ImportFailed(
            f"the database is not ready (run the migrations first): {type(exc).__name__}"
        ) from exc
    return {code.lower(): channel_id for code, channel_id in rows}
