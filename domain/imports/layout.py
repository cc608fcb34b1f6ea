"""What every import layout provides, and the context it parses in."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Protocol, TypeVar

from sqlmodel import Session

from domain.imports.source import Record
from domain.imports.summary import BatchOutcome, Reject, SkipReason
from domain.imports.values import RowError, currency_exponent
from domain.settings import Settings


class Item(Protocol):
    """A unit the importer never splits across batches: a customer, an event, a whole order."""

    @property
    def rows(self) -> int: ...

    @property
    def first_line(self) -> int: ...

    @property
    def last_line(self) -> int: ...


ItemT = TypeVar("ItemT", bound=Item)
RowT = TypeVar("RowT")


class Layout(Protocol[ItemT]):
    """Parses records into items (or rejects) and loads a batch of items."""

    ignored_columns: list[str]

    def parse(self, records: Iterator[Record | Reject]) -> Iterator[ItemT | Reject]: ...

    def load(self, session: Session, items: list[ItemT]) -> BatchOutcome: ...


@dataclass(slots=True)
class ImportContext:
    """Options and reference data every layout parses with."""

    source_name: str
    settings: Settings
    currency: str
    zone: tzinfo
    channels: Mapping[str, int]
    _exponents: dict[str, int] = field(default_factory=dict)

    def exponent(self, currency: str) -> int:
        """Decimal places of the currency's minor unit; RowError for an unknown code."""
        if currency not in self._exponents:
            try:
                self._exponents[currency] = currency_exponent(currency, self.settings)
            except ValueError as exc:
                raise RowError(SkipReason.BAD_VALUE, str(exc)) from None
        return self._exponents[currency]

    def channel_id(self, code: str, column: str) -> int:
        """Id of the channel with that code; RowError when there is none."""
        found = self.channels.get(code.lower())
        if found is None:
            raise RowError(SkipReason.UNKNOWN_CHANNEL, f"{column} {code!r} is not a channel code")
        return found


def reject(record: Record, error: RowError) -> Reject:
    """The reject of a record for a bad field."""
    return Reject(record.line_no, error.reason, error.detail, record.raw)


def wrong_width(record: Record, width: int) -> Reject:
    """The reject of a record whose field count differs from the header's."""
    return Reject(
        record.line_no,
        SkipReason.WRONG_COLUMN_COUNT,
        f"expected {width} fields, found {len(record.fields)}",
        record.raw,
    )


def parse_rows(
    records: Iterator[Record | Reject], width: int, convert: Callable[[Record], RowT]
) -> Iterator[RowT | Reject]:
    """One item per good record, for layouts whose items are single rows; rejects for the rest."""
    for record in records:
        if isinstance(record, Reject):
            yield record
        elif len(record.fields) != width:
            yield wrong_width(record, width)
        else:
            try:
                yield convert(record)
            except RowError as error:
                yield reject(record, error)
