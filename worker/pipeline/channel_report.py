"""Channel quality over the whole population and revenue attribution, for the finish phase.

Channel means (CLV, churn risk of the customers a channel brought) do not add up over
shards, so each shard passes on just what channel quality reads — whether, when first and
whether again each customer bought (their first two sales carry all of it), the first touch
of each (customer, channel), the customer's acquisition channel, CLV and churn risk — and
the finish computes quality once over everyone. Attribution splits each sale over the same
customer's touches, so per-shard sums simply add up.

Report shape (stored in ScoringRun.metrics["channels"]): see `channel_report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from worker.models.channels import (
    LOOKBACK_DAYS,
    ChannelQuality,
    acquisition_quality,
    attribute_revenue,
    touch_quality,
)
from worker.models.features import group_starts, make_touches, make_transactions
from worker.pipeline.catalog import Catalog
from worker.pipeline.extract import ShardData
from worker.pipeline.figures import plain

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ChannelInputs:
    """One shard's share of the channel report; customer indices local to the shard."""

    customers: int
    acquisition: IntArray
    clv: FloatArray
    churn_risk: FloatArray
    sale_customer: IntArray
    sale_t: FloatArray
    sale_amount: FloatArray
    touch_customer: IntArray
    touch_channel: IntArray
    touch_t: FloatArray
    revenue: float
    first_touch: FloatArray
    last_touch: FloatArray
    linear: FloatArray


def channel_inputs(data: ShardData, *, clv: FloatArray, churn_risk: FloatArray) -> ChannelInputs:
    """What the shard passes on to the channel report."""
    tx, touches = data.tx, data.touches
    sale = tx.amount > 0
    cust, t, amount = tx.customer[sale], tx.t[sale], tx.amount[sale]
    # Sales are in time order per customer: keep the first two of each.
    starts = group_starts(cust)
    rank = np.arange(cust.size) - np.repeat(starts, np.diff(np.r_[starts, cust.size]))
    early = rank < 2
    key = touches.customer * max(touches.n_channels, 1) + touches.channel
    order = np.argsort(key, kind="stable")
    first = order[group_starts(key[order])]
    first = first[np.lexsort((touches.t[first], touches.customer[first]))]
    attribution = attribute_revenue(tx, touches)
    return ChannelInputs(
        customers=data.n_customers,
        acquisition=data.acquisition,
        clv=clv,
        churn_risk=churn_risk,
        sale_customer=cust[early],
        sale_t=t[early],
        sale_amount=amount[early],
        touch_customer=touches.customer[first],
        touch_channel=touches.channel[first],
        touch_t=touches.t[first],
        revenue=attribution.revenue,
        first_touch=attribution.first_touch,
        last_touch=attribution.last_touch,
        linear=attribution.linear,
    )


def channel_report(parts: Sequence[ChannelInputs], catalog: Catalog) -> dict[str, Any]:
    """Acquisition and touch quality per channel, and revenue attribution (JSON-ready).

    {"acquisition": [row per channel..., row for customers of unknown channel],
     "touch": [row per channel...],
     "attribution": {"lookback_days", "revenue_minor",
                     "channels": [row per channel..., row for sales without a touch]}}
    A quality row: channel_id, code (both null in the extra row), customers, prospects,
    buyers, repeat_buyers, conversion_rate, repeat_rate, mean_predicted_clv_minor,
    mean_churn_risk (rates and means null where nobody counts). An attribution row:
    channel_id, code, first_touch_minor, last_touch_minor, linear_minor (rounded).
    """
    offsets = np.cumsum([0] + [part.customers for part in parts])
    n = int(offsets[-1])
    n_channels = catalog.n_channels

    def stack(name: str, shift: bool = False) -> NDArray[Any]:
        arrays = [
            getattr(part, name) + (offset if shift else 0)
            for part, offset in zip(parts, offsets[:-1], strict=True)
        ]
        return np.concatenate(arrays) if arrays else np.empty(0)

    tx = make_transactions(
        stack("sale_customer", True), stack("sale_t"), stack("sale_amount"), n_customers=n
    )
    touches = make_touches(
        stack("touch_customer", True),
        stack("touch_t"),
        stack("touch_channel"),
        n_customers=n,
        n_channels=n_channels,
    )
    clv, churn = stack("clv").astype(np.float64), stack("churn_risk").astype(np.float64)
    acquisition = acquisition_quality(
        tx,
        stack("acquisition").astype(np.int64),
        n_channels=n_channels,
        predicted_clv=clv,
        churn_risk=churn,
    )
    touch = touch_quality(tx, touches, predicted_clv=clv, churn_risk=churn)
    slots = n_channels + 1
    first = sum((part.first_touch for part in parts), np.zeros(slots))
    last = sum((part.last_touch for part in parts), np.zeros(slots))
    linear = sum((part.linear for part in parts), np.zeros(slots))
    labels = _labels(catalog)
    return plain(
        {
            "acquisition": _quality_rows(acquisition, labels),
            "touch": _quality_rows(touch, labels[:n_channels]),
            "attribution": {
                "lookback_days": LOOKBACK_DAYS,
                "revenue_minor": round(sum(part.revenue for part in parts)),
                "channels": [
                    {
                        **label,
                        "first_touch_minor": round(float(first[i])),
                        "last_touch_minor": round(float(last[i])),
                        "linear_minor": round(float(linear[i])),
                    }
                    for i, label in enumerate(labels)
                ],
            },
        }
    )


def _labels(catalog: Catalog) -> list[dict[str, Any]]:
    known = [
        {"channel_id": int(channel_id), "code": code}
        for channel_id, code in zip(
            catalog.channel_ids.tolist(), catalog.channel_codes, strict=True
        )
    ]
    return [*known, {"channel_id": None, "code": None}]


def _quality_rows(quality: ChannelQuality, labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **label,
            "customers": int(quality.customers[i]),
            "prospects": int(quality.prospects[i]),
            "buyers": int(quality.buyers[i]),
            "repeat_buyers": int(quality.repeat_buyers[i]),
            "conversion_rate": float(quality.conversion_rate[i]),
            "repeat_rate": float(quality.repeat_rate[i]),
            "mean_predicted_clv_minor": float(quality.mean_predicted_clv[i]),
            "mean_churn_risk": float(quality.mean_churn_risk[i]),
        }
        for i, label in enumerate(labels)
    ]
