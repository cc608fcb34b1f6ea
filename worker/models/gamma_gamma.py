"""Gamma-Gamma spend model and customer lifetime value.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis";
Hardie's note 025. A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, v)
across customers, independent of the purchase process. The data of a customer with
``x > 0`` repeat purchases is ``m``, the mean value of those purchases.

The fit maximises the log-likelihood of lifetimes' ``GammaGammaFitter`` (the density of ``m``
given ``x``) with the damped Newton method of ``bgnbd`` on the log-parameters, using the
analytic gradient and Hessian; digamma and trigamma are evaluated once per distinct frequency.
Customers with no repeat purchase carry no spend information and are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, polygamma

from worker.models import bgnbd

FloatArray = NDArray[np.float64]
TimeUnit = Literal["D", "W", "M", "H"]

# Size of the subsample the fit starts on, and how close that fit has to get.
_SAMPLE = 20_000
_SAMPLE_TOL = 1e-3
# Periods per month of each time unit, as lifetimes' customer_lifetime_value counts them.
PERIODS_PER_MONTH: dict[str, float] = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24.0}


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Gamma-Gamma parameters and, after a fit, how it went (as in ``bgnbd.BGNBDParams``)."""

    p: float
    q: float
    v: float
    log_likelihood: float = math.nan
    iterations: int = 0
    converged: bool = True


@dataclass(frozen=True, slots=True)
class _Problem:
    """Spend data of the repeat customers, reduced to what an evaluation needs."""

    xs: FloatArray  # distinct frequencies
    x_weight: FloatArray  # total weight of each distinct frequency
    xm: FloatArray  # x * m, in units of the mean spend
    weights: FloatArray  # rows w and w * x
    total_weight: float
    constant_p: float  # sum of w x (log m + log x): the part of dLL/dp that is data only
    sum_w_log_m: float


def fit(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    tol: float = 1e-4,
    max_iter: int = 100,
    seed: int = 0,
) -> GammaGammaParams:
    """Maximum-likelihood (p, q, v) from customers with frequency > 0.

    Like ``bgnbd.fit``, it stops once a full Newton step in the log-parameters is below ``tol``.
    """
    x_all = np.asarray(frequency, dtype=np.float64)
    m_all = np.asarray(monetary_value, dtype=np.float64)
    if x_all.shape != m_all.shape:
        raise ValueError("frequency and monetary_value must have the same shape")
    repeat = x_all > 0
    x, m = x_all[repeat], m_all[repeat]
    if weights is None:
        w = np.ones(x.size)
    else:
        w_all = np.asarray(weights, dtype=np.float64)
        if w_all.shape != x_all.shape:
            raise ValueError("weights must have the same shape as frequency")
        w = w_all[repeat]
    if x.size == 0:
        raise ValueError("no customer with frequency > 0 to fit on")
    if np.any(m <= 0):
        raise ValueError("monetary_value must be positive for customers with frequency > 0")
    if np.any(x != np.floor(x)):
        raise ValueError("frequency must hold whole numbers")

    # Spend in units of its mean keeps v near 1; the log-likelihood shifts by -W log(scale).
    scale = float(m @ w / w.sum())
    m = m / scale
    # Start from p = 1 and q = 2, with v matching the mean spend (1 after scaling), and refine
    # on a subsample first when the data set is large.
    u = np.log([1.0, 2.0, 1.0])
    if x.size > 4 * _SAMPLE:
        sample = np.random.default_rng(seed).integers(0, x.size, _SAMPLE)
        warm = _prepare(x[sample], m[sample], w[sample])
        u = bgnbd.newton_maximize(
            partial(_evaluate, warm), u, warm.total_weight, _SAMPLE_TOL, max_iter
        )[0]
    problem = _prepare(x, m, w)
    u, ll, iterations, converged = bgnbd.newton_maximize(
        partial(_evaluate, problem), u, problem.total_weight, tol, max_iter
    )
    p, q, v = np.exp(u)
    return GammaGammaParams(
        p=float(p),
        q=float(q),
        v=float(v * scale),
        log_likelihood=ll - problem.total_weight * math.log(scale),
        iterations=iterations,
        converged=converged,
    )


