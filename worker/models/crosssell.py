"""Next-best items (products or categories) from co-purchase and purchase-sequence structure.

Two views of the same order lines:

* associations — the customer × item matrix X (bought at least once) gives co-occurrence
  C = XᵀX, so support(A, B) = C[A, B] / customers, confidence(A → B) = C[A, B] / C[A, A] and
  lift(A → B) = confidence(A → B) / support(B);
* sequences — each customer's first purchase ("adoption") of every item, in time order. For a
  pair A → B the follow rate is the share of A's adopters who adopted B at the same time as A or
  later, and the lag is the median number of days from their first A to their first B. This is
  what tells "infant formula, likely in ~4 months" from "maternity wear, already behind her".

The lag is only kept where it is consistent (interquartile range at most the median, or
a month): "bread, likely in ~4 months" would be noise.

A customer's score for item B is Σ_A h(A) · follow(A → B) over the items A they bought, where
h halves every `half_life_days` between their last purchase of A and their latest order: the
step they are at counts most. Items in their latest order and inactive items are never
suggested; items nobody leads to fall back to popularity. The timing of a suggestion comes from
the item A that contributes most to it: first A + lag(A → B), counted from `as_of`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from worker.models.features import Lines, adoptions, distinct, group_starts

TOP_K = 5
HALF_LIFE_DAYS = 90.0
MAX_ITEMS_PER_CUSTOMER = 30
MIN_PAIR_CUSTOMERS = 2
# Dense score rows per chunk: chunk rows × items stays near this many floats (~80 MB).
CHUNK_CELLS = 10_000_000
# Popularity only breaks ties and fills empty slots: far below any real follow rate.
POPULARITY_WEIGHT = 1e-9
MAX_LAG_DAYS = (1 << 21) - 1
# A lag's interquartile range may reach its median (or this, for short lags) and still time
# a suggestion; beyond that the median lag is NaN.
MIN_TIMING_SPREAD_DAYS = 30.0
MAX_ITEMS = 1 << 20
MAX_SEQUENCE_CUSTOMERS = 200_000
# Up to this many items the item × item matrices are kept dense while scoring.
DENSE_ITEMS = 2_048


@dataclass(frozen=True, slots=True)
class ItemAssociations:
    """Customer-level co-purchase statistics; sparse items × items matrices."""

    customers: int
    item_customers: NDArray[np.int64]
    support: sp.csr_matrix
    confidence: sp.csr_matrix
    lift: sp.csr_matrix


@dataclass(frozen=True, slots=True)
class CrossSellModel:
    """Item-to-item follow rates and lags, and item popularity."""

    n_items: int
    pair_key: NDArray[np.int64]
    pair_customers: NDArray[np.int64]
    follow_rate: NDArray[np.float64]
    median_lag_days: NDArray[np.float64]
    weights: sp.csr_matrix
    popularity: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class CrossSell:
    """Top-k items per customer (−1 for an empty slot), their scores and expected lead time."""

    item: NDArray[np.int64]
    score: NDArray[np.float64]
    due_in_days: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CrossSellMetrics:
    """Hit rate at k on each customer's held-out last order, next to a popularity baseline."""

    customers: int
    k: int
    hit_rate: float
    popularity_hit_rate: float


def item_associations(lines: Lines) -> ItemAssociations:
    """Support, confidence and lift of every item pair bought by a common customer."""
    adopted = adoptions(lines)
    x = sp.csr_matrix(
        (np.ones(adopted.item.size), (adopted.customer, adopted.item)),
        shape=(lines.n_customers, lines.n_items),
    )
    co = (x.T @ x).tocsr()
    item_customers = np.asarray(co.diagonal()).astype(np.int64)
    customers = int(group_starts(adopted.customer).size)
    support = co / max(customers, 1)
    rows = np.repeat(np.arange(lines.n_items), np.diff(co.indptr))
    confidence_values = co.data / item_customers[rows]
    confidence = sp.csr_matrix((confidence_values, co.indices, co.indptr), shape=co.shape)
    lift_values = confidence_values / (item_customers[co.indices] / max(customers, 1))
    lift = sp.csr_matrix((lift_values, co.indices, co.indptr), shape=co.shape)
    return ItemAssociations(customers, item_customers, sp.csr_matrix(support), confidence, lift)


