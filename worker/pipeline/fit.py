"""The global fit: one set of model parameters for the run, from every shard's fit inputs.

BG/NBD and Gamma-Gamma are fitted on the (x, t_x, T, m) of every customer, so a sharded run
finds exactly the parameters of an unsharded one. The propensity classifier, the purchase
rhythm prior and the cross-sell sequences are fitted and back-tested on the run's random
sample of customers; item popularity comes from the co-occurrence counts of everyone.
A model the data cannot support (no repeat buyer yet, one outcome only) is left out and the
metrics say why; its score columns stay empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from worker.models import bgnbd, gamma_gamma
from worker.models.bgnbd import BGNBDParams
from worker.models.crosssell import CrossSellModel, evaluate_cross_sell, fit_cross_sell
from worker.models.features import Events, Lines, Transactions
from worker.models.gamma_gamma import GammaGammaParams
from worker.models.next_order import (
    GapPrior,
    evaluate_next_order,
    fit_gap_prior,
    purchase_rhythm,
)
from worker.models.propensity import PropensityModel, run_propensity
from worker.models.rfm import rfm_scores
from worker.pipeline.bundle import Arrays, has, pack, unpack
from worker.pipeline.catalog import Catalog
from worker.pipeline.figures import StepTimer, plain
from worker.pipeline.fit_inputs import FitInputs

FloatArray = NDArray[np.float64]
HORIZON_DAYS = 90.0
NEXT_ORDER_EVALUATION_DAYS = 180.0
CLV_MONTHS = 12
MONTHLY_DISCOUNT_RATE = 0.01
# Associations worth showing: pairs bought by at least this many customers (and share).
MIN_PAIR_CUSTOMERS = 30
MIN_PAIR_SHARE = 0.001
TOP_PAIRS = 10
# The cross-sell back-test refits and recommends for every customer it holds out: a random
# subset of the sample measures the hit rate to well under a percentage point.
CROSS_SELL_EVALUATION_CUSTOMERS = 50_000


@dataclass(frozen=True, slots=True)
class RFMCuts:
    """Lowest value reaching scores 2, 3, 4 and 5 (recency negated: fewer days is better)."""

    recency: FloatArray
    frequency: FloatArray
    monetary: FloatArray


@dataclass(frozen=True, slots=True)
class Models:
    """Everything the scoring of a shard needs; None where the data could not fit a model."""

    catalog: Catalog
    purchases: BGNBDParams | None
    spend: GammaGammaParams | None
    rfm: RFMCuts | None
    propensity: PropensityModel | None
    gap_prior: GapPrior | None
    cross_sell: CrossSellModel | None


@dataclass(frozen=True, slots=True)
class FitResult:
    """The models and the figures that go into the run's params and metrics."""

    models: Models
    params: dict[str, Any]
    metrics: dict[str, Any]
    seconds: dict[str, float]


_OPTIONAL: dict[str, type[Any]] = {
    "purchases": BGNBDParams,
    "spend": GammaGammaParams,
    "rfm": RFMCuts,
    "propensity": PropensityModel,
    "gap_prior": GapPrior,
    "cross_sell": CrossSellModel,
}


def pack_models(models: Models) -> Arrays:
    """The models as arrays for an artifact."""
    arrays = pack(models.catalog, "catalog")
    for name in _OPTIONAL:
        value = getattr(models, name)
        if value is not None:
            arrays.update(pack(value, name))
    return arrays


def unpack_models(arrays: Arrays) -> Models:
    """The models back from `pack_models`."""
    optional = {
        name: unpack(cls, arrays, name) if has(arrays, name) else None
        for name, cls in _OPTIONAL.items()
    }
    return Models(catalog=unpack(Catalog, arrays, "catalog"), **optional)


