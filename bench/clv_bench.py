"""Customer-value models against lifetimes on one synthetic transaction log.

Run from the repository root: ``python -m bench.clv_bench [--customers N] [--repeats K]``.

The log has N customers with about 10 purchases each over three years, drawn from a BG/NBD
purchase process with Gamma-Gamma spend, in random row order. Our steps are timed K times
(median reported); lifetimes' summary and BetaGeoFitter.fit once, on the same data, with the
pandas DataFrame built outside the timed part.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from worker.models import bgnbd, gamma_gamma
from worker.models.summary import RFMSummary, summary_from_transactions

Result = TypeVar("Result")

FIRST_DAY = 18_628  # 2021-01-01
WINDOW_DAYS = 3 * 365
PURCHASES = bgnbd.BGNBDParams(r=2.0, alpha=60.0, a=1.0, b=10.0)
SPEND = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)


def transaction_log(
    customers: int, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """(customer, day, amount) rows of a BG/NBD log, shuffled."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, WINDOW_DAYS - 30, customers)
    age = (WINDOW_DAYS - first).astype(np.float64)
    rate = rng.gamma(PURCHASES.r, 1.0 / PURCHASES.alpha, customers)
    arrivals = rng.poisson(rate * age)
    repeats = np.minimum(arrivals, rng.geometric(rng.beta(PURCHASES.a, PURCHASES.b, customers)))
    # The first k of n uniform times on [0, age] are age * S_k / S_(n+1), S_k sums of Exp(1).
    owner = np.repeat(np.arange(customers), repeats)
    gaps = rng.exponential(1.0, owner.size)
    own_sum = np.bincount(owner, weights=gaps, minlength=customers)
    partial_sums = np.cumsum(gaps) - (np.cumsum(own_sum) - own_sum)[owner]
    total = own_sum + rng.gamma(arrivals - repeats + 1.0)
    offset = np.floor(age[owner] * partial_sums / total[owner]).astype(np.int64)

    customer = np.concatenate([np.arange(customers), owner])
    day = FIRST_DAY + np.concatenate([first, first[owner] + offset])
    nu = rng.gamma(SPEND.q, 1.0 / SPEND.v, customers)
    amount = rng.gamma(SPEND.p, 1.0 / nu[customer]).round(2) + 0.01
    order = rng.permutation(customer.size)
    return customer[order], day[order], amount[order]


def median_seconds(repeats: int, step: Callable[[], Result]) -> tuple[float, Result]:
    """Median wall time of `repeats` runs, and the last result."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def once(step: Callable[[], Result]) -> tuple[float, Result]:
    return median_seconds(1, step)


def predictions(
    summary: RFMSummary, purchases: bgnbd.BGNBDParams, spend: gamma_gamma.GammaGammaParams
) -> NDArray[np.float64]:
    """P(alive), expected purchases next 30 days and 12-month CLV of every customer."""
    x, recency, age = summary.frequency, summary.recency, summary.T
    assert summary.monetary_value is not None
    alive = bgnbd.p_alive(purchases, x, recency, age)
    expected = bgnbd.conditional_expected_purchases(purchases, 30.0, x, recency, age)
    clv = gamma_gamma.customer_lifetime_value(
        purchases, spend, x, recency, age, summary.monetary_value, months=12
    )
    return np.stack([alive, expected, clv])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    """Run the benchmark and print one line per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-lifetimes", action="store_true")
    args = parser.parse_args()

    customer, day, amount = transaction_log(args.customers, args.seed)
    print(f"customers {args.customers:,}  transactions {customer.size:,}  repeats {args.repeats}")

    t_summary, summary = median_seconds(
        args.repeats, lambda: summary_from_transactions(customer, day, amount)
    )
    x, recency, age = summary.frequency, summary.recency, summary.T
    assert summary.monetary_value is not None
    money = summary.monetary_value
    t_fit, purchases = median_seconds(args.repeats, lambda: bgnbd.fit(x, recency, age))
    t_spend, spend = median_seconds(args.repeats, lambda: gamma_gamma.fit(x, money))
    t_predict, _ = median_seconds(args.repeats, lambda: predictions(summary, purchases, spend))
    print(f"ours      summary        {t_summary:8.3f} s")
    print(
        f"ours      BG/NBD fit     {t_fit:8.3f} s  "
        f"(r={purchases.r:.6g} alpha={purchases.alpha:.6g} a={purchases.a:.6g} "
        f"b={purchases.b:.6g}, {purchases.iterations} full-data evaluations)"
    )
    print(
        f"ours      Gamma-Gamma    {t_spend:8.3f} s  "
        f"(p={spend.p:.6g} q={spend.q:.6g} v={spend.v:.6g})"
    )
    print(f"ours      predictions    {t_predict:8.3f} s  (p_alive + E[purchases 30d] + CLV 12m)")
    print(f"peak RSS after ours      {peak_rss_mb():8.0f} MB")
    if args.skip_lifetimes:
        return

    import pandas as pd
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    frame = pd.DataFrame(
        {"customer": customer, "date": day.astype("datetime64[D]"), "amount": amount}
    )
    t_lt_summary, lt_summary = once(
        lambda: summary_data_from_transaction_data(frame, "customer", "date", "amount")
    )
    same_summary = bool(
        np.array_equal(lt_summary.index.to_numpy(), summary.customer)
        and all(
            np.array_equal(lt_summary[c].to_numpy(), getattr(summary, c))
            for c in ("frequency", "recency", "T")
        )
        and np.allclose(lt_summary["monetary_value"].to_numpy(), money, rtol=1e-12, atol=0)
    )
    t_lt_fit, fitter = once(lambda: BetaGeoFitter().fit(x, recency, age))
    ours = np.array([purchases.r, purchases.alpha, purchases.a, purchases.b])
    theirs = fitter.params_[["r", "alpha", "a", "b"]].to_numpy()
    print(f"lifetimes summary        {t_lt_summary:8.3f} s  (identical to ours: {same_summary})")
    print(f"lifetimes BG/NBD fit     {t_lt_fit:8.3f} s")
    print(f"ratio fit                {t_lt_fit / t_fit:8.1f} x  (lifetimes / ours)")
    print(
        f"ratio summary + fit      "
        f"{(t_lt_summary + t_lt_fit) / (t_summary + t_fit):8.1f} x  (lifetimes / ours)"
    )
    print(f"max relative param diff  {np.max(np.abs(ours / theirs - 1.0)):8.1e}")
    print(f"peak RSS                 {peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
