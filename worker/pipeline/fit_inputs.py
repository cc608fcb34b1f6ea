"""What one shard contributes to the global fit: compact sufficient data and a random sample.

* (x, t_x, T, m) of every customer with a sale — BG/NBD and Gamma-Gamma fit on exactly these;
* recency, frequency and monetary value of every customer with an order — the RFM quintile
  edges are population ranks;
* the whole history of a random sample of customers, the same customers whatever the shard
  size (a hash of the customer id decides) — the propensity classifier, the purchase-rhythm
  prior and the cross-sell sequences are fitted and back-tested on it;
* the item co-occurrence counts XᵀX of the shard's customers, which add up over shards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from worker.models.features import (
    Events,
    Lines,
    Transactions,
    adoptions,
    customer_features,
    group_starts,
)
from worker.models.summary import summary_from_transactions
from worker.pipeline.extract import ShardData

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FitInputs:
    """One shard's share of the fit; customer indices of the sample are local to it."""

    customers: int
    # Customers with a sale: repeat purchase days, day of the last one and age, in days since
    # the first purchase day, and the mean value of the repeat days (minor units).
    frequency: IntArray
    recency: IntArray
    age: IntArray
    monetary: FloatArray
    # Customers with an order: days since the last sale, sales, net spend.
    rfm_recency: FloatArray
    rfm_frequency: FloatArray
    rfm_monetary: FloatArray
    sample_customers: int
    sample_tx_customer: IntArray
    sample_tx_t: FloatArray
    sample_tx_amount: FloatArray
    sample_line_customer: IntArray
    sample_line_order: IntArray
    sample_line_item: IntArray
    sample_line_t: FloatArray
    sample_event_customer: IntArray
    sample_event_t: FloatArray
    pair_a: IntArray
    pair_b: IntArray
    pair_customers: IntArray
    line_customers: int
    transactions: int
    lines: int
    events: int


def in_sample(customer_ids: IntArray, rate: float, seed: int) -> NDArray[np.bool_]:
    """Whether each customer is in the run's sample: a hash of the id below the rate."""
    # splitmix64: well-mixed bits from consecutive ids; uint64 arithmetic wraps by design.
    z = customer_ids.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    uniform = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return uniform < rate


def fit_inputs(data: ShardData, *, cutoff: float, sample_rate: float, seed: int) -> FitInputs:
    """The shard's sufficient data, RFM values, sample and co-occurrence counts."""
    tx = data.tx
    x, recency, age, monetary = bgnbd_data(tx, cutoff=cutoff)
    now = customer_features(tx, cutoff=cutoff)
    buyers = now.has_orders
    sample = sample_history(data, in_sample(data.customer_ids, sample_rate, seed))
    pair_a, pair_b, pair_customers = cooccurrence(data.lines)
    return FitInputs(
        customers=data.n_customers,
        frequency=x,
        recency=recency,
        age=age,
        monetary=monetary,
        rfm_recency=now.recency_days[buyers],
        rfm_frequency=now.frequency[buyers],
        rfm_monetary=now.monetary[buyers],
        sample_customers=sample[0].n_customers,
        sample_tx_customer=sample[0].customer,
        sample_tx_t=sample[0].t,
        sample_tx_amount=sample[0].amount,
        sample_line_customer=sample[1].customer,
        sample_line_order=sample[1].order,
        sample_line_item=sample[1].item,
        sample_line_t=sample[1].t,
        sample_event_customer=sample[2].customer,
        sample_event_t=sample[2].t,
        pair_a=pair_a,
        pair_b=pair_b,
        pair_customers=pair_customers,
        line_customers=int(group_starts(data.lines.customer).size),
        transactions=int(tx.t.size),
        lines=int(data.lines.t.size),
        events=int(data.events.t.size),
    )


def bgnbd_data(
    tx: Transactions, *, cutoff: float
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """(x, t_x, T, m) in whole days of the customers with a sale, observed to the day before."""
    sale = tx.amount > 0
    summary = summary_from_transactions(
        tx.customer[sale],
        np.floor(tx.t[sale]).astype(np.int64),
        tx.amount[sale].astype(np.int64),
        freq="D",
        observation_end=int(np.floor(cutoff)) - 1,
    )
    assert summary.monetary_value is not None
    return (
        summary.frequency,
        summary.recency.astype(np.int64),
        summary.T.astype(np.int64),
        summary.monetary_value,
    )


def bgnbd_customers(tx: Transactions) -> IntArray:
    """Dense indices of the customers `bgnbd_data` returns rows for, in the same order."""
    sale = tx.amount > 0
    present = np.bincount(tx.customer[sale], minlength=tx.n_customers) > 0
    return np.flatnonzero(present).astype(np.int64)


def sample_history(
    data: ShardData, chosen: NDArray[np.bool_]
) -> tuple[Transactions, Lines, Events]:
    """The transactions, lines and events of the chosen customers, re-indexed 0 … k − 1."""
    new_index = np.cumsum(chosen) - 1
    k = int(chosen.sum())
    tx, lines, events = data.tx, data.lines, data.events
    keep_tx = chosen[tx.customer]
    keep_lines = chosen[lines.customer]
    keep_events = chosen[events.customer]
    return (
        Transactions(new_index[tx.customer[keep_tx]], tx.t[keep_tx], tx.amount[keep_tx], k),
        Lines(
            new_index[lines.customer[keep_lines]],
            lines.order[keep_lines],
            lines.item[keep_lines],
            lines.t[keep_lines],
            k,
            lines.n_items,
        ),
        Events(new_index[events.customer[keep_events]], events.t[keep_events], k),
    )


def cooccurrence(lines: Lines) -> tuple[IntArray, IntArray, IntArray]:
    """Customers who bought both items, for every item pair (a ≤ b) with at least one."""
    if lines.n_items == 0 or lines.t.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    adopted = adoptions(lines)
    bought = sp.csr_matrix(
        (np.ones(adopted.item.size, dtype=np.int64), (adopted.customer, adopted.item)),
        shape=(lines.n_customers, lines.n_items),
    )
    counts = sp.triu(bought.T @ bought).tocoo()
    return (
        counts.row.astype(np.int64),
        counts.col.astype(np.int64),
        counts.data.astype(np.int64),
    )