def fit_models(
    inputs: Sequence[FitInputs], *, catalog: Catalog, cutoff: float, seed: int
) -> FitResult:
    """Fit every model of the run from the shards' fit inputs."""
    timer = StepTimer()
    params: dict[str, Any] = {}
    metrics: dict[str, Any] = {
        "customers": sum(part.customers for part in inputs),
        "transactions": sum(part.transactions for part in inputs),
        "lines": sum(part.lines for part in inputs),
        "events": sum(part.events for part in inputs),
    }
    x = _join([part.frequency for part in inputs])
    recency = _join([part.recency for part in inputs])
    age = _join([part.age for part in inputs])
    monetary = _join([part.monetary for part in inputs])
    metrics["customers_with_sales"] = int(x.size)

    with timer.step("bgnbd"):
        purchases = _fit_purchases(x, recency, age, params, metrics)
    with timer.step("gamma_gamma"):
        spend = _fit_spend(x, monetary, params, metrics)
    with timer.step("rfm"):
        rfm = _fit_rfm(inputs, params)
    tx, lines, events = _sample(inputs, catalog.n_items)
    metrics["sample_customers"] = tx.n_customers
    with timer.step("propensity"):
        propensity = _fit_propensity(tx, lines, events, cutoff, seed, params, metrics)
    with timer.step("next_order"):
        gap_prior = _fit_gap_prior(tx, cutoff, seed, params, metrics)
    with timer.step("cross_sell"):
        popularity, associations = _associations(inputs, catalog)
        metrics["associations"] = associations
        cross_sell = _fit_cross_sell(lines, catalog, popularity, seed, params, metrics)
    params["settings"] = {
        "horizon_days": HORIZON_DAYS,
        "clv_months": CLV_MONTHS,
        "monthly_discount_rate": MONTHLY_DISCOUNT_RATE,
        "seed": seed,
    }
    models = Models(catalog, purchases, spend, rfm, propensity, gap_prior, cross_sell)
    return FitResult(models, plain(params), plain(metrics), timer.seconds)


def _join(parts: Sequence[NDArray[Any]]) -> NDArray[Any]:
    return np.concatenate(parts) if parts else np.empty(0)


def _fit_purchases(
    x: NDArray[np.int64],
    recency: NDArray[np.int64],
    age: NDArray[np.int64],
    params: dict[str, Any],
    metrics: dict[str, Any],
) -> BGNBDParams | None:
    if x.size == 0:
        metrics["bgnbd"] = {"skipped": "no customer has a sale"}
        return None
    fitted = bgnbd.fit(x, recency, age)
    params["bgnbd"] = {"r": fitted.r, "alpha": fitted.alpha, "a": fitted.a, "b": fitted.b}
    metrics["bgnbd"] = {
        "customers": int(x.size),
        "log_likelihood": fitted.log_likelihood,
        "iterations": fitted.iterations,
        "converged": fitted.converged,
    }
    return fitted


def _fit_spend(
    x: NDArray[np.int64], monetary: FloatArray, params: dict[str, Any], metrics: dict[str, Any]
) -> GammaGammaParams | None:
    # Repeat days whose amounts net to nothing carry no spend to model.
    usable = (x > 0) & (monetary > 0)
    if not usable.any():
        metrics["gamma_gamma"] = {"skipped": "no customer has a repeat purchase"}
        return None
    fitted = gamma_gamma.fit(x[usable], monetary[usable])
    params["gamma_gamma"] = {"p": fitted.p, "q": fitted.q, "v": fitted.v}
    metrics["gamma_gamma"] = {
        "customers": int(usable.sum()),
        "log_likelihood": fitted.log_likelihood,
        "iterations": fitted.iterations,
        "converged": fitted.converged,
    }
    return fitted


def _fit_rfm(inputs: Sequence[FitInputs], params: dict[str, Any]) -> RFMCuts | None:
    recency = _join([part.rfm_recency for part in inputs])
    frequency = _join([part.rfm_frequency for part in inputs])
    monetary = _join([part.rfm_monetary for part in inputs])
    if recency.size == 0:
        return None
    scores = rfm_scores(recency, frequency, monetary)
    cuts = RFMCuts(
        recency=score_cuts(-recency, scores.recency),
        frequency=score_cuts(frequency, scores.frequency),
        monetary=score_cuts(monetary, scores.monetary),
    )
    params["rfm_cuts"] = {
        "days_since_last_sale": [-value for value in cuts.recency.tolist()],
        "sales": cuts.frequency.tolist(),
        "net_spend_minor": cuts.monetary.tolist(),
    }
    return cuts