def log_likelihood(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Log-density of each repeat customer's mean spend given the frequency (x > 0)."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    p, q, v = params.p, params.q, params.v
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * math.log(v)
        + (p * x - 1.0) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def conditional_expected_average_profit(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Expected mean transaction value given x and m: shrinks m towards the population mean."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    p, q, v = params.p, params.q, params.v
    individual_weight = p * x / (p * x + q - 1.0)
    population_mean = v * p / (q - 1.0)
    return (1.0 - individual_weight) * population_mean + individual_weight * m


def customer_lifetime_value(
    purchases: bgnbd.BGNBDParams,
    spend: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    time_unit: TimeUnit = "D",
) -> FloatArray:
    """Discounted expected value of each customer over the next ``months`` months.

    As lifetimes' ``customer_lifetime_value``: month k contributes the expected purchases in
    month k (BG/NBD, conditional on the history) times the expected spend per purchase
    (Gamma-Gamma), divided by (1 + discount_rate) ** k; ``time_unit`` is the unit of recency and T.
    """
    factor = PERIODS_PER_MONTH[time_unit]
    horizons = factor * np.arange(months + 1, dtype=np.float64)
    cumulative = bgnbd.conditional_expected_purchases(
        purchases, horizons[:, None], frequency, recency, T
    )
    discount = (1.0 + discount_rate) ** -np.arange(1, months + 1, dtype=np.float64)
    purchases_per_month = np.diff(cumulative, axis=0)
    value_per_purchase = conditional_expected_average_profit(spend, frequency, monetary_value)
    return value_per_purchase * np.einsum("k,kn->n", discount, purchases_per_month)


def _prepare(x: FloatArray, m: FloatArray, w: FloatArray) -> _Problem:
    x_int = x.astype(np.int64)
    if x_int.max() <= 4 * x.size + 65_536:
        counts = np.bincount(x_int, weights=w).astype(np.float64, copy=False)
        xs = np.flatnonzero(counts)
        x_weight = counts[xs]
        xs_float = xs.astype(np.float64)
    else:
        xs_float, inverse = np.unique(x, return_inverse=True)
        x_weight = np.bincount(inverse, weights=w).astype(np.float64, copy=False)
    log_m = np.log(m)
    weights = np.stack([w, w * x])
    return _Problem(
        xs=xs_float,
        x_weight=x_weight,
        xm=x * m,
        weights=weights,
        total_weight=float(w.sum()),
        constant_p=float(weights[1] @ (log_m + np.log(x))),
        sum_w_log_m=float(w @ log_m),
    )


def _evaluate(problem: _Problem, u: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Log-likelihood, gradient and Hessian in the log-parameters u = log(p, q, v)."""
    p, q, v = np.exp(u)
    xs, cx, total = problem.xs, problem.x_weight, problem.total_weight
    pxq = p * xs + q

    # Sums over customers of w and w x times log(y), 1 / y and 1 / y^2, y = x m + v.
    y = problem.xm + v
    powers = np.empty((3, y.size))
    np.log(y, out=powers[0])
    np.reciprocal(y, out=powers[1])
    np.square(powers[1], out=powers[2])
    # einsum rather than BLAS, as in bgnbd._block_terms.
    sums = np.einsum("kn,jn->kj", problem.weights, powers).tolist()
    ((s_log, s_inv, s_inv2), (sx_log, sx_inv, sx_inv2)) = sums

    ll = (
        cx @ (gammaln(pxq) - gammaln(p * xs))
        - total * gammaln(q)
        + total * q * math.log(v)
        + p * problem.constant_p
        - problem.sum_w_log_m
        - p * sx_log
        - q * s_log
    )
    psi = digamma(pxq)
    tri = polygamma(1, pxq)
    tri_px = polygamma(1, p * xs)
    grad = np.array(
        [
            cx @ (xs * (psi - digamma(p * xs))) + problem.constant_p - sx_log,
            cx @ psi - total * digamma(q) + total * math.log(v) - s_log,
            total * q / v - p * sx_inv - q * s_inv,
        ]
    )
    h_pp = cx @ (xs * xs * (tri - tri_px))
    h_pq = cx @ (xs * tri)
    h_pv = -sx_inv
    h_qq = cx @ tri - total * polygamma(1, q)
    h_qv = total / v - s_inv
    h_vv = -total * q / v**2 + p * sx_inv2 + q * s_inv2
    hess = np.array([[h_pp, h_pq, h_pv], [h_pq, h_qq, h_qv], [h_pv, h_qv, h_vv]])
    theta = np.array([p, q, v])
    return float(ll), theta * grad, hess * np.outer(theta, theta) + np.diag(theta * grad)
