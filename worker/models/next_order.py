"""Predicted next order date: the customer's own rhythm, shrunk toward the population's.

The gaps between a customer's purchase days are drawn as Gamma(shape s, rate λ) — s > 1 means
regular buyers, s = 1 memoryless ones — and each customer's rate λ is itself Gamma(α, β) across
the population. (s, α, β) are fitted by maximum likelihood of the marginal over λ. Given a
customer's k completed gaps summing to S, λ's posterior is Gamma(α + k·s, β + S): a customer
with many gaps keeps their own rhythm, a customer with one gap is pulled toward the population,
and a one-time buyer gets the population's (empirical Bayes).

Under that posterior the current gap X satisfies X / (X + b) ~ Beta(s, a), a = α + k·s and
b = β + S, so its survival is a regularised incomplete beta function. The prediction is the
median of X given that it is already longer than the time since the last order: the date the
customer is as likely to have ordered by as not. The median, not the mean, because it is what
minimises the absolute error in days, and the gap is heavy-tailed. Customers without orders get
no date (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import betaincc, betainccinv, digamma, gammaln

from worker.models.features import Transactions, distinct, first_sale_from, sum_by

MAX_FIT_CUSTOMERS = 200_000
# log(elapsed / b) from "just bought" to thousands of usual gaps overdue; step 1/16.
LOG_Y_GRID = np.linspace(-12.0, 8.0, 321)
_GRID_STEP = float(LOG_Y_GRID[1] - LOG_Y_GRID[0])


@dataclass(frozen=True, slots=True)
class GapPrior:
    """Population parameters of the gaps between purchase days."""

    shape: float
    alpha: float
    beta: float
    customers: int


@dataclass(frozen=True, slots=True)
class PurchaseRhythm:
    """Per-customer purchase days before a cutoff: count, first, last, sum of log gaps."""

    days: NDArray[np.int64]
    first: NDArray[np.float64]
    last: NDArray[np.float64]
    log_gap_sum: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class NextOrderMetrics:
    """Median absolute error in days on held-out next orders, next to the naive baseline."""

    customers: int
    median_abs_error_days: float
    naive_median_abs_error_days: float
    naive_gap_days: float


def purchase_rhythm(tx: Transactions, *, cutoff: float) -> PurchaseRhythm:
    """Distinct purchase days (sales only) of each customer strictly before the cutoff."""
    sale = (tx.t < cutoff) & (tx.amount > 0)
    cust, day = tx.customer[sale], np.floor(tx.t[sale])
    # Sorted by customer then time: a new purchase day is a change of customer or of day.
    new_day = np.ones(cust.size, dtype=bool)
    new_day[1:] = (cust[1:] != cust[:-1]) | (day[1:] != day[:-1])
    cust, day = cust[new_day], day[new_day]
    n = tx.n_customers
    count = np.bincount(cust, minlength=n)
    gap = np.diff(day, prepend=np.nan)
    repeat = np.zeros(cust.size, dtype=bool)
    repeat[1:] = cust[1:] == cust[:-1]
    log_gap_sum = sum_by(cust[repeat], np.log(gap[repeat]), n)
    ends = np.cumsum(count)
    has = count > 0
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    first[has] = day[(ends - count)[has]]
    last[has] = day[ends[has] - 1]
    return PurchaseRhythm(count.astype(np.int64), first, last, log_gap_sum)


def fit_gap_prior(
    rhythm: PurchaseRhythm, *, max_customers: int = MAX_FIT_CUSTOMERS, seed: int = 0
) -> GapPrior:
    """Maximum-likelihood (s, α, β) from customers with at least one completed gap."""
    repeaters = np.flatnonzero(rhythm.days > 1)
    if repeaters.size == 0:
        raise ValueError("no customer has bought on two different days: no rhythm to learn")
    if repeaters.size > max_customers:
        repeaters = np.random.default_rng(seed).choice(repeaters, max_customers, replace=False)
    k = (rhythm.days[repeaters] - 1).astype(np.float64)
    span = rhythm.last[repeaters] - rhythm.first[repeaters]
    log_gaps = rhythm.log_gap_sum[repeaters]
    mean_gap = float(span.sum() / k.sum())

    def negative_log_likelihood(params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        s, a, b = np.exp(params)
        shape_total = a + k * s
        log_tail = np.log(b + span)
        ll = (
            (s - 1) * log_gaps
            - k * gammaln(s)
            + a * np.log(b)
            + gammaln(shape_total)
            - gammaln(a)
            - shape_total * log_tail
        )
        psi_total = digamma(shape_total)
        d_s = log_gaps - k * digamma(s) + k * psi_total - k * log_tail
        d_a = np.log(b) + psi_total - digamma(a) - log_tail
        d_b = a / b - shape_total / (b + span)
        # Gradient with respect to the log-parameters, averaged so the scale stays tame.
        grad = np.array([d_s.sum() * s, d_a.sum() * a, d_b.sum() * b]) / k.size
        return float(-ll.sum() / k.size), -grad

    start = np.log([1.0, 2.0, mean_gap])
    # Bounds keep the search finite when few customers leave the likelihood flat
    # (a tiny shop): without them exp() overflows before the optimiser gives up.
    bounds = [(np.log(1e-2), np.log(1e3)), (np.log(1e-2), np.log(1e4)), (np.log(1e-3), np.log(1e7))]
    fit = minimize(negative_log_likelihood, start, jac=True, method="L-BFGS-B", bounds=bounds)
    s, a, b = np.exp(fit.x)
    return GapPrior(shape=float(s), alpha=float(a), beta=float(b), customers=int(k.size))


def predict_next_order(
    rhythm: PurchaseRhythm, prior: GapPrior, *, cutoff: float
) -> NDArray[np.float64]:
    """Predicted day of each customer's next order (≥ cutoff); NaN for customers without orders.

    The conditional median depends on a customer only through k (their completed gaps) and the
    ratio y = elapsed / b, so it is tabulated once per distinct k on a grid of log y and read
    back by linear interpolation: a few thousand special-function calls instead of millions.
    """
    has = np.flatnonzero(rhythm.days > 0)
    out = np.full(rhythm.days.size, np.nan)
    if has.size == 0:
        return out
    k = rhythm.days[has] - 1
    b = prior.beta + rhythm.last[has] - rhythm.first[has]
    elapsed = cutoff - rhythm.last[has]
    ks = distinct(k)
    # The log of the ratio is nearly straight in log y: interpolating it is good to ~2 hours.
    shapes = (prior.alpha + ks * prior.shape).astype(np.float64)
    table = np.log(median_gap_ratio(prior.shape, shapes, LOG_Y_GRID))
    position = (np.log(np.maximum(elapsed, 1e-9) / b) - LOG_Y_GRID[0]) / _GRID_STEP
    position = np.clip(position, 0, LOG_Y_GRID.size - 1)
    low = np.minimum(position.astype(np.int64), LOG_Y_GRID.size - 2)
    frac = position - low
    row = np.searchsorted(ks, k)
    ratio = np.exp((1 - frac) * table[row, low] + frac * table[row, low + 1])
    out[has] = rhythm.last[has] + np.maximum(b * ratio, elapsed)
    return out


def median_gap_ratio(
    shape: float, a: NDArray[np.float64], log_y: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Median gap over b given gap > y·b, for each posterior shape a (rows) and log y (columns).

    With X / (X + b) ~ Beta(s, a): take P(X > y·b), halve it, invert. Where that survival
    underflows (absurdly long silences) the tail is Pareto-like with index a, and the median
    of X given X > y·b is (y + 1)·2^(1/a) − 1 in units of b.
    """
    y = np.exp(log_y)[None, :]
    a_col = np.asarray(a, dtype=np.float64)[:, None]
    survival = betaincc(shape, a_col, y / (1 + y))
    u = betainccinv(shape, a_col, survival / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = u / (1 - u)
    tail = (y + 1) * 2 ** (1 / a_col) - 1
    return np.where(np.isfinite(ratio) & (survival > 0), ratio, tail)


def evaluate_next_order(
    tx: Transactions, *, cutoff: float, horizon: float, prior: GapPrior | None = None
) -> NextOrderMetrics:
    """Median absolute error in days of predicted vs actual next orders after the cutoff.

    Only customers with an order before the cutoff and one in [cutoff, cutoff + horizon) count.
    The naive baseline is the last order plus the population's mean gap, not before the cutoff.
    """
    rhythm = purchase_rhythm(tx, cutoff=cutoff)
    if prior is None:
        prior = fit_gap_prior(rhythm)
    predicted = predict_next_order(rhythm, prior, cutoff=cutoff)
    actual = np.floor(first_sale_from(tx, cutoff=cutoff, horizon=horizon))
    scored = (rhythm.days > 0) & ~np.isnan(actual)
    repeat = rhythm.days > 1
    mean_gap = float(
        (rhythm.last[repeat] - rhythm.first[repeat]).sum() / (rhythm.days[repeat] - 1).sum()
    )
    naive = np.maximum(rhythm.last + mean_gap, np.floor(cutoff))
    return NextOrderMetrics(
        customers=int(scored.sum()),
        median_abs_error_days=float(np.median(np.abs(predicted - actual)[scored])),
        naive_median_abs_error_days=float(np.median(np.abs(naive - actual)[scored])),
        naive_gap_days=mean_gap,
    )
