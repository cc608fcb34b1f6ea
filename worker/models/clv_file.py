"""Streaming CSV readers for the customer-value models: RFM summaries and transaction logs.

Rows are read one at a time with the csv module into compact typed buffers, so memory stays
proportional to the numbers kept, and a malformed row is reported with its line and column.
"""

from __future__ import annotations

import csv
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

SUMMARY_COLUMNS = ("frequency", "recency", "T")
MONETARY_COLUMN = "monetary_value"
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()


class CsvFormatError(ValueError):
    """A CSV file that cannot be read, with the line and column at fault."""

    def __init__(self, path: Path, line: int, column: str | None, problem: str) -> None:
        where = f"{path}, line {line}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class SummaryTable:
    """Columns of an RFM summary file."""

    frequency: NDArray[np.float64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]
    monetary_value: NDArray[np.float64] | None


@dataclass(frozen=True, slots=True)
class TransactionTable:
    """Columns of a transaction log: customers numbered from 0 in order of appearance."""

    customer: NDArray[np.int64]
    day: NDArray[np.int64]
    amount: NDArray[np.float64] | None
    customer_ids: list[str]


def read_summary_csv(path: Path) -> SummaryTable:
    """Read frequency, recency, T and, when present, monetary_value; other columns are ignored."""
    rows = _rows(path)
    header = _header(path, rows)
    has_money = MONETARY_COLUMN in header
    wanted = SUMMARY_COLUMNS + ((MONETARY_COLUMN,) if has_money else ())
    index = _column_index(path, header, wanted)
    columns = [array("d") for _ in wanted]
    for line, row in rows:
        values = [_number(path, line, row, name, index[name]) for name in wanted]
        frequency, recency, age = values[:3]
        if frequency < 0 or not frequency.is_integer():
            raise CsvFormatError(path, line, "frequency", "must be a whole number >= 0")
        if recency < 0 or recency > age:
            raise CsvFormatError(path, line, "recency", "must lie between 0 and T")
        if frequency == 0 and recency != 0:
            raise CsvFormatError(path, line, "recency", "must be 0 when frequency is 0")
        if has_money and frequency > 0 and values[3] <= 0:
            raise CsvFormatError(path, line, MONETARY_COLUMN, "must be > 0 when frequency is > 0")
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    arrays = [np.frombuffer(column, dtype=np.float64) for column in columns]
    return SummaryTable(
        frequency=arrays[0],
        recency=arrays[1],
        T=arrays[2],
        monetary_value=arrays[3] if has_money else None,
    )


def read_transactions_csv(
    path: Path, customer_col: str, date_col: str, amount_col: str | None = None
) -> TransactionTable:
    """Read a transaction log: customer id, ISO date or date-time, optional amount."""
    rows = _rows(path)
    header = _header(path, rows)
    wanted = (customer_col, date_col) + ((amount_col,) if amount_col else ())
    index = _column_index(path, header, wanted)
    customer_code: dict[str, int] = {}
    day_of: dict[str, int] = {}
    customers, days, amounts = array("q"), array("q"), array("d")
    customer_at, date_at = index[customer_col], index[date_col]
    for line, row in rows:
        customer = _field(path, line, row, customer_col, customer_at)
        customers.append(customer_code.setdefault(customer, len(customer_code)))
        text = _field(path, line, row, date_col, date_at)
        day = day_of.get(text)
        if day is None:
            day = day_of[text] = _parse_day(path, line, date_col, text)
        days.append(day)
        if amount_col:
            amounts.append(_number(path, line, row, amount_col, index[amount_col]))
    return TransactionTable(
        customer=np.frombuffer(customers, dtype=np.int64),
        day=np.frombuffer(days, dtype=np.int64),
        amount=np.frombuffer(amounts, dtype=np.float64) if amount_col else None,
        customer_ids=list(customer_code),
    )


def parse_day(text: str) -> int:
    """Days since 1970-01-01 of an ISO date or date-time (its calendar date as written)."""
    return datetime.fromisoformat(text.strip()).toordinal() - _EPOCH_ORDINAL


def _parse_day(path: Path, line: int, column: str, text: str) -> int:
    try:
        return parse_day(text)
    except ValueError:
        raise CsvFormatError(
            path, line, column, f"{text!r} is not an ISO date (YYYY-MM-DD)"
        ) from None


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with the line number they end on."""
    with path.open("rb") as handle:
        reader = csv.reader(_text_lines(path, handle))
        try:
            for row in reader:
                if row:
                    yield reader.line_num, row
        except csv.Error as exc:
            raise CsvFormatError(path, max(reader.line_num, 1), None, str(exc)) from None


def _text_lines(path: Path, handle: BinaryIO) -> Iterator[str]:
    """Lines decoded one by one, so that a bad byte is reported on its own line."""
    for number, raw in enumerate(handle, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise CsvFormatError(path, number, None, "not UTF-8 text") from None


def _header(path: Path, rows: Iterator[tuple[int, list[str]]]) -> list[str]:
    first = next(rows, None)
    if first is None:
        raise CsvFormatError(path, 1, None, "the file is empty, a header row is needed")
    return [name.strip() for name in first[1]]


def _column_index(path: Path, header: list[str], wanted: tuple[str, ...]) -> dict[str, int]:
    missing = [name for name in wanted if name not in header]
    if missing:
        raise CsvFormatError(path, 1, missing[0], "column missing from the header")
    return {name: header.index(name) for name in wanted}


def _field(path: Path, line: int, row: list[str], column: str, at: int) -> str:
    if at >= len(row) or not row[at].strip():
        raise CsvFormatError(path, line, column, "value missing")
    return row[at]


def _number(path: Path, line: int, row: list[str], column: str, at: int) -> float:
    text = _field(path, line, row, column, at)
    try:
        value = float(text)
    except ValueError:
        raise CsvFormatError(path, line, column, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise CsvFormatError(path, line, column, f"{text!r} is not a finite number")
    return value