def score_cuts(values: FloatArray, scores: NDArray[np.int8]) -> FloatArray:
    """Lowest value scoring at least 2, 3, 4 and 5 (infinity for a score nobody reaches).

    Scores rise with values and ties share a score, so `1 + searchsorted(cuts, v, "right")`
    gives back every customer's score exactly, in any shard.
    """
    cuts = np.full(4, np.inf)
    for level in range(2, 6):
        reached = scores >= level
        if reached.any():
            cuts[level - 2] = values[reached].min()
    return cuts


def apply_cuts(cuts: FloatArray, values: FloatArray) -> NDArray[np.int8]:
    """Scores 1..5 of values from `score_cuts`."""
    return (1 + np.searchsorted(cuts, values, side="right")).astype(np.int8)


def _sample(inputs: Sequence[FitInputs], n_items: int) -> tuple[Transactions, Lines, Events]:
    """The shards' samples as one population, customers numbered shard after shard."""
    offsets = np.cumsum([0] + [part.sample_customers for part in inputs])
    n = int(offsets[-1])

    def stack(name: str, dtype: type[Any], shift: bool = False) -> NDArray[Any]:
        arrays = [
            getattr(part, name) + (offset if shift else 0)
            for part, offset in zip(inputs, offsets[:-1], strict=True)
        ]
        return _join(arrays).astype(dtype, copy=False)

    tx = Transactions(
        stack("sample_tx_customer", np.int64, shift=True),
        stack("sample_tx_t", np.float64),
        stack("sample_tx_amount", np.float64),
        n,
    )
    lines = Lines(
        stack("sample_line_customer", np.int64, shift=True),
        stack("sample_line_order", np.int64),
        stack("sample_line_item", np.int64),
        stack("sample_line_t", np.float64),
        n,
        n_items,
    )
    events = Events(
        stack("sample_event_customer", np.int64, shift=True), stack("sample_event_t", np.float64), n
    )
    return tx, lines, events


def _fit_propensity(
    tx: Transactions,
    lines: Lines,
    events: Events,
    cutoff: float,
    seed: int,
    params: dict[str, Any],
    metrics: dict[str, Any],
) -> PropensityModel | None:
    """Back-test one horizon back, then fit on the latest complete horizon (run_propensity)."""
    try:
        run = run_propensity(
            tx, as_of=cutoff, horizon=HORIZON_DAYS, lines=lines, events=events, seed=seed
        )
    except ValueError as exc:
        metrics["propensity"] = {"skipped": str(exc)}
        return None
    model = run.model
    params["propensity"] = {
        "features": list(model.features),
        "intercept": model.intercept,
        "horizon_days": model.horizon,
        "lapsed_after_days": model.lapsed_after_days,
        "lapsed_slope": model.lapsed_slope,
        "lapsed_intercept": model.lapsed_intercept,
        "average_monetary_minor": model.average_monetary,
        "average_spend_12m_minor": model.average_spend_12m,
    }
    metrics["propensity"] = run.metrics
    return model


def _fit_gap_prior(
    tx: Transactions, cutoff: float, seed: int, params: dict[str, Any], metrics: dict[str, Any]
) -> GapPrior | None:
    if not (tx.amount > 0).any():
        # purchase_rhythm needs at least one sale to read (it indexes past an empty log).
        metrics["next_order"] = {"skipped": "no customer has a sale"}
        return None
    try:
        prior = fit_gap_prior(purchase_rhythm(tx, cutoff=cutoff), seed=seed)
    except ValueError as exc:
        metrics["next_order"] = {"skipped": str(exc)}
        return None
    params["gap_prior"] = prior
    try:
        metrics["next_order"] = evaluate_next_order(
            tx,
            cutoff=cutoff - NEXT_ORDER_EVALUATION_DAYS,
            horizon=NEXT_ORDER_EVALUATION_DAYS,
        )
    except ValueError as exc:
        metrics["next_order"] = {"evaluation_skipped": str(exc)}
    return prior


