"""BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Each customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)`` and, after each repeat
purchase, drops out for good with probability ``p ~ Beta(a, b)``. The data of a customer are
``x`` repeat purchases (frequency), the time ``t_x`` of the last one (recency) and the age ``T``.

The fit maximises the exact log-likelihood of the paper (the one lifetimes' ``BetaGeoFitter``
uses, so both reach the same maximum) with damped Newton steps on the log-parameters, using the
analytic gradient and Hessian:

* terms that only depend on ``x`` (gammaln, digamma, trigamma) are evaluated once per distinct
  frequency and weighted by its count; ``log(alpha + T)`` and ``log(alpha + t_x)`` once per
  distinct age when ages are whole periods;
* ``log(e^A3 + e^A4)`` is written as ``A3 + softplus(A4 - A3)``, which cannot overflow however
  large the frequency or the history;
* the start comes from fits on growing random subsamples, so that the full data set is
  typically evaluated twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, hyp2f1, polygamma

FloatArray = NDArray[np.float64]
# Log-likelihood, gradient and Hessian at a point.
Objective = Callable[[FloatArray], tuple[float, FloatArray, FloatArray]]

# Subsample sizes grow by this factor from the first one up to the full data set.
_FIRST_SAMPLE = 20_000
_SAMPLE_GROWTH = 8
# A subsample fit only has to get within its own sampling error of the full-data optimum.
_SAMPLE_TOL = 1e-3
# Largest Newton step in log-parameters: keeps exp() finite far from the optimum.
_MAX_STEP = 2.0
# Relative rounding error of a log-likelihood summed over many customers.
_ROUNDING = 1e-12
# Customers with x > 0 are processed in blocks, so that temporaries stay in the CPU cache:
# 2.5x faster than whole-array expressions at a million customers.
_BLOCK = 32_768
# Parameters (r, alpha, b) on which dz depends through the data; dz/da = 1/a does not.
_VARYING = [0, 1, 3]


@dataclass(frozen=True, slots=True)
class BGNBDParams:
    """BG/NBD parameters (time in the data's unit) and, after a fit, how it went.

    ``log_likelihood`` is the total over customers; ``iterations`` counts the evaluations of
    the log-likelihood on the full data set.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = math.nan
    iterations: int = 0
    converged: bool = True


@dataclass(frozen=True, slots=True)
class _Block:
    """Customers with x > 0: frequency, its code (index in _Problem.code_x), grid index of T
    and of t_x, weight (None when all 1)."""

    x: FloatArray
    x_code: NDArray[np.intp]
    t_index: NDArray[np.intp]
    tx_index: NDArray[np.intp]
    w: FloatArray | None


@dataclass(frozen=True, slots=True)
class _Problem:
    """Data of one fit, arranged so that an evaluation touches each customer a few times."""

    # Distinct frequencies and their total weight; the frequency of each code in a _Block.
    xs: FloatArray
    x_weight: FloatArray
    code_x: FloatArray
    total_weight: float
    # Ages on a grid (scaled time): every T and t_x is an index into it.
    grid: FloatArray
    # Per grid point: weight and weighted frequency of customers whose T is that point.
    grid_weight: FloatArray
    grid_x_weight: FloatArray
    # Customers with x > 0, in blocks: see _Block.
    blocks: list[_Block]
    # log-likelihood(unscaled time) - log-likelihood(scaled time).
    ll_offset: float


def fit(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    tol: float = 1e-4,
    max_iter: int = 100,
    seed: int = 0,
) -> BGNBDParams:
    """Maximum-likelihood BG/NBD parameters.

    The fit stops once a full Newton step in the log-parameters is shorter than ``tol`` and
    returns that step's target: Newton converges quadratically, so it is within about ``tol**2``
    (relative) of the maximum.
    """
    x, tx, age = _check_rfm(frequency, recency, T)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and w.shape != x.shape:
        raise ValueError("weights must have the same length as frequency")
    if x.size == 0:
        raise ValueError("cannot fit on zero customers")

    scale = 1.0 / float(age.max()) if age.max() > 0 else 1.0
    total_x = float(x.sum() if w is None else x @ w)
    # Start at rate E[lambda] = r / alpha equal to the pooled purchase rate, r = a = b = 1.
    u = np.log([1.0, scale * float(age.sum()) / max(total_x, 1.0), 1.0, 1.0])

    rng = np.random.default_rng(seed)
    size = _FIRST_SAMPLE
    while size * _SAMPLE_GROWTH // 2 < x.size:
        sample = rng.integers(0, x.size, size)
        problem = _prepare(
            x[sample], tx[sample], age[sample], None if w is None else w[sample], scale
        )
        u = newton_maximize(
            partial(_evaluate, problem), u, problem.total_weight, _SAMPLE_TOL, max_iter
        )[0]
        size *= _SAMPLE_GROWTH

    problem = _prepare(x, tx, age, w, scale)
    u, ll, iterations, converged = newton_maximize(
        partial(_evaluate, problem), u, problem.total_weight, tol, max_iter
    )
    r, alpha, a, b = np.exp(u)
    return BGNBDParams(
        r=float(r),
        alpha=float(alpha / scale),
        a=float(a),
        b=float(b),
        log_likelihood=ll + problem.ll_offset,
        iterations=iterations,
        converged=converged,
    )


def log_likelihood(
    params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Log-likelihood of each customer's (frequency, recency, T) under the parameters."""
    x, tx, age = _check_rfm(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_t = np.log(alpha + age)
    # log(e^A3 + e^A4) = A3 + softplus(A4 - A3), the second term only for x > 0.
    z = math.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (log_t - np.log(alpha + tx))
    return (
        gammaln(r + x)
        - gammaln(r)
        + r * math.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
        - (r + x) * log_t
        + np.where(x > 0, _softplus(z), 0.0)
    )


def p_alive(
    params: BGNBDParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Probability that each customer is still alive at the end of observation."""
    x, tx, age = _check_rfm(frequency, recency, T)
    return np.exp(-_softplus(_log_odds_dead(params, x, tx, age)))


def conditional_expected_purchases(
    params: BGNBDParams, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected repeat purchases in (T, T + t] given each customer's history (eq. 10).

    ``t`` broadcasts against the customers: a column ``t[:, None]`` gives one row per horizon.
    """
    x, tx, age = _check_rfm(frequency, recency, T)
    horizon = np.asarray(t, dtype=np.float64)
    alive = np.exp(-_softplus(_log_odds_dead(params, x, tx, age)))
    return _expected_if_alive(params, horizon, x, age) * alive


def expected_purchases(params: BGNBDParams, t: ArrayLike) -> FloatArray:
    """Expected repeat purchases in (0, t] of a customer just acquired (eq. 9)."""
    horizon = np.asarray(t, dtype=np.float64)
    zero = np.zeros(1)
    return _expected_if_alive(params, horizon[..., None], zero, zero)[..., 0]


def next_purchase_time(params: BGNBDParams, frequency: ArrayLike, T: ArrayLike) -> FloatArray:
    """Median time from the end of observation to the next purchase, given the customer is alive.

    Given alive, the rate is Gamma(r + x, alpha + T) a posteriori and the wait is exponential in
    it, so P(wait > w) = ((alpha + T) / (alpha + T + w)) ** (r + x), whose median is
    (alpha + T) * (2 ** (1 / (r + x)) - 1). Unlike the mean it is finite for every r + x > 0.
    Read it together with ``p_alive``: it says when, not whether, the customer buys again.
    """
    x = np.asarray(frequency, dtype=np.float64)
    age = np.asarray(T, dtype=np.float64)
    return (params.alpha + age) * np.expm1(math.log(2.0) / (params.r + x))


def simulate(
    params: BGNBDParams, n: int, T: ArrayLike, rng: np.random.Generator
) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Draw (frequency, recency, T) of n customers from the BG/NBD process in continuous time."""
    age = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    # Purchases of a customer who never dropped out, and the purchase after which they drop out.
    arrivals = rng.poisson(rate * age)
    last_purchase = rng.geometric(dropout)
    x = np.minimum(arrivals, last_purchase)
    # Given N arrivals in [0, T], the x-th is the x-th of N uniform order statistics.
    bought = x > 0
    position = np.zeros(n)
    position[bought] = rng.beta(x[bought], arrivals[bought] - x[bought] + 1)
    return x.astype(np.int64), position * age, age


def _check_rfm(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = np.asarray(frequency, dtype=np.float64)
    tx = np.asarray(recency, dtype=np.float64)
    age = np.asarray(T, dtype=np.float64)
    if not x.shape == tx.shape == age.shape:
        raise ValueError("frequency, recency and T must have the same shape")
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("frequency must hold non-negative whole numbers")
    if np.any(tx < 0) or np.any(tx > age):
        raise ValueError("recency must lie between 0 and T")
    return x, tx, age


def _softplus(z: FloatArray) -> FloatArray:
    """log(1 + e^z) without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _log_odds_dead(
    params: BGNBDParams, x: FloatArray, tx: FloatArray, age: FloatArray
) -> FloatArray:
    """log(P(dead) / P(alive)); -inf for customers without repeat purchases."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    odds = (
        math.log(a)
        - np.log(b + np.maximum(x, 1.0) - 1.0)
        + (r + x) * (np.log(alpha + age) - np.log(alpha + tx))
    )
    return np.where(x > 0, odds, -np.inf)


def _expected_if_alive(
    params: BGNBDParams, t: FloatArray, x: FloatArray, age: FloatArray
) -> FloatArray:
    """E[purchases in (T, T + t] | alive at T]; one hyp2f1 per distinct (x, T) when t is shared.

    With the Euler transformation of eq. 10, 2F1(r+x, b+x; a+b+x-1; z) (1-z)^(r+x) becomes
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): bounded parameters, so no overflow for large x.
    """
    if t.ndim == 0 or t.shape[-1] == 1:
        codes = _pair_codes(x, age)
        if codes is not None:
            x_distinct, age_distinct, inverse = codes
            return _expected_if_alive_direct(params, t, x_distinct, age_distinct)[..., inverse]
    return _expected_if_alive_direct(params, t, x, age)


def _expected_if_alive_direct(
    params: BGNBDParams, t: FloatArray, x: FloatArray, age: FloatArray
) -> FloatArray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_1mz = np.log(alpha + age) - np.log(alpha + age + t)
    z = -np.expm1(log_1mz)
    log_hyp = np.log(hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z))
    return (a + b + x - 1.0) / (a - 1.0) * -np.expm1((a - 1.0) * log_1mz + log_hyp)


def _pair_codes(
    x: FloatArray, age: FloatArray
) -> tuple[FloatArray, FloatArray, NDArray[np.intp]] | None:
    """Distinct (x, T) pairs and each customer's pair, when both are small whole numbers."""
    if x.ndim != 1 or x.size == 0:
        return None
    x_int = x.astype(np.int64)
    age_int = age.astype(np.int64)
    if not (np.array_equal(x_int, x) and np.array_equal(age_int, age)):
        return None
    width = int(age_int.max()) + 1
    cells = (int(x_int.max()) + 1) * width
    if cells > 4 * x.size + 65_536:
        return None
    key = x_int * width + age_int
    present = np.zeros(cells, dtype=bool)
    present[key] = True
    distinct = np.flatnonzero(present)
    code = np.cumsum(present) - 1
    return (
        (distinct // width).astype(np.float64),
        (distinct % width).astype(np.float64),
        code[key],
    )


def _prepare(
    x: FloatArray, tx: FloatArray, age: FloatArray, w: FloatArray | None, scale: float
) -> _Problem:
    """Arrange one data set for repeated log-likelihood evaluations."""
    x_code = x.astype(np.intp)
    if x_code.max() <= 4 * x.size + 65_536:
        # Frequencies are their own codes: tables run over 0..max(x).
        code_x = np.arange(x_code.max() + 1, dtype=np.float64)
    else:
        code_x, x_code = np.unique(x, return_inverse=True)
    x_weight = np.bincount(x_code, weights=w).astype(np.float64, copy=False)
    present = x_weight > 0

    t_int = age.astype(np.intp)
    tx_int = tx.astype(np.intp)
    whole = np.array_equal(t_int, age) and np.array_equal(tx_int, tx)
    if whole and age.max() <= 4 * x.size + 65_536:
        # Whole periods: one grid point per possible age, logs taken once per point.
        grid = np.arange(int(age.max()) + 1, dtype=np.float64)
        t_index, tx_index = t_int, tx_int
    else:
        grid = np.concatenate([age, tx])
        t_index = np.arange(x.size, dtype=np.intp)
        tx_index = t_index + x.size

    weighted_x = x if w is None else w * x
    grid_weight = np.bincount(t_index, weights=w, minlength=grid.size)
    grid_x_weight = np.bincount(t_index, weights=weighted_x, minlength=grid.size)
    positive = np.flatnonzero(x > 0)
    return _Problem(
        xs=code_x[present],
        x_weight=x_weight[present],
        code_x=code_x,
        total_weight=float(x_weight.sum()),
        grid=grid * scale,
        grid_weight=grid_weight.astype(np.float64, copy=False),
        grid_x_weight=grid_x_weight.astype(np.float64, copy=False),
        blocks=_blocks(
            x.take(positive),
            x_code.take(positive),
            t_index.take(positive),
            tx_index.take(positive),
            None if w is None else w.take(positive),
        ),
        ll_offset=float(weighted_x.sum()) * math.log(scale),
    )


def _blocks(
    x: FloatArray,
    x_code: NDArray[np.intp],
    t_index: NDArray[np.intp],
    tx_index: NDArray[np.intp],
    w: FloatArray | None,
) -> list[_Block]:
    return [
        _Block(
            x=x[start : start + _BLOCK],
            x_code=x_code[start : start + _BLOCK],
            t_index=t_index[start : start + _BLOCK],
            tx_index=tx_index[start : start + _BLOCK],
            w=None if w is None else w[start : start + _BLOCK],
        )
        for start in range(0, x.size, _BLOCK)
    ]


def _evaluate(problem: _Problem, u: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """Log-likelihood (scaled time), its gradient and Hessian in the log-parameters u."""
    r, alpha, a, b = np.exp(u)
    grad = np.zeros(4)
    hess = np.zeros((4, 4))

    # Terms of x alone: A1 + A2 of the paper, once per distinct frequency.
    xs, cx, total = problem.xs, problem.x_weight, problem.total_weight
    ll = float(
        cx @ (gammaln(r + xs) + gammaln(b + xs) - gammaln(a + b + xs))
        + total * (gammaln(a + b) - gammaln(r) - gammaln(b) + r * math.log(alpha))
    )
    psi_ab = digamma(a + b + xs)
    grad[0] = cx @ digamma(r + xs) - total * (digamma(r) - math.log(alpha))
    grad[1] = total * r / alpha
    grad[2] = total * digamma(a + b) - cx @ psi_ab
    grad[3] = cx @ (digamma(b + xs) - psi_ab) + total * (digamma(a + b) - digamma(b))
    tri_ab = cx @ polygamma(1, a + b + xs)
    hess[0, 0] = cx @ polygamma(1, r + xs) - total * polygamma(1, r)
    hess[0, 1] = total / alpha
    hess[1, 1] = -total * r / alpha**2
    hess[2, 2] = hess[2, 3] = total * polygamma(1, a + b) - tri_ab
    hess[3, 3] = (
        cx @ polygamma(1, b + xs) - tri_ab + total * (polygamma(1, a + b) - polygamma(1, b))
    )

    # A3 = -(r + x) log(alpha + T): aggregated per grid point.
    log_grid = np.log(alpha + problem.grid)
    inv_grid = 1.0 / (alpha + problem.grid)
    gw, gxw = problem.grid_weight, problem.grid_x_weight
    rx_grid = r * gw + gxw
    # As in _block_terms, einsum rather than BLAS: the grid is as long as the data when ages
    # are not whole periods.
    (ll_t, grad_r, grad_alpha, hess_r_alpha, hess_alpha) = np.einsum(
        "kn,kn->k",
        np.stack([rx_grid, gw, rx_grid, gw, rx_grid]),
        np.stack([log_grid, log_grid, inv_grid, inv_grid, inv_grid * inv_grid]),
    )
    ll -= float(ll_t)
    grad[0] -= grad_r
    grad[1] -= grad_alpha
    hess[0, 1] -= hess_r_alpha
    hess[1, 1] += hess_alpha

    # softplus(A4 - A3) for customers with x > 0, block by block. Per distinct frequency:
    # 1 / (b + x - 1) and log(a) - log(b + x - 1) (x = 0 only fills a slot: no block uses it).
    inv_bx = 1.0 / (b + np.maximum(problem.code_x, 1.0) - 1.0)
    tables = _Tables(log_grid, inv_grid, math.log(a) + np.log(inv_bx), inv_bx)
    for block in problem.blocks:
        block_ll, block_grad, block_hess = _block_terms(block, tables, r, a)
        ll += block_ll
        grad += block_grad
        hess += block_hess

    hess = np.triu(hess) + np.triu(hess, 1).T
    theta = np.array([r, alpha, a, b])
    # Chain rule to log-parameters: d/du = theta d/dtheta.
    hess_u = hess * np.outer(theta, theta) + np.diag(theta * grad)
    return ll, theta * grad, hess_u


class _Tables(NamedTuple):
    """Values shared by the customers of an evaluation, by grid point or distinct frequency."""

    log_grid: FloatArray
    inv_grid: FloatArray
    log_a_bx: FloatArray
    inv_bx: FloatArray


def _block_terms(
    block: _Block, tables: _Tables, r: float, a: float
) -> tuple[float, FloatArray, FloatArray]:
    """Sum over a block of softplus(z), z = A4 - A3, with its gradient and upper Hessian."""
    inv_t = tables.inv_grid.take(block.t_index)
    inv_tx = tables.inv_grid.take(block.tx_index)
    rx = r + block.x
    # Rows 0-2: dz/dr, dz/dalpha, dz/db (dz/da = 1/a is constant). Rows 3-5: what the second
    # derivatives of z (r-alpha, alpha-alpha, b-b) weigh by sigmoid(z).
    rows = np.empty((6, rx.size))
    d = tables.log_grid.take(block.t_index, out=rows[0])
    d -= tables.log_grid.take(block.tx_index)
    e = np.subtract(inv_t, inv_tx, out=rows[3])
    np.multiply(rx, e, out=rows[1])
    inv_bx = tables.inv_bx.take(block.x_code, out=rows[2])
    np.square(inv_bx, out=rows[5])
    np.negative(inv_bx, out=rows[2])
    inv_t += inv_tx
    np.multiply(rows[1], inv_t, out=rows[4])
    np.negative(rows[4], out=rows[4])

    z = tables.log_a_bx.take(block.x_code)
    z += rx * d
    # softplus(z) = max(z, 0) + log1p(q), sigmoid(z) = 1/(1+q) or q/(1+q), q = exp(-|z|).
    q = np.exp(-np.abs(z))
    softplus = np.log1p(q)
    softplus += np.maximum(z, 0.0)
    inv = 1.0 / (1.0 + q)
    s = np.where(z >= 0.0, inv, q * inv)
    curvature = q * inv * inv  # s * (1 - s)
    if block.w is not None:
        softplus *= block.w
        s *= block.w
        curvature *= block.w

    # einsum, not BLAS: OpenBLAS threads long dot products, and its spinning workers slow the
    # whole fit several times over when the cores are busy.
    by_s = np.einsum("kn,n->k", rows, s)
    varying = rows[:3]
    weighted = varying * curvature
    gram = np.einsum("in,jn->ij", weighted, varying)
    by_curvature = weighted.sum(axis=1) / a
    s_sum = float(s.sum())

    # Parameters (r, alpha, a, b); rows of z-derivatives map to (r, alpha, b).
    hess = np.empty((4, 4))
    hess[np.ix_(_VARYING, _VARYING)] = gram
    hess[2, _VARYING] = hess[_VARYING, 2] = by_curvature
    hess[2, 2] = (float(curvature.sum()) - s_sum) / a**2
    hess[0, 1] += by_s[3]
    hess[1, 1] += by_s[4]
    hess[3, 3] += by_s[5]
    grad = np.array([by_s[0], by_s[1], s_sum / a, by_s[2]])
    return float(softplus.sum()), grad, hess


def newton_maximize(
    objective: Objective, u: FloatArray, total_weight: float, tol: float, max_iter: int
) -> tuple[FloatArray, float, int, bool]:
    """Maximise a log-likelihood from u with Levenberg-damped Newton steps.

    ``objective`` returns the log-likelihood, gradient and Hessian at u; ``total_weight`` (the
    number of customers) turns them into means, so that damping and tolerances do not depend on
    the data size. Returns the maximiser, the log-likelihood there, the number of evaluations
    and whether a plain Newton step shorter than ``tol`` was reached.
    """
    ll, grad, hess = objective(u)
    norm = 1.0 / total_weight
    damping = 0.0
    for iteration in range(1, max_iter + 1):
        newton = _newton_step(grad * norm, hess * norm)
        if newton is not None and np.max(np.abs(newton)) < tol:
            # The quadratic model is exact to O(step^3): take its optimum as the answer.
            gain = float(grad @ newton + 0.5 * newton @ hess @ newton)
            return u + newton, ll + gain, iteration, True
        if newton is None or damping > 0.0:
            step = _damped_step(grad * norm, hess * norm, damping)
        else:
            step = newton
        step *= min(1.0, _MAX_STEP / float(np.max(np.abs(step))))
        trial = u + step
        ll_trial, grad_trial, hess_trial = objective(trial)
        # Losses within the rounding error of a long sum are accepted: on a flat ridge they are
        # all a step can show, and refusing them would stall the fit.
        if ll_trial >= ll - _ROUNDING * abs(ll):
            u, ll, grad, hess = trial, ll_trial, grad_trial, hess_trial
            damping = damping * 0.1 if damping > 1e-6 else 0.0
        else:
            damping = max(10.0 * damping, 1e-3)
    return u, ll, max_iter, False


def _newton_step(grad: FloatArray, hess: FloatArray) -> FloatArray | None:
    """The Newton ascent step, or None where the Hessian is not negative definite."""
    try:
        chol = np.linalg.cholesky(-hess)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.solve(chol.T, np.linalg.solve(chol, grad))


def _damped_step(grad: FloatArray, hess: FloatArray, damping: float) -> FloatArray:
    """Ascent step solving (-H + damping I) step = grad, damping raised until that is definite."""
    damping = max(damping, 1e-6)
    while True:
        step = _newton_step(grad, hess - damping * np.eye(grad.size))
        if step is not None:
            return step
        damping *= 10.0
