"""Churn risk and reactivation propensity: P(order within a horizon) with plain-word reasons.

The model is a logistic regression over quantile bins of every feature (a generalised additive
model). Binning lets it bend where the relation is not a straight line — recency, the ratio of
silence to the customer's own rhythm — and keeps the score a sum of one term per feature, so
each customer's reasons are exact: the term of a feature minus that feature's average term.
A gradient-boosted classifier scores a little higher on some data but gives no exact
per-feature split of a single score, and `bench/models_bench.py` measures the gap.

`run_propensity` does the whole pass over the arrays it is given. A run split into shards
fits once (`fit_propensity` on rows sampled from every shard) and scores each shard with
`score_propensity`: the model carries everything scoring needs.

Only customers with at least one order before the cutoff are modelled: prospects have no
purchase behaviour to read, and their scores are NaN.

* churn risk = 1 − P(order in [t0, t0 + H));
* reactivation propensity = P(order in [t0, t0 + H)) for lapsed customers (no order for
  `lapsed_after_days`), recalibrated on lapsed customers with Platt scaling so that it reads as
  their own chance of buying again; NaN for customers who are not lapsed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from domain.scoring.reasons import render, stored
from domain.wording import words
from worker.models.features import (
    MODEL_FEATURES,
    CustomerFeatures,
    Events,
    Lines,
    Transactions,
    adoptions,
    customer_features,
    ordered_within,
)

BINS = 16
MAX_TRAINING_ROWS = 200_000
LAPSED_AFTER_DAYS = 180.0
REASONS_PER_CUSTOMER = 3
# Reasons whose term moves the log-odds by less than this are noise, not a reason.
MIN_REASON_EFFECT = 0.05
# Platt scaling needs both outcomes among enough lapsed customers to be better than none.
MIN_CALIBRATION_ROWS = 200


@dataclass(frozen=True, slots=True)
class PropensityModel:
    """A fitted binned logistic model of P(order within `horizon` days)."""

    features: tuple[str, ...]
    edges: tuple[NDArray[np.float64], ...]
    offsets: NDArray[np.int64]
    coef: NDArray[np.float64]
    intercept: float
    baseline: NDArray[np.float64]
    mean_logit: float
    # Population means at the training cutoff, so that "3× the average" reads the same in every
    # shard a run is split into.
    average_monetary: float
    average_spend_12m: float
    horizon: float
    lapsed_after_days: float
    lapsed_slope: float
    lapsed_intercept: float


@dataclass(frozen=True, slots=True)
class Reasons:
    """Top reasons per customer: template ids (−1 for none) and the value each one shows."""

    template: NDArray[np.int16]
    value: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PropensityScores:
    """Per-customer scores; NaN for customers without orders (and reactivation if not lapsed)."""

    p_order: NDArray[np.float64]
    churn_risk: NDArray[np.float64]
    reactivation: NDArray[np.float64]
    lapsed: NDArray[np.bool_]
    reasons: Reasons


@dataclass(frozen=True, slots=True)
class PropensityMetrics:
    """Quality at an evaluation cutoff, next to a recency-only baseline."""

    customers: int
    positives: int
    auc: float
    lift_top_decile: float
    recency_auc: float
    recency_lift_top_decile: float
    lapsed_customers: int
    reactivation_auc: float
    reactivation_mean_predicted: float
    reactivation_observed_rate: float


@dataclass(frozen=True, slots=True)
class PropensityRun:
    """A production model with its scores as of a date, and its back-tested quality."""

    model: PropensityModel
    scores: PropensityScores
    metrics: PropensityMetrics


def fit_propensity(
    features: CustomerFeatures,
    ordered: NDArray[np.bool_],
    *,
    horizon: float,
    max_rows: int = MAX_TRAINING_ROWS,
    lapsed_after_days: float = LAPSED_AFTER_DAYS,
    seed: int = 0,
) -> PropensityModel:
    """Fit P(order within the horizon) on customers with orders, subsampled to `max_rows`."""
    rows = np.flatnonzero(features.has_orders)
    if rows.size == 0:
        raise ValueError("no customer has an order before the cutoff: nothing to learn from")
    labels = np.asarray(ordered, dtype=bool)
    if labels.shape != features.has_orders.shape:
        raise ValueError("ordered must have one entry per customer")
    if labels[rows].all() or not labels[rows].any():
        raise ValueError("every customer has the same outcome: nothing to learn from")

    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(rows)
    train, held_out = shuffled[:max_rows], shuffled[max_rows:]
    names = tuple(name for name in MODEL_FEATURES if _informative(features.column(name)[train]))
    edges = tuple(_quantile_edges(features.column(name)[train]) for name in names)
    widths = np.array([edge.size + 2 for edge in edges], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(widths)[:-1]].astype(np.int64)

    columns = _columns(features, names, edges, offsets, train)
    design = _one_hot(columns, int(widths.sum()))
    classifier = LogisticRegression(C=1.0, max_iter=500)
    classifier.fit(design, labels[train])
    coef = classifier.coef_[0].astype(np.float64)
    intercept = float(classifier.intercept_[0])
    terms = coef[columns]
    model = PropensityModel(
        features=names,
        edges=edges,
        offsets=offsets,
        coef=coef,
        intercept=intercept,
        baseline=terms.mean(axis=0),
        mean_logit=float(intercept + terms.sum(axis=1).mean()),
        average_monetary=float(features.monetary[rows].mean()),
        average_spend_12m=float(features.spend_12m[rows].mean()),
        horizon=float(horizon),
        lapsed_after_days=float(lapsed_after_days),
        lapsed_slope=1.0,
        lapsed_intercept=0.0,
    )
    return _calibrate_lapsed(model, features, labels, held_out, train)


def score_propensity(
    model: PropensityModel,
    features: CustomerFeatures,
    *,
    lapsed: NDArray[np.bool_] | None = None,
) -> PropensityScores:
    """Churn risk, reactivation propensity and top reasons of every customer."""
    rows = np.flatnonzero(features.has_orders)
    n = features.has_orders.size
    if lapsed is None:
        lapsed = features.has_orders & (features.recency_days >= model.lapsed_after_days)
    elif lapsed.shape != (n,):
        raise ValueError("lapsed must have one entry per customer")
    else:
        lapsed = lapsed & features.has_orders

    columns = _columns(features, model.features, model.edges, model.offsets, rows)
    terms = model.coef[columns]
    logit = model.intercept + terms.sum(axis=1)
    p_order = np.full(n, np.nan)
    p_order[rows] = _sigmoid(logit)
    full_logit = np.full(n, np.nan)
    full_logit[rows] = logit
    reactivation = np.full(n, np.nan)
    reactivation[lapsed] = _sigmoid(
        model.lapsed_slope * full_logit[lapsed] + model.lapsed_intercept
    )
    reasons = _reasons(model, features, rows, terms - model.baseline, logit - model.mean_logit)
    return PropensityScores(
        p_order=p_order,
        churn_risk=1.0 - p_order,
        reactivation=reactivation,
        lapsed=lapsed,
        reasons=reasons,
    )


def evaluate_propensity(
    model: PropensityModel,
    features: CustomerFeatures,
    ordered: NDArray[np.bool_],
) -> PropensityMetrics:
    """ROC AUC and top-decile lift of the model and of recency alone, on customers with orders."""
    rows = np.flatnonzero(features.has_orders)
    labels = np.asarray(ordered, dtype=bool)[rows]
    logit = _logits(model, features, rows)
    p_order = _sigmoid(logit)
    recency_score = -features.recency_days[rows]
    lapsed = features.recency_days[rows] >= model.lapsed_after_days
    reactivation = _sigmoid(model.lapsed_slope * logit[lapsed] + model.lapsed_intercept)
    lapsed_labels = labels[lapsed]
    return PropensityMetrics(
        customers=int(rows.size),
        positives=int(labels.sum()),
        auc=_auc(labels, p_order),
        lift_top_decile=top_decile_lift(labels, p_order),
        recency_auc=_auc(labels, recency_score),
        recency_lift_top_decile=top_decile_lift(labels, recency_score),
        lapsed_customers=int(lapsed.sum()),
        reactivation_auc=_auc(lapsed_labels, reactivation),
        reactivation_mean_predicted=_mean(reactivation),
        reactivation_observed_rate=_mean(lapsed_labels.astype(np.float64)),
    )


def backtest_propensity(
    tx: Transactions,
    *,
    train_cutoff: float,
    eval_cutoff: float,
    horizon: float,
    lines: Lines | None = None,
    events: Events | None = None,
    max_rows: int = MAX_TRAINING_ROWS,
    seed: int = 0,
) -> tuple[PropensityModel, PropensityMetrics]:
    """Fit at one cutoff and evaluate at a later one, no earlier than the training labels end."""
    _check_no_leakage(train_cutoff, eval_cutoff, horizon)
    adopted = None if lines is None else adoptions(lines)
    train = customer_features(tx, cutoff=train_cutoff, adopted=adopted, events=events)
    labels = ordered_within(tx, cutoff=train_cutoff, horizon=horizon)
    model = fit_propensity(train, labels, horizon=horizon, max_rows=max_rows, seed=seed)
    held_out = customer_features(tx, cutoff=eval_cutoff, adopted=adopted, events=events)
    outcome = ordered_within(tx, cutoff=eval_cutoff, horizon=horizon)
    return model, evaluate_propensity(model, held_out, outcome)


def run_propensity(
    tx: Transactions,
    *,
    as_of: float,
    horizon: float,
    lines: Lines | None = None,
    events: Events | None = None,
    max_rows: int = MAX_TRAINING_ROWS,
    seed: int = 0,
) -> PropensityRun:
    """Back-test one horizon earlier, then fit on the latest complete horizon and score as_of.

    The back-test trains at as_of − 2H and evaluates at as_of − H; the production model trains
    on that same evaluation cutoff, whose labels end at as_of, and scores features at as_of.
    Rows from as_of on are never read.
    """
    history = tx.before(as_of)
    adopted = None if lines is None else adoptions(lines.before(as_of))
    train_cutoff, latest_cutoff = as_of - 2 * horizon, as_of - horizon
    _check_no_leakage(train_cutoff, latest_cutoff, horizon)
    earlier = customer_features(history, cutoff=train_cutoff, adopted=adopted, events=events)
    latest = customer_features(history, cutoff=latest_cutoff, adopted=adopted, events=events)
    latest_labels = ordered_within(history, cutoff=latest_cutoff, horizon=horizon)
    backtest = fit_propensity(
        earlier,
        ordered_within(history, cutoff=train_cutoff, horizon=horizon),
        horizon=horizon,
        max_rows=max_rows,
        seed=seed,
    )
    metrics = evaluate_propensity(backtest, latest, latest_labels)
    model = fit_propensity(latest, latest_labels, horizon=horizon, max_rows=max_rows, seed=seed)
    now = customer_features(history, cutoff=as_of, adopted=adopted, events=events)
    return PropensityRun(model=model, scores=score_propensity(model, now), metrics=metrics)


def top_decile_lift(labels: NDArray[np.bool_], scores: NDArray[np.float64]) -> float:
    """Positive rate in the top 10 % by score over the overall rate; ties shared at random."""
    n = labels.size
    base = labels.mean() if n else 0.0
    if n == 0 or base == 0:
        return float("nan")
    take = max(1, int(np.ceil(n / 10)))
    order = np.argsort(-scores, kind="stable")
    ranked_scores, ranked_labels = scores[order], labels[order]
    threshold = ranked_scores[take - 1]
    above = ranked_scores > threshold
    tied = ranked_scores == threshold
    # Customers tied at the threshold are only partly in the decile: count their expected share.
    share = (take - above.sum()) / tied.sum()
    expected = ranked_labels[above].sum() + share * ranked_labels[tied].sum()
    return float(expected / take / base)


def render_reasons(reasons: Reasons, customer: int) -> list[str]:
    """The plain-word reasons of one customer, most important first."""
    texts = []
    for template, value in zip(
        reasons.template[customer].tolist(), reasons.value[customer].tolist(), strict=True
    ):
        if template >= 0:
            texts.append(reason_text(int(template), float(value)))
    return texts


def reason_text(template: int, value: float) -> str:
    """One reason in English words, from its template id and value."""
    return render(reason_item(template, value), words())


def reason_item(template: int, value: float) -> dict[str, Any]:
    """One reason as a scoring run stores it (see domain.scoring.reasons)."""
    # Template 2·f: feature f of MODEL_FEATURES lowers P(order); 2·f + 1: it raises it.
    return stored(MODEL_FEATURES[template // 2], template % 2 == 1, value)


def _check_no_leakage(train_cutoff: float, eval_cutoff: float, horizon: float) -> None:
    if train_cutoff + horizon > eval_cutoff:
        raise ValueError(
            f"training labels run to {train_cutoff + horizon}, past the evaluation cutoff "
            f"{eval_cutoff}: the evaluation would see its own future"
        )


def _reasons(
    model: PropensityModel,
    features: CustomerFeatures,
    rows: NDArray[np.int64],
    contributions: NDArray[np.float64],
    deviation: NDArray[np.float64],
) -> Reasons:
    """Top contributions pushing each customer's score the way it deviates from the average."""
    n = features.has_orders.size
    template = np.full((n, REASONS_PER_CUSTOMER), -1, dtype=np.int16)
    value = np.full((n, REASONS_PER_CUSTOMER), np.nan)
    if rows.size == 0:
        return Reasons(template, value)
    aligned = contributions * np.where(deviation >= 0, 1.0, -1.0)[:, None]
    all_values = _reason_values(model, features, rows)
    # An undefined feature (no repeat order yet, so no rhythm) has no value to tell about; a
    # spend trend with nothing in either half-year does: it becomes "bought nothing".
    silent = np.isnan(all_values) & (np.array(model.features) != "spend_trend")
    aligned[silent] = -np.inf
    top = np.argsort(-aligned, axis=1, kind="stable")[:, :REASONS_PER_CUSTOMER]
    width = top.shape[1]
    strength = np.take_along_axis(aligned, top, axis=1)
    raises = np.take_along_axis(contributions, top, axis=1) > 0
    feature_ids = np.array([MODEL_FEATURES.index(name) for name in model.features])
    ids = 2 * feature_ids[top] + raises
    values = np.take_along_axis(all_values, top, axis=1)
    keep = strength >= MIN_REASON_EFFECT
    template[rows, :width] = np.where(keep, ids, -1)
    value[rows, :width] = np.where(keep, values, np.nan)
    return Reasons(template, value)


