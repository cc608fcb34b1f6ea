"""BG/NBD: parameter recovery, agreement with lifetimes' BetaGeoFitter, numerical safety."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from lifetimes import BetaGeoFitter
from numpy.typing import NDArray
from scipy.stats import chi2

from worker.models import bgnbd

# The CDNOW estimates of Fader, Hardie & Lee (2005).
CDNOW = bgnbd.BGNBDParams(r=0.24, alpha=4.41, a=0.79, b=2.43)

Data = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]


def simulated_customers(seed: int, n: int = 20_000, whole_periods: bool = False) -> Data:
    """Customers from the BG/NBD process with CDNOW parameters, ages of 26 to 78 weeks."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(26.0, 78.0, n)
    if whole_periods:
        age = np.ceil(age)
    x, recency, age = bgnbd.simulate(CDNOW, n, age, rng)
    if whole_periods:
        recency = np.floor(recency)
    return x, recency, age


def lifetimes_fit(data: Data) -> BetaGeoFitter:
    x, recency, age = data
    return BetaGeoFitter().fit(x, recency, age)


def as_params(fitter: BetaGeoFitter) -> bgnbd.BGNBDParams:
    return bgnbd.BGNBDParams(**{k: float(v) for k, v in fitter.params_.items()})


def values(params: bgnbd.BGNBDParams) -> NDArray[np.float64]:
    return np.array([params.r, params.alpha, params.a, params.b])


def test_fit_recovers_the_parameters_of_simulated_data() -> None:
    data = simulated_customers(seed=7)
    fitted = bgnbd.fit(*data)
    assert fitted.converged
    np.testing.assert_allclose([fitted.r, fitted.alpha], [CDNOW.r, CDNOW.alpha], rtol=0.1)
    np.testing.assert_allclose([fitted.a, fitted.b], [CDNOW.a, CDNOW.b], rtol=0.3)
    # Likelihood-ratio test: the true parameters lie in the 99.9% confidence region.
    true_ll = bgnbd.log_likelihood(CDNOW, *data).sum()
    assert 0 <= 2 * (fitted.log_likelihood - true_ll) < chi2.ppf(0.999, df=4)


@pytest.mark.parametrize("whole_periods", [True, False], ids=["whole-periods", "continuous"])
def test_fit_equals_lifetimes_parameters_and_log_likelihood(whole_periods: bool) -> None:
    data = simulated_customers(seed=11, whole_periods=whole_periods)
    ours = bgnbd.fit(*data)
    theirs = lifetimes_fit(data)
    np.testing.assert_allclose(values(ours), theirs.params_.to_numpy(), rtol=1e-4)

    x, recency, age = data
    n = x.size
    # lifetimes reports the mean negative log-likelihood in time scaled so that max(T) = 1.
    their_total = -n * theirs._negative_log_likelihood_ - x.sum() * math.log(age.max())
    np.testing.assert_allclose(ours.log_likelihood, their_total, rtol=1e-8)
    at_their_params = -n * BetaGeoFitter._negative_log_likelihood(
        np.log(theirs.params_.to_numpy()), x, recency, age, np.ones(n), 0.0
    )
    np.testing.assert_allclose(
        bgnbd.log_likelihood(as_params(theirs), *data).sum(), at_their_params, rtol=1e-10
    )


def test_predictions_equal_lifetimes() -> None:
    data = simulated_customers(seed=12, n=5_000, whole_periods=True)
    theirs = lifetimes_fit(data)
    params = as_params(theirs)
    x, recency, age = data
    np.testing.assert_allclose(
        bgnbd.p_alive(params, *data),
        theirs.conditional_probability_alive(x, recency, age),
        rtol=1e-9,
    )
    for t in (1.0, 10.0, 52.0, 520.0):
        np.testing.assert_allclose(
            bgnbd.conditional_expected_purchases(params, t, *data),
            theirs.conditional_expected_number_of_purchases_up_to_time(t, x, recency, age),
            rtol=1e-7,
            err_msg=f"t={t}",
        )
    horizons = np.array([0.5, 5.0, 50.0, 500.0])
    np.testing.assert_allclose(
        bgnbd.expected_purchases(params, horizons),
        theirs.expected_number_of_purchases_up_to_time(horizons),
        rtol=1e-7,
    )


def test_several_horizons_at_once_equal_one_horizon_at_a_time() -> None:
    data = simulated_customers(seed=13, n=2_000, whole_periods=True)
    horizons = np.array([4.0, 13.0, 26.0])
    together = bgnbd.conditional_expected_purchases(CDNOW, horizons[:, None], *data)
    assert together.shape == (3, 2_000)
    for row, t in zip(together, horizons, strict=True):
        np.testing.assert_allclose(row, bgnbd.conditional_expected_purchases(CDNOW, t, *data))