def fit_cross_sell(
    lines: Lines,
    *,
    max_customers: int = MAX_SEQUENCE_CUSTOMERS,
    max_items_per_customer: int = MAX_ITEMS_PER_CUSTOMER,
    min_pair_customers: int = MIN_PAIR_CUSTOMERS,
    seed: int = 0,
) -> CrossSellModel:
    """Follow rates and median lags of item pairs from customers' adoption sequences.

    Pair statistics come from at most `max_customers` customers drawn at random: rates and
    medians settle long before that, and pairs grow with the square of a history's length.
    """
    n_items = lines.n_items
    if n_items > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} items fit the packed pair keys, not {n_items}")
    adopted = adoptions(lines)
    popularity = np.bincount(adopted.item, minlength=n_items).astype(np.int64)
    buyers = adopted.customer[group_starts(adopted.customer)]
    if buyers.size > max_customers:
        drawn = np.zeros(lines.n_customers, dtype=bool)
        drawn[np.random.default_rng(seed).choice(buyers, max_customers, replace=False)] = True
        adopted = adopted.select(drawn[adopted.customer])
    in_time = np.lexsort((adopted.first, adopted.customer))
    cust, item, first = adopted.customer[in_time], adopted.item[in_time], adopted.first[in_time]

    # Customers with very long histories keep their latest adoptions.
    starts = group_starts(cust)
    sizes = np.diff(np.r_[starts, cust.size])
    from_end = np.repeat(starts + sizes, sizes) - np.arange(cust.size)
    keep = from_end <= max_items_per_customer
    cust, item, first = cust[keep], item[keep], first[keep]
    adopters = np.bincount(item, minlength=n_items)

    a_idx, b_idx = _later_pairs(cust)
    lag = first[b_idx] - first[a_idx]
    tied = lag == 0
    # Items adopted together follow each other both ways.
    a_item = np.r_[item[a_idx], item[b_idx][tied]]
    b_item = np.r_[item[b_idx], item[a_idx][tied]]
    lag = np.r_[lag, lag[tied]]
    lag_days = np.minimum(np.round(lag), MAX_LAG_DAYS).astype(np.int64)

    packed = np.sort(((a_item * n_items + b_item) << 21) | lag_days)
    pair = packed >> 21
    lag_sorted = (packed & MAX_LAG_DAYS).astype(np.float64)
    pair_start = group_starts(pair)
    count = np.diff(np.r_[pair_start, pair.size])
    median = (lag_sorted[pair_start + (count - 1) // 2] + lag_sorted[pair_start + count // 2]) / 2
    spread = (
        lag_sorted[pair_start + 3 * (count - 1) // 4] - lag_sorted[pair_start + (count - 1) // 4]
    )
    # A lag that varies as much as it lasts (everyday items bought whenever) tells no timing.
    median[spread > np.maximum(median, MIN_TIMING_SPREAD_DAYS)] = np.nan
    pair_key = pair[pair_start]
    frequent = count >= min_pair_customers
    pair_key, count, median = pair_key[frequent], count[frequent], median[frequent]
    antecedent, consequent = pair_key // n_items, pair_key % n_items
    rate = count / adopters[antecedent]
    weights = sp.csr_matrix((rate, (antecedent, consequent)), shape=(n_items, n_items))
    return CrossSellModel(
        n_items=n_items,
        pair_key=pair_key,
        pair_customers=count.astype(np.int64),
        follow_rate=rate,
        median_lag_days=median,
        weights=weights,
        popularity=popularity,
    )


def recommend(
    model: CrossSellModel,
    lines: Lines,
    *,
    as_of: float,
    active: NDArray[np.bool_],
    k: int = TOP_K,
    half_life_days: float = HALF_LIFE_DAYS,
) -> CrossSell:
    """Top-k next items of every customer from their lines before `as_of`."""
    return _top_k(model, lines, model.weights, as_of, active, k, half_life_days)


def popular_items(
    model: CrossSellModel, lines: Lines, *, as_of: float, active: NDArray[np.bool_], k: int = TOP_K
) -> CrossSell:
    """The baseline: the k most popular active items not in each customer's latest order."""
    no_links = sp.csr_matrix((model.n_items, model.n_items))
    return _top_k(model, lines, no_links, as_of, active, k, HALF_LIFE_DAYS)


def evaluate_cross_sell(
    lines: Lines,
    *,
    active: NDArray[np.bool_],
    k: int = TOP_K,
    half_life_days: float = HALF_LIFE_DAYS,
) -> CrossSellMetrics:
    """Hit rate at k on each repeat customer's last order, learned from everything else."""
    last_order = _last_order(lines)
    held_out_line = lines.order == last_order[lines.customer]
    earlier = lines.select(~held_out_line)
    has_earlier = np.bincount(earlier.customer, minlength=lines.n_customers) > 0
    held_out_line &= has_earlier[lines.customer]
    training = lines.select(~held_out_line)
    model = fit_cross_sell(training)
    as_of = float(training.t.max()) + 1 if training.t.size else 0.0
    suggested = recommend(
        model, training, as_of=as_of, active=active, k=k, half_life_days=half_life_days
    )
    baseline = popular_items(model, training, as_of=as_of, active=active, k=k)
    held_cust = lines.customer[held_out_line]
    held_item = lines.item[held_out_line]
    evaluated = distinct(held_cust)
    return CrossSellMetrics(
        customers=int(evaluated.size),
        k=k,
        hit_rate=_hit_rate(suggested.item, held_cust, held_item, evaluated, lines.n_items),
        popularity_hit_rate=_hit_rate(
            baseline.item, held_cust, held_item, evaluated, lines.n_items
        ),
    )


def render_cross_sell(
    cross_sell: CrossSell, customer: int, item_names: tuple[str, ...]
) -> list[str]:
    """A customer's suggestions in words, e.g. "infant formula, likely in ~4 months"."""
    texts = []
    for item, due in zip(
        cross_sell.item[customer].tolist(), cross_sell.due_in_days[customer].tolist(), strict=True
    ):
        if item < 0:
            continue
        name = item_names[item]
        if np.isnan(due):
            texts.append(name)
        elif due < 14:
            texts.append(f"{name}, likely now")
        elif due < 60:
            texts.append(f"{name}, likely in ~{round(due / 7)} weeks")
        else:
            texts.append(f"{name}, likely in ~{round(due / 30.4)} months")
    return texts


def _top_k(
    model: CrossSellModel,
    lines: Lines,
    weights: sp.csr_matrix,
    as_of: float,
    active: NDArray[np.bool_],
    k: int,
    half_life_days: float,
) -> CrossSell:
    n, n_items = lines.n_customers, model.n_items
    if lines.n_items != n_items or active.shape != (n_items,):
        raise ValueError("lines and the active mask must cover the model's items")
    history = lines.before(as_of)
    adopted = adoptions(history)
    latest = np.full(n, np.nan)
    starts = group_starts(adopted.customer)
    if starts.size:
        latest[adopted.customer[starts]] = np.maximum.reduceat(adopted.last, starts)
    strength = 0.5 ** ((latest[adopted.customer] - adopted.last) / half_life_days)
    indptr = np.r_[0, np.cumsum(np.bincount(adopted.customer, minlength=n))]
    owned = sp.csr_matrix((strength, adopted.item, indptr), shape=(n, n_items))
    last_order = _last_order(history)
    just_bought = history.order == last_order[history.customer]
    banned = sp.csr_matrix(
        (
            np.ones(just_bought.sum(), dtype=bool),
            (history.customer[just_bought], history.item[just_bought]),
        ),
        shape=(n, n_items),
    )
    prior = POPULARITY_WEIGHT * model.popularity / max(int(model.popularity.max()), 1)
    prior = np.where(active, prior, -np.inf)
    small = n_items <= DENSE_ITEMS
    # A category-sized catalogue multiplies faster as a dense matrix, and looks pairs up by index.
    links: sp.csr_matrix | NDArray[np.float64] = weights.toarray() if small else weights
    pair_table = _pair_table(model) if small else None

    width = min(k, n_items)
    item = np.full((n, k), -1, dtype=np.int64)
    score = np.full((n, k), np.nan)
    due = np.full((n, k), np.nan)
    chunk = max(1, CHUNK_CELLS // n_items)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        product = owned[lo:hi] @ links
        dense = (product if small else product.toarray()) + prior
        rows, cols = banned[lo:hi].nonzero()
        dense[rows, cols] = -np.inf
        top = np.argpartition(-dense, width - 1, axis=1)[:, :width]
        top_score = np.take_along_axis(dense, top, axis=1)
        order = np.argsort(-top_score, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_score = np.take_along_axis(top_score, order, axis=1)
        usable = np.isfinite(top_score)
        item[lo:hi, :width] = np.where(usable, top, -1)
        score[lo:hi, :width] = np.where(usable, top_score, np.nan)
        first = adopted.first[indptr[lo] : indptr[hi]]
        due[lo:hi, :width] = _due(model, pair_table, owned[lo:hi], first, top, usable, as_of)
    return CrossSell(item=item, score=score, due_in_days=due)


def _due(
    model: CrossSellModel,
    pair_table: NDArray[np.int32] | None,
    owned: sp.csr_matrix,
    first: NDArray[np.float64],
    top: NDArray[np.int64],
    usable: NDArray[np.bool_],
    as_of: float,
) -> NDArray[np.float64]:
    """Days from as_of to first A + lag(A → B), for the A contributing most to each suggestion.

    Every (customer, slot) is paired with each item the customer owns, laid out slot by slot so
    that each (customer, slot) is one contiguous run: its best item is a `maximum.reduceat`.
    """
    rows, width = top.shape
    due = np.full((rows, width), np.nan)
    per_row = np.diff(owned.indptr)
    sizes = per_row * width
    total = int(sizes.sum())
    if total == 0 or model.pair_key.size == 0:
        return due
    # One run per (row, slot), as long as the row's owned items; only run-sized arrays divide.
    run = np.arange(rows * width)
    run_row, run_slot, run_size = run // width, run % width, per_row[run // width]
    row = np.repeat(run_row, run_size)
    slot = np.repeat(run_slot, run_size)
    within = np.arange(total) - np.repeat(np.cumsum(run_size) - run_size, run_size)
    entry = owned.indptr[row] + within
    pair = _pair_index(model, pair_table, owned.indices[entry] * model.n_items + top[row, slot])
    linked = (pair >= 0) & usable[row, slot]
    contribution = np.where(linked, owned.data[entry] * model.follow_rate[pair], 0.0)
    run_start = np.flatnonzero(within == 0)
    best = np.repeat(np.maximum.reduceat(contribution, run_start), run_size[run_size > 0])
    candidate = np.flatnonzero((contribution == best) & (contribution > 0))
    # Ties keep the first item of the run.
    leader = candidate[group_starts(row[candidate] * width + slot[candidate])]
    expected = first[entry[leader]] + model.median_lag_days[pair[leader]]
    due[row[leader], slot[leader]] = np.maximum(expected - as_of, 0.0)
    return due


def _pair_table(model: CrossSellModel) -> NDArray[np.int32]:
    """Index into the pair arrays of every (A, B) key, −1 where the pair is unknown."""
    table = np.full(model.n_items * model.n_items, -1, dtype=np.int32)
    table[model.pair_key] = np.arange(model.pair_key.size, dtype=np.int32)
    return table


def _pair_index(
    model: CrossSellModel, table: NDArray[np.int32] | None, key: NDArray[np.int64]
) -> NDArray[np.int64]:
    if table is not None:
        return table[key].astype(np.int64)
    at = np.minimum(np.searchsorted(model.pair_key, key), model.pair_key.size - 1)
    return np.where(model.pair_key[at] == key, at, -1)


def _later_pairs(cust: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Index pairs (i, j), i < j, of rows of the same customer (rows grouped by customer)."""
    starts = group_starts(cust)
    sizes = np.diff(np.r_[starts, cust.size])
    group_end = np.repeat(starts + sizes, sizes)
    partners = group_end - np.arange(cust.size) - 1
    a_idx = np.repeat(np.arange(cust.size), partners)
    run_start = np.repeat(np.cumsum(partners) - partners, partners)
    b_idx = a_idx + 1 + (np.arange(a_idx.size) - run_start)
    return a_idx, b_idx


def _last_order(lines: Lines) -> NDArray[np.int64]:
    """Order id of each customer's latest order (−1 for none); lines sorted by time then order."""
    last = np.full(lines.n_customers, -1, dtype=np.int64)
    ends = np.r_[group_starts(lines.customer)[1:], lines.customer.size] - 1
    if lines.customer.size:
        last[lines.customer[ends]] = lines.order[ends]
    return last


def _hit_rate(
    suggested: NDArray[np.int64],
    held_cust: NDArray[np.int64],
    held_item: NDArray[np.int64],
    evaluated: NDArray[np.int64],
    n_items: int,
) -> float:
    if evaluated.size == 0:
        return float("nan")
    rows = suggested[evaluated]
    keys = evaluated[:, None] * n_items + rows
    held = distinct(held_cust * n_items + held_item)
    hit = np.isin(keys, held) & (rows >= 0)
    return float(hit.any(axis=1).mean())
