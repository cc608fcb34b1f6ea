"""Time the behaviour models (propensity, next order, cross-sell, channels) on synthetic data.

Run: `.venv/bin/python -m bench.models_bench [customers]` (default 1 000 000). Prints one line
per step with its seconds, and the quality figures of the back-tests. The data comes from the
seeded test factories, so the run is repeatable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from tests.worker.models.factories_behaviour import purchase_histories
from worker.models.channels import acquisition_quality, attribute_revenue, touch_quality
from worker.models.crosssell import fit_cross_sell, item_associations, recommend
from worker.models.features import (
    MODEL_FEATURES,
    CustomerFeatures,
    Events,
    Lines,
    Transactions,
    adoptions,
    customer_features,
    make_touches,
    ordered_within,
)
from worker.models.next_order import (
    evaluate_next_order,
    fit_gap_prior,
    predict_next_order,
    purchase_rhythm,
)
from worker.models.propensity import run_propensity

T = TypeVar("T")
HORIZON = 90.0


def timed(label: str, step: Callable[[], T]) -> T:
    """Run one step and print how long it took."""
    start, cpu = time.perf_counter(), time.process_time()
    result = step()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    # CPU seconds next to wall seconds: on a busy machine the wall clock overstates the cost.
    print(f"{label:<50} {wall:7.2f} s wall {used:7.2f} s cpu", flush=True)
    return result


def main(n_customers: int) -> None:
    """Generate the population and time every model on it."""
    data = timed("generate data", lambda: purchase_histories(n_customers, seed=0, n_categories=200))
    tx, lines, events, as_of = data.tx, data.lines, data.events, data.end
    print(
        f"customers {n_customers:,}  transactions {tx.t.size:,}  lines {lines.t.size:,}  "
        f"events {events.t.size:,}"
    )

    timed(
        "features at one cutoff",
        lambda: customer_features(tx, cutoff=as_of, adopted=adoptions(lines), events=events),
    )
    run = timed(
        "propensity: back-test, fit, score, reasons",
        lambda: run_propensity(tx, as_of=as_of, horizon=HORIZON, lines=lines, events=events),
    )
    m = run.metrics
    print(
        f"  AUC {m.auc:.4f} (recency {m.recency_auc:.4f})  top-decile lift "
        f"{m.lift_top_decile:.3f} (recency {m.recency_lift_top_decile:.3f})  reactivation AUC "
        f"{m.reactivation_auc:.4f}"
    )
    compare_gradient_boosting(tx, lines, events, as_of)

    rhythm = timed("next order: rhythm", lambda: purchase_rhythm(tx, cutoff=as_of))
    prior = timed("next order: fit prior", lambda: fit_gap_prior(rhythm))
    timed("next order: predict", lambda: predict_next_order(rhythm, prior, cutoff=as_of))
    next_metrics = evaluate_next_order(tx, cutoff=as_of - 180, horizon=180)
    print(
        f"  median abs error {next_metrics.median_abs_error_days:.1f} days "
        f"(naive {next_metrics.naive_median_abs_error_days:.1f})"
    )

    timed("cross-sell: associations (support/confidence/lift)", lambda: item_associations(lines))
    model = timed("cross-sell: fit sequences", lambda: fit_cross_sell(lines))
    active = np.ones(lines.n_items, dtype=bool)
    timed(
        "cross-sell: recommend top 5",
        lambda: recommend(model, lines, as_of=as_of, active=active),
    )

    rng = np.random.default_rng(1)
    n_touches = 5 * n_customers
    touches = make_touches(
        rng.integers(0, n_customers, n_touches),
        rng.uniform(tx.t.min() - 30, as_of, n_touches),
        rng.integers(0, 11, n_touches),
        n_customers=n_customers,
        n_channels=11,
    )
    clv = rng.gamma(2.0, 5_000.0, n_customers)
    churn = run.scores.churn_risk
    timed(
        "channels: acquisition quality",
        lambda: acquisition_quality(
            tx,
            rng.integers(-1, 11, n_customers),
            n_channels=11,
            predicted_clv=clv,
            churn_risk=churn,
        ),
    )
    timed(
        "channels: touch quality",
        lambda: touch_quality(tx, touches, predicted_clv=clv, churn_risk=churn),
    )
    timed("channels: attribution (3 schemes)", lambda: attribute_revenue(tx, touches))


def compare_gradient_boosting(tx: Transactions, lines: Lines, events: Events, as_of: float) -> None:
    """The alternative classifier on the same back-test, for the record."""
    adopted = adoptions(lines)
    train = customer_features(tx, cutoff=as_of - 2 * HORIZON, adopted=adopted, events=events)
    held_out = customer_features(tx, cutoff=as_of - HORIZON, adopted=adopted, events=events)
    labels = ordered_within(tx, cutoff=as_of - 2 * HORIZON, horizon=HORIZON)
    eval_labels = ordered_within(tx, cutoff=as_of - HORIZON, horizon=HORIZON)
    rows = np.flatnonzero(train.has_orders)[:200_000]
    classifier = HistGradientBoostingClassifier()
    timed(
        "gradient boosting: fit 200k rows",
        lambda: classifier.fit(_matrix(train)[rows], labels[rows]),
    )
    scored = held_out.has_orders
    p = timed(
        "gradient boosting: predict all",
        lambda: classifier.predict_proba(_matrix(held_out)[scored])[:, 1],
    )
    print(f"  gradient boosting AUC {roc_auc_score(eval_labels[scored], p):.4f}")


def _matrix(features: CustomerFeatures) -> NDArray[np.float64]:
    return np.column_stack([features.column(name) for name in MODEL_FEATURES])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