def test_huge_frequencies_and_long_histories_raise_no_warning() -> None:
    x, recency, age = simulated_customers(seed=14, n=3_000)
    x = np.concatenate([x, [5_000, 5_000, 4_000, 0]])
    recency = np.concatenate([recency, [9_999.0, 10.0, 9_000.0, 0.0]])
    age = np.concatenate([age, [10_000.0] * 4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = bgnbd.fit(x, recency, age)
        outputs = [
            bgnbd.log_likelihood(fitted, x, recency, age),
            bgnbd.p_alive(fitted, x, recency, age),
            bgnbd.conditional_expected_purchases(fitted, 100.0, x, recency, age),
            bgnbd.conditional_expected_purchases(fitted, 1e6, x, recency, age),
            bgnbd.next_purchase_time(fitted, x, age),
            bgnbd.expected_purchases(fitted, [1.0, 1e6]),
        ]
    assert fitted.converged and math.isfinite(fitted.log_likelihood)
    for output in outputs:
        assert np.all(np.isfinite(output))
    alive = outputs[1][-4:]
    # Buying 5000 times up to the last day: alive; stopping on day 10 of 10000: dead.
    assert alive[0] > 0.99 and alive[1] < 1e-12 and alive[3] == 1.0


def test_weights_equal_repeated_customers() -> None:
    x, recency, age = simulated_customers(seed=15, n=4_000, whole_periods=True)
    key = np.stack([x, recency, age], axis=1)
    distinct, counts = np.unique(key, axis=0, return_counts=True)
    expanded = bgnbd.fit(x, recency, age)
    weighted = bgnbd.fit(distinct[:, 0], distinct[:, 1], distinct[:, 2], weights=counts)
    np.testing.assert_allclose(values(weighted), values(expanded), rtol=1e-7)
    np.testing.assert_allclose(weighted.log_likelihood, expanded.log_likelihood, rtol=1e-10)


def test_changing_the_time_unit_only_rescales_alpha() -> None:
    x, recency, age = simulated_customers(seed=16, n=5_000)
    weeks = bgnbd.fit(x, recency, age)
    days = bgnbd.fit(x, recency * 7.0, age * 7.0)
    np.testing.assert_allclose(
        values(days), [weeks.r, weeks.alpha * 7.0, weeks.a, weeks.b], rtol=1e-7
    )
    # Densities of purchase times are per unit of time: one factor 1/7 per repeat purchase.
    np.testing.assert_allclose(
        days.log_likelihood, weeks.log_likelihood - x.sum() * math.log(7.0), rtol=1e-10
    )


def test_simulated_purchases_average_to_the_expected_number() -> None:
    rng = np.random.default_rng(17)
    x, _, _ = bgnbd.simulate(CDNOW, 200_000, 52.0, rng)
    expected = bgnbd.expected_purchases(CDNOW, 52.0)
    assert x.mean() == pytest.approx(expected, rel=0.02)


def test_next_purchase_time_is_the_median_wait_of_an_alive_customer() -> None:
    rng = np.random.default_rng(18)
    frequency, age = 3.0, 30.0
    # Given alive, the rate is Gamma(r + x, alpha + T) and the wait is exponential in it.
    rate = rng.gamma(CDNOW.r + frequency, 1.0 / (CDNOW.alpha + age), 400_000)
    wait = rng.exponential(1.0 / rate)
    predicted = bgnbd.next_purchase_time(CDNOW, np.array([frequency]), np.array([age]))
    assert predicted[0] == pytest.approx(np.median(wait), rel=0.02)


def test_customers_without_repeat_purchase_are_surely_alive() -> None:
    alive = bgnbd.p_alive(CDNOW, np.array([0, 0, 2]), np.array([0.0, 0.0, 5.0]), np.full(3, 40.0))
    np.testing.assert_array_equal(alive[:2], [1.0, 1.0])
    assert 0.0 < alive[2] < 1.0


@pytest.mark.parametrize(
    ("frequency", "recency", "age"),
    [([1.5], [1.0], [2.0]), ([-1], [0.0], [2.0]), ([1], [3.0], [2.0]), ([1], [-1.0], [2.0])],
    ids=["fractional-frequency", "negative-frequency", "recency-after-T", "negative-recency"],
)
def test_fit_rejects_impossible_histories(
    frequency: list[float], recency: list[float], age: list[float]
) -> None:
    with pytest.raises(ValueError):
        bgnbd.fit(frequency, recency, age)


def test_a_warm_started_fit_needs_at_most_three_full_data_evaluations() -> None:
    # Exact Newton steps from a subsample fit converge quadratically; a wrong Hessian would not.
    data = simulated_customers(seed=19, n=200_000, whole_periods=True)
    fitted = bgnbd.fit(*data)
    assert fitted.converged
    assert fitted.iterations <= 3