def _reason_values(
    model: PropensityModel, features: CustomerFeatures, rows: NDArray[np.int64]
) -> NDArray[np.float64]:
    """The number each reason shows, one column per model feature."""
    columns = []
    for name in model.features:
        if name in ("monetary", "spend_12m"):
            average = model.average_monetary if name == "monetary" else model.average_spend_12m
            values = features.column(name)[rows]
            columns.append(values / average if average > 0 else np.full(rows.size, np.nan))
        elif name == "spend_trend":
            # +inf: nothing in the earlier half-year; NaN: nothing in either.
            columns.append(
                np.where(features.spend_trend[rows] == 1, np.inf, features.spend_change[rows])
            )
        else:
            columns.append(features.column(name)[rows])
    return np.column_stack(columns)


def _calibrate_lapsed(
    model: PropensityModel,
    features: CustomerFeatures,
    labels: NDArray[np.bool_],
    held_out: NDArray[np.int64],
    train: NDArray[np.int64],
) -> PropensityModel:
    """Platt-scale the logit on lapsed customers the model did not train on, when enough."""
    lapsed_after = model.lapsed_after_days
    rows = held_out[features.recency_days[held_out] >= lapsed_after]
    if rows.size < MIN_CALIBRATION_ROWS:
        # Small shards train on every row: calibrating on those is the best left to do.
        rows = np.concatenate([rows, train[features.recency_days[train] >= lapsed_after]])
    outcome = labels[rows]
    if rows.size < MIN_CALIBRATION_ROWS or outcome.all() or not outcome.any():
        return model
    logit = _logits(model, features, rows)
    platt = LogisticRegression(C=1e6, max_iter=200).fit(logit[:, None], outcome)
    return replace(
        model,
        lapsed_slope=float(platt.coef_[0, 0]),
        lapsed_intercept=float(platt.intercept_[0]),
    )


