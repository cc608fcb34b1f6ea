"""Many byte strings in one buffer, assembled with numpy instead of a loop over rows.

A score row's JSON and its PostgreSQL binary COPY record are concatenations of a few pieces:
a text looked up in a small table (a reason, a product's JSON prefix) or a per-row value (a
big-endian number). `concat` lays every row's pieces end to end with one gather over the
bytes, so a million rows cost a few numpy passes rather than a million Python string joins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ByteStrings:
    """String i is data[offsets[i]:offsets[i + 1]]."""

    data: NDArray[np.uint8]
    offsets: IntArray

    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def lengths(self) -> IntArray:
        """Length in bytes of every string."""
        return np.diff(self.offsets)

    def to_bytes(self, i: int) -> bytes:
        """One string."""
        return self.data[self.offsets[i] : self.offsets[i + 1]].tobytes()


def from_texts(texts: Sequence[str]) -> ByteStrings:
    """A table of texts, UTF-8 encoded."""
    encoded = [text.encode() for text in texts]
    lengths = np.fromiter((len(item) for item in encoded), dtype=np.int64, count=len(encoded))
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return ByteStrings(data, np.r_[0, np.cumsum(lengths)].astype(np.int64))


def fixed_width(values: NDArray[np.generic], dtype: str) -> ByteStrings:
    """Each value's bytes in the given dtype (e.g. '>i8' for PostgreSQL's big-endian int8)."""
    raw = np.ascontiguousarray(values.astype(dtype))
    width = raw.dtype.itemsize
    return ByteStrings(
        raw.view(np.uint8).reshape(-1), np.arange(values.size + 1, dtype=np.int64) * width
    )


Piece = tuple[ByteStrings, NDArray[np.integer] | None]


def concat(pieces: Sequence[Piece], rows: int) -> ByteStrings:
    """Row i is the concatenation over pieces of table[index[i]].

    A piece is (table, index): index None takes row i of the table itself; an index of -1
    contributes nothing to that row.
    """
    lengths = np.empty((rows, len(pieces)), dtype=np.int64)
    sources = np.empty((rows, len(pieces)), dtype=np.int64)
    buffers = []
    base = 0
    for j, (table, index) in enumerate(pieces):
        if index is None:
            if len(table) != rows:
                raise ValueError(f"piece {j} has {len(table)} strings for {rows} rows")
            lengths[:, j] = table.lengths
            sources[:, j] = table.offsets[:-1] + base
        else:
            present = index >= 0
            safe = np.where(present, index, 0)
            lengths[:, j] = np.where(present, table.lengths[safe] if len(table) else 0, 0)
            sources[:, j] = (table.offsets[safe] if len(table) else 0) + base
        buffers.append(table.data)
        base += table.data.size
    flat_lengths = lengths.reshape(-1)
    total = int(flat_lengths.sum())
    # Pieces land contiguously in (row, piece) order: each byte's source is its piece's source
    # start plus its distance from that piece's start in the output.
    starts = np.cumsum(flat_lengths) - flat_lengths
    gather = np.repeat(sources.reshape(-1) - starts, flat_lengths) + np.arange(total)
    data = np.concatenate(buffers)[gather] if total else np.empty(0, dtype=np.uint8)
    offsets = np.r_[0, np.cumsum(lengths.sum(axis=1))].astype(np.int64)
    return ByteStrings(data, offsets)


def constant(text: bytes) -> ByteStrings:
    """A one-string table, to be used with an index of zeros (or -1 to leave it out)."""
    return ByteStrings(np.frombuffer(text, dtype=np.uint8), np.array([0, len(text)]))


def to_texts(strings: ByteStrings) -> list[str]:
    """Every string decoded as UTF-8 (one decode and one split, both in C)."""
    if len(strings) == 0:
        return []
    separated = concat(
        [(strings, None), (constant(b"\x00"), np.zeros(len(strings), np.int64))], len(strings)
    )
    return separated.data.tobytes().decode()[:-1].split("\x00")