def _associations(
    inputs: Sequence[FitInputs], catalog: Catalog
) -> tuple[NDArray[np.int64], dict[str, Any]]:
    """Item popularity (customers who bought it) and the strongest item pairs, from everyone."""
    n_items = catalog.n_items
    width = max(n_items, 1)
    buyers = sum(part.line_customers for part in inputs)
    # Shards add up: one count per pair, summed over the shards that saw it.
    key, inverse = np.unique(
        _join([part.pair_a * width + part.pair_b for part in inputs]).astype(np.int64),
        return_inverse=True,
    )
    weights = _join([part.pair_customers for part in inputs]).astype(np.float64)
    count = np.bincount(inverse.reshape(-1), weights=weights, minlength=key.size).astype(np.int64)
    a, b = key // width, key % width
    diagonal = a == b
    popularity = np.zeros(n_items, dtype=np.int64)
    popularity[a[diagonal]] = count[diagonal]
    pairs = ~diagonal
    a, b, count = a[pairs], b[pairs], count[pairs]
    strong = count >= max(MIN_PAIR_CUSTOMERS, MIN_PAIR_SHARE * buyers)
    a, b, count = a[strong], b[strong], count[strong]
    share_a = popularity[a] / max(buyers, 1)
    share_b = popularity[b] / max(buyers, 1)
    support = count / max(buyers, 1)
    lift = support / (share_a * share_b)
    top = np.argsort(-lift, kind="stable")[:TOP_PAIRS]
    product = catalog.product_ids
    return popularity, {
        "buyers": buyers,
        "pairs": int(pairs.sum()),
        "top_pairs": [
            {
                "product_ids": [int(product[a[i]]), int(product[b[i]])],
                "customers": int(count[i]),
                "support": float(support[i]),
                "confidence": [
                    float(count[i] / popularity[a[i]]),
                    float(count[i] / popularity[b[i]]),
                ],
                "lift": float(lift[i]),
            }
            for i in top.tolist()
        ],
    }


def _subset(lines: Lines, customers: int, seed: int) -> Lines:
    """The lines of at most `customers` customers drawn at random, re-indexed 0 … k − 1."""
    if lines.n_customers <= customers:
        return lines
    chosen = np.zeros(lines.n_customers, dtype=bool)
    chosen[np.random.default_rng(seed).choice(lines.n_customers, customers, replace=False)] = True
    new_index = np.cumsum(chosen) - 1
    keep = chosen[lines.customer]
    return Lines(
        new_index[lines.customer[keep]],
        lines.order[keep],
        lines.item[keep],
        lines.t[keep],
        customers,
        lines.n_items,
    )


def _fit_cross_sell(
    lines: Lines,
    catalog: Catalog,
    popularity: NDArray[np.int64],
    seed: int,
    params: dict[str, Any],
    metrics: dict[str, Any],
) -> CrossSellModel | None:
    if catalog.n_items == 0 or lines.t.size == 0:
        metrics["cross_sell"] = {"skipped": "no order lines with known products"}
        return None
    fitted = fit_cross_sell(lines, seed=seed)
    # Popularity fills the slots sequences leave empty: count it over every customer.
    model = replace(fitted, popularity=popularity)
    params["cross_sell"] = {"items": catalog.n_items, "pairs": int(model.pair_key.size)}
    held = _subset(lines, CROSS_SELL_EVALUATION_CUSTOMERS, seed)
    try:
        metrics["cross_sell"] = evaluate_cross_sell(held, active=catalog.active)
    except ValueError as exc:
        metrics["cross_sell"] = {"evaluation_skipped": str(exc)}
    return model