def _logits(
    model: PropensityModel, features: CustomerFeatures, rows: NDArray[np.int64]
) -> NDArray[np.float64]:
    columns = _columns(features, model.features, model.edges, model.offsets, rows)
    logit: NDArray[np.float64] = model.intercept + model.coef[columns].sum(axis=1)
    return logit


def _columns(
    features: CustomerFeatures,
    names: tuple[str, ...],
    edges: tuple[NDArray[np.float64], ...],
    offsets: NDArray[np.int64],
    rows: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Design-matrix column of each (row, feature): the feature's offset plus its bin."""
    columns = np.empty((rows.size, len(names)), dtype=np.int64)
    for j, (name, edge) in enumerate(zip(names, edges, strict=True)):
        values = features.column(name)[rows]
        bins = np.searchsorted(edge, values, side="right")
        # NaN (feature undefined for the customer) gets a bin of its own after the last one.
        bins[np.isnan(values)] = edge.size + 1
        columns[:, j] = offsets[j] + bins
    return columns


def _one_hot(columns: NDArray[np.int64], width: int) -> sp.csr_matrix:
    n, k = columns.shape
    return sp.csr_matrix(
        (np.ones(n * k), columns.ravel(), np.arange(0, n * k + 1, k)), shape=(n, width)
    )


def _quantile_edges(values: NDArray[np.float64]) -> NDArray[np.float64]:
    finite = values[~np.isnan(values)]
    inner = np.linspace(0, 1, BINS + 1)[1:-1]
    return np.unique(np.quantile(finite, inner))


def _informative(values: NDArray[np.float64]) -> bool:
    """A feature with fewer than two distinct values (or all NaN) cannot separate anybody."""
    finite = values[~np.isnan(values)]
    return finite.size > 0 and bool(finite.min() < finite.max())


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out


def _auc(labels: NDArray[np.bool_], scores: NDArray[np.float64]) -> float:
    if labels.size == 0 or labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, scores))


def _mean(values: NDArray[np.float64]) -> float:
    return float(values.mean()) if values.size else float("nan")
