"""PostgreSQL's binary COPY format, read into and written from numpy arrays.

Reading: a query's rows come aggregated into one row of fixed-width arrays, whose elements
numpy reads in place. Writing: records are assembled with `bytestrings.concat`, NULLs and
variable-length JSON included. Timestamps are microseconds and dates days since 2000-01-01;
both become days since 1970.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from worker.pipeline.bytestrings import ByteStrings, concat, constant, fixed_width

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
# 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01.
PG_EPOCH_DAYS = 10_957
MICROSECONDS_PER_DAY = 86_400_000_000.0

ReadType = Literal["int2", "int4", "int8", "float8", "bool", "timestamptz"]
_READ_DTYPES: dict[str, str] = {
    "int2": ">i2",
    "int4": ">i4",
    "int8": ">i8",
    "float8": ">f8",
    "bool": "|b1",
    "timestamptz": ">i8",
}


class CopyFormatError(ValueError):
    """COPY output that does not have the expected fixed layout."""


def read_arrays(data: bytes, types: Sequence[ReadType]) -> list[NDArray[Any]]:
    """Columns from the binary COPY output of one row of arrays (`SELECT array_agg(a), …`).

    Aggregating a shard's rows into arrays makes PostgreSQL send one message instead of one
    per row, which is most of the client's time otherwise. The arrays must hold no NULL; a
    NULL array (no rows) gives empty columns. Integers come back as int64, floats as float64,
    booleans as bool and timestamps as float64 days since 1970-01-01.
    """
    if not data.startswith(SIGNATURE):
        raise CopyFormatError("not PostgreSQL binary COPY output")
    at = 19 + int.from_bytes(data[15:19], "big")
    if data[at : at + 2] == TRAILER:
        return [_convert(np.empty(0, dtype=_READ_DTYPES[kind]), kind) for kind in types]
    count = int.from_bytes(data[at : at + 2], "big", signed=True)
    if count != len(types):
        raise CopyFormatError(f"expected {len(types)} fields, got {count}")
    at += 2
    columns: list[NDArray[Any]] = []
    for kind in types:
        length = int.from_bytes(data[at : at + 4], "big", signed=True)
        at += 4
        if length < 0:
            columns.append(_convert(np.empty(0, dtype=_READ_DTYPES[kind]), kind))
            continue
        columns.append(_array_values(memoryview(data)[at : at + length], kind))
        at += length
    return columns


def _array_values(body: memoryview, kind: ReadType) -> NDArray[Any]:
    """The elements of one binary array value (one dimension, no NULL elements)."""
    dims, has_null = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
    if dims == 0:
        return _convert(np.empty(0, dtype=_READ_DTYPES[kind]), kind)
    if dims != 1 or has_null:
        raise CopyFormatError("expected a one-dimensional array without NULL elements")
    size = int.from_bytes(body[12:16], "big")
    dtype = np.dtype([("length", ">i4"), ("value", _READ_DTYPES[kind])])
    elements = np.frombuffer(body[20:], dtype=dtype, count=size)
    return _convert(elements["value"], kind)


def _convert(values: NDArray[Any], kind: ReadType) -> NDArray[Any]:
    if kind == "timestamptz":
        return values / MICROSECONDS_PER_DAY + PG_EPOCH_DAYS
    if kind == "float8":
        return values.astype(np.float64)
    if kind == "bool":
        return values.astype(bool)
    return values.astype(np.int64)


WriteType = Literal["int4", "int8", "float8", "date", "text", "jsonb"]


@dataclass(frozen=True, slots=True)
class CopyColumn:
    """One column to write: numbers (int64/float64, date as days since 1970) or byte strings.

    `null` marks the rows written as NULL; NaN floats are NULL as well.
    """

    kind: WriteType
    values: NDArray[Any] | ByteStrings
    null: NDArray[np.bool_] | None = None


_WRITE_DTYPES = {"int4": ">i4", "int8": ">i8", "float8": ">f8", "date": ">i4"}


def encode_records(columns: Sequence[CopyColumn], rows: int) -> bytes:
    """Binary COPY records (no header or trailer) of `rows` rows."""
    every = np.arange(rows, dtype=np.int64)
    pieces: list[tuple[ByteStrings, NDArray[np.integer] | None]] = [
        (fixed_width(np.full(1, len(columns)), ">i2"), np.zeros(rows, dtype=np.int64))
    ]
    for column in columns:
        null = np.zeros(rows, dtype=bool) if column.null is None else column.null
        if isinstance(column.values, ByteStrings):
            data = column.values
            extra = 1 if column.kind == "jsonb" else 0
            size = np.where(null, -1, data.lengths + extra)
            pieces.append((fixed_width(size, ">i4"), None))
            if column.kind == "jsonb":
                # jsonb's binary form is a version byte (1) and the JSON text.
                pieces.append((constant(b"\x01"), np.where(null, -1, 0)))
            pieces.append((data, np.where(null, -1, every)))
            continue
        values = np.asarray(column.values)
        if column.kind == "float8":
            null = null | np.isnan(values)
            values = np.where(null, 0.0, values)
        elif column.kind == "date":
            values = values - PG_EPOCH_DAYS
        dtype = _WRITE_DTYPES[column.kind]
        width = np.dtype(dtype).itemsize
        pieces.append((fixed_width(np.where(null, -1, width), ">i4"), None))
        pieces.append((fixed_width(values, dtype), np.where(null, -1, every)))
    return concat(pieces, rows).data.tobytes()
