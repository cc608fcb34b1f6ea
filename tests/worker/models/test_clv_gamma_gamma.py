"""Gamma-Gamma spend and CLV: parameter recovery and agreement with lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter
from numpy.typing import NDArray
from scipy.stats import chi2

from worker.models import bgnbd, gamma_gamma

# The CDNOW estimates of Fader, Hardie & Lee (2005).
SPEND = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)
PURCHASES = bgnbd.BGNBDParams(r=0.24, alpha=4.41, a=0.79, b=2.43)

Customers = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def simulated_customers(seed: int, n: int = 20_000) -> Customers:
    """(frequency, recency, T, monetary_value) with BG/NBD purchases and Gamma-Gamma spend."""
    rng = np.random.default_rng(seed)
    x, recency, age = bgnbd.simulate(PURCHASES, n, np.ceil(rng.uniform(26.0, 78.0, n)), rng)
    recency = np.floor(recency)
    # nu ~ Gamma(q, v); the mean of x Gamma(p, nu) values is Gamma(p x, x nu).
    nu = rng.gamma(SPEND.q, 1.0 / SPEND.v, n)
    repeat = x > 0
    money = np.zeros(n)
    money[repeat] = rng.gamma(SPEND.p * x[repeat], 1.0 / (nu[repeat] * x[repeat]))
    return x, recency, age, money


def test_fit_recovers_the_parameters_of_simulated_spend() -> None:
    x, _, _, money = simulated_customers(seed=21, n=60_000)
    fitted = gamma_gamma.fit(x, money)
    assert fitted.converged
    np.testing.assert_allclose(
        [fitted.p, fitted.q, fitted.v], [SPEND.p, SPEND.q, SPEND.v], rtol=0.1
    )
    repeat = x > 0
    true_ll = gamma_gamma.log_likelihood(SPEND, x[repeat], money[repeat]).sum()
    assert 0 <= 2 * (fitted.log_likelihood - true_ll) < chi2.ppf(0.999, df=3)


def test_fit_equals_lifetimes_parameters_and_log_likelihood() -> None:
    x, _, _, money = simulated_customers(seed=22)
    repeat = x > 0
    ours = gamma_gamma.fit(x, money)
    theirs = GammaGammaFitter().fit(x[repeat], money[repeat])
    np.testing.assert_allclose([ours.p, ours.q, ours.v], theirs.params_.to_numpy(), rtol=1e-4)
    # lifetimes keeps the mean negative log-likelihood, in the data's own units.
    their_total = -repeat.sum() * theirs._negative_log_likelihood_
    np.testing.assert_allclose(ours.log_likelihood, their_total, rtol=1e-8)
    np.testing.assert_allclose(
        gamma_gamma.conditional_expected_average_profit(ours, x, money),
        theirs.conditional_expected_average_profit(x, money),
        rtol=1e-4,
    )


def test_customers_without_repeat_purchases_do_not_change_the_fit() -> None:
    x, _, _, money = simulated_customers(seed=23, n=5_000)
    repeat = x > 0
    with_everyone = gamma_gamma.fit(x, money)
    repeaters_only = gamma_gamma.fit(x[repeat], money[repeat])
    assert with_everyone == repeaters_only


@pytest.mark.parametrize(
    ("time_unit", "months", "discount_rate"),
    [("D", 12, 0.01), ("W", 6, 0.0), ("W", 24, 0.02)],
)
def test_clv_equals_lifetimes(
    time_unit: gamma_gamma.TimeUnit, months: int, discount_rate: float
) -> None:
    x, recency, age, money = simulated_customers(seed=24, n=3_000)
    if time_unit == "D":
        recency, age = recency * 7.0, age * 7.0
    purchases = BetaGeoFitter().fit(x, recency, age)
    repeat = x > 0
    spend = GammaGammaFitter().fit(x[repeat], money[repeat])
    theirs = spend.customer_lifetime_value(
        purchases,
        pd.Series(x),
        pd.Series(recency),
        pd.Series(age),
        pd.Series(money),
        time=months,
        discount_rate=discount_rate,
        freq=time_unit,
    ).to_numpy()
    ours = gamma_gamma.customer_lifetime_value(
        bgnbd.BGNBDParams(**{k: float(v) for k, v in purchases.params_.items()}),
        gamma_gamma.GammaGammaParams(**{k: float(v) for k, v in spend.params_.items()}),
        x,
        recency,
        age,
        money,
        months=months,
        discount_rate=discount_rate,
        time_unit=time_unit,
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-7)


def test_expected_spend_shrinks_towards_the_population_mean() -> None:
    population_mean = SPEND.p * SPEND.v / (SPEND.q - 1.0)
    expected = gamma_gamma.conditional_expected_average_profit(
        SPEND, np.array([0, 1, 100]), np.array([0.0, 500.0, 500.0])
    )
    assert expected[0] == pytest.approx(population_mean)
    assert population_mean < expected[1] < expected[2] < 500.0
    assert expected[2] == pytest.approx(500.0, rel=0.01)


def test_fit_rejects_non_positive_spend_of_repeat_customers() -> None:
    with pytest.raises(ValueError, match="positive"):
        gamma_gamma.fit(np.array([1, 2, 0]), np.array([10.0, 0.0, 0.0]))
