"""Score rows of one shard as columns: numbers, segment names and the two JSON columns.

Reasons are rendered once per distinct (template, value) and cross-sell entries from a table
per product and per lead time, then every row's JSON is assembled by `bytestrings.concat`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from worker.models.crosssell import CrossSell
from worker.models.propensity import Reasons, reason_item
from worker.models.rfm import SEGMENT_NAMES
from worker.pipeline.bytestrings import (
    ByteStrings,
    Piece,
    concat,
    constant,
    from_texts,
    to_texts,
)
from worker.pipeline.pgcopy import CopyColumn, WriteType
from worker.pipeline.predict import ShardScores

IntArray = NDArray[np.int64]

SCORE_COLUMNS = (
    "run_id",
    "customer_id",
    "model_version",
    "recency_days",
    "frequency",
    "monetary_minor",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "rfm_segment",
    "p_alive",
    "expected_purchases_90d",
    "predicted_clv_minor",
    "churn_risk",
    "reactivation_propensity",
    "next_order_date",
    "reasons",
    "cross_sell",
)


@dataclass(frozen=True, slots=True)
class ScoreRows:
    """Columns of the Score rows of one shard, in SCORE_COLUMNS order."""

    columns: tuple[CopyColumn, ...]
    rows: int

    def slice(self, start: int, stop: int) -> ScoreRows:
        """Rows [start, stop)."""
        return ScoreRows(
            tuple(_slice(column, start, stop) for column in self.columns), stop - start
        )


def score_rows(
    scores: ShardScores,
    *,
    run_id: int,
    customer_ids: IntArray,
    model_version: str,
    product_ids: IntArray,
) -> ScoreRows:
    """The shard's Score rows."""
    n = customer_ids.size
    none = np.zeros(n, dtype=bool)
    every = np.zeros(n, dtype=np.int64)
    no_orders = np.isnan(scores.recency_days)

    def whole(values: NDArray[np.float64]) -> CopyColumn:
        nan = np.isnan(values)
        return CopyColumn("int8", np.where(nan, 0, np.rint(values)).astype(np.int64), nan)

    def days(values: NDArray[np.float64], kind: WriteType) -> CopyColumn:
        nan = np.isnan(values)
        floored = np.where(nan, 0, np.floor(values)).astype(np.int64)
        return CopyColumn(kind, floored, nan)

    def score(values: NDArray[np.int8]) -> CopyColumn:
        return CopyColumn("int4", values.astype(np.int64), values == 0)

    segment_names = from_texts(list(SEGMENT_NAMES))
    columns = (
        CopyColumn("int8", np.full(n, run_id, dtype=np.int64), none),
        CopyColumn("int8", customer_ids.astype(np.int64), none),
        CopyColumn("text", concat([(from_texts([model_version]), every)], n)),
        days(scores.recency_days, "int4"),
        CopyColumn("int4", np.where(no_orders, 0, scores.frequency).astype(np.int64), no_orders),
        whole(scores.monetary),
        score(scores.rfm_r),
        score(scores.rfm_f),
        score(scores.rfm_m),
        CopyColumn(
            "text",
            concat([(segment_names, scores.segment.astype(np.int64))], n),
            scores.segment < 0,
        ),
        CopyColumn("float8", scores.p_alive),
        CopyColumn("float8", scores.expected_purchases),
        whole(scores.clv),
        CopyColumn("float8", scores.churn_risk),
        CopyColumn("float8", scores.reactivation),
        days(scores.next_order_day, "date"),
        CopyColumn("jsonb", reasons_json(scores.reasons)),
        CopyColumn("jsonb", cross_sell_json(scores.cross_sell, product_ids)),
    )
    return ScoreRows(columns, n)


def reasons_json(reasons: Reasons) -> ByteStrings:
    """Each customer's reasons as a JSON list of stored reasons, most important first.

    What was found, not words (see domain.scoring.reasons): a reader sees them in their
    language. Each distinct (reason, value) is encoded once.
    """
    n, k = reasons.template.shape
    codes = np.full((n, k), -1, dtype=np.int64)
    texts: list[str] = []
    template = reasons.template.astype(np.int64)
    bits = np.where(template >= 0, reasons.value, 0.0).view(np.int64)
    for t in np.unique(template[template >= 0]).tolist():
        mine = template == t
        distinct, inverse = np.unique(bits[mine], return_inverse=True)
        values = distinct.view(np.float64).tolist()
        codes[mine] = len(texts) + inverse.reshape(-1)
        texts += [json.dumps(reason_item(t, value), separators=(",", ":")) for value in values]
    return json_lists(from_texts(texts), codes)


def cross_sell_json(cross_sell: CrossSell, product_ids: IntArray) -> ByteStrings:
    """Each customer's suggestions: [{"product_id": 12, "due_in_days": 120 or null}, ...]."""
    item = cross_sell.item
    n, k = item.shape
    heads = from_texts([f'{{"product_id":{pid},"due_in_days":' for pid in product_ids.tolist()])
    due = np.where(np.isnan(cross_sell.due_in_days), -1, np.rint(cross_sell.due_in_days))
    due = due.astype(np.int64)
    distinct, inverse = np.unique(due, return_inverse=True)
    tails = from_texts(["null}" if d < 0 else f"{d}}}" for d in distinct.tolist()])
    flat = item.reshape(-1)
    entries = concat([(heads, flat), (tails, np.where(flat >= 0, inverse.reshape(-1), -1))], n * k)
    codes = np.where(item >= 0, np.arange(n * k).reshape(n, k), -1)
    return json_lists(entries, codes)


def json_lists(table: ByteStrings, codes: NDArray[np.int64]) -> ByteStrings:
    """Rows '[e, e, …]' of the table entries coded per row (−1: no entry in that slot)."""
    n, k = codes.shape
    present = codes >= 0
    # A comma goes before an entry that follows another entry of the same row.
    follows = np.cumsum(present, axis=1) > 1
    comma = np.where(present & follows, 0, -1)
    pieces: list[Piece] = [(constant(b"["), np.zeros(n, dtype=np.int64))]
    for slot in range(k):
        pieces += [(constant(b","), comma[:, slot]), (table, codes[:, slot])]
    pieces.append((constant(b"]"), np.zeros(n, dtype=np.int64)))
    return concat(pieces, n)


def sqlite_rows(rows: ScoreRows) -> list[tuple[Any, ...]]:
    """Parameter tuples for an executemany on SQLite (dates as ISO text, JSON as text)."""
    values: list[Sequence[Any]] = []
    for column in rows.columns:
        values.append(_python_values(column, rows.rows))
    return list(zip(*values, strict=True))


def _python_values(column: CopyColumn, rows: int) -> list[Any]:
    null = np.zeros(rows, dtype=bool) if column.null is None else column.null
    if isinstance(column.values, ByteStrings):
        out: NDArray[Any] = np.array(to_texts(column.values), dtype=object)
    elif column.kind == "date":
        out = column.values.astype("datetime64[D]").astype(str).astype(object)
    elif column.kind == "float8":
        null = null | np.isnan(column.values)
        out = column.values.astype(object)
    else:
        out = column.values.astype(object)
    out[null] = None
    return list(out.tolist())


def _slice(column: CopyColumn, start: int, stop: int) -> CopyColumn:
    values = column.values
    if isinstance(values, ByteStrings):
        offsets = values.offsets[start : stop + 1]
        data = values.data[offsets[0] : offsets[-1]]
        values = ByteStrings(data, offsets - offsets[0])
    else:
        values = values[start:stop]
    null = None if column.null is None else column.null[start:stop]
    return CopyColumn(column.kind, values, null)
