"""Predictions for one shard with the run's fitted models: one value per customer and column.

Customers without a sale before the as-of moment (prospects) get no purchase-model values:
their entries are NaN (RFM scores 0), which the write-back stores as NULL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from worker.models import bgnbd, gamma_gamma
from worker.models.crosssell import CrossSell, recommend
from worker.models.features import adoptions, customer_features
from worker.models.next_order import predict_next_order, purchase_rhythm
from worker.models.propensity import REASONS_PER_CUSTOMER, Reasons, score_propensity
from worker.models.rfm import segments
from worker.pipeline.extract import ShardData
from worker.pipeline.figures import StepTimer
from worker.pipeline.fit import (
    CLV_MONTHS,
    HORIZON_DAYS,
    MONTHLY_DISCOUNT_RATE,
    Models,
    apply_cuts,
)
from worker.pipeline.fit_inputs import bgnbd_customers, bgnbd_data

FloatArray = NDArray[np.float64]
Scores = NDArray[np.int8]
CROSS_SELL_K = 5


@dataclass(frozen=True, slots=True)
class ShardScores:
    """Per-customer results of one shard, in the order of its customer ids."""

    recency_days: FloatArray
    frequency: FloatArray
    monetary: FloatArray
    rfm_r: Scores
    rfm_f: Scores
    rfm_m: Scores
    segment: Scores
    p_alive: FloatArray
    expected_purchases: FloatArray
    clv: FloatArray
    churn_risk: FloatArray
    reactivation: FloatArray
    next_order_day: FloatArray
    reasons: Reasons
    cross_sell: CrossSell


def predict_shard(
    data: ShardData, models: Models, *, cutoff: float, timer: StepTimer
) -> ShardScores:
    """Every score of every customer of the shard as of the cutoff."""
    n = data.n_customers
    with timer.step("features"):
        features = customer_features(
            data.tx, cutoff=cutoff, adopted=adoptions(data.lines), events=data.events
        )
    with timer.step("rfm"):
        rfm = _rfm(models, features.recency_days, features.frequency, features.monetary)
    with timer.step("bgnbd"):
        p_alive, expected, clv = _purchases(data, models, cutoff)
    with timer.step("propensity"):
        if models.propensity is None:
            churn = reactivation = np.full(n, np.nan)
            reasons = Reasons(
                np.full((n, REASONS_PER_CUSTOMER), -1, dtype=np.int16),
                np.full((n, REASONS_PER_CUSTOMER), np.nan),
            )
        else:
            scored = score_propensity(models.propensity, features)
            churn, reactivation, reasons = scored.churn_risk, scored.reactivation, scored.reasons
    with timer.step("next_order"):
        next_day = np.full(n, np.nan)
        # purchase_rhythm needs at least one sale to read (it indexes past an empty log).
        if models.gap_prior is not None and (data.tx.amount > 0).any():
            rhythm = purchase_rhythm(data.tx, cutoff=cutoff)
            next_day = predict_next_order(rhythm, models.gap_prior, cutoff=cutoff)
    with timer.step("cross_sell"):
        cross_sell = _cross_sell(data, models, cutoff)
    return ShardScores(
        recency_days=features.recency_days,
        frequency=features.frequency,
        monetary=features.monetary,
        rfm_r=rfm[0],
        rfm_f=rfm[1],
        rfm_m=rfm[2],
        segment=rfm[3],
        p_alive=p_alive,
        expected_purchases=expected,
        clv=clv,
        churn_risk=churn,
        reactivation=reactivation,
        next_order_day=next_day,
        reasons=reasons,
        cross_sell=cross_sell,
    )


def _rfm(
    models: Models, recency: FloatArray, frequency: FloatArray, monetary: FloatArray
) -> tuple[Scores, Scores, Scores, Scores]:
    """Quintile scores from the run's population-wide cuts; 0 (and segment −1) without orders."""
    n = recency.size
    r, f, m = (np.zeros(n, dtype=np.int8) for _ in range(3))
    segment = np.full(n, -1, dtype=np.int8)
    buyers = ~np.isnan(recency)
    if models.rfm is None or not buyers.any():
        return r, f, m, segment
    r[buyers] = apply_cuts(models.rfm.recency, -recency[buyers])
    f[buyers] = apply_cuts(models.rfm.frequency, frequency[buyers])
    m[buyers] = apply_cuts(models.rfm.monetary, monetary[buyers])
    # FM is the mean of F and M rounded half up, as in rfm.rfm_scores.
    fm = (f[buyers].astype(np.int16) + m[buyers] + 1) // 2
    segment[buyers] = segments(r[buyers], fm)
    return r, f, m, segment


def _purchases(
    data: ShardData, models: Models, cutoff: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """P(alive), expected purchases in the horizon and discounted CLV (minor units)."""
    n = data.n_customers
    p_alive, expected, clv = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    if models.purchases is None:
        return p_alive, expected, clv
    x, recency, age, monetary = bgnbd_data(data.tx, cutoff=cutoff)
    rows = bgnbd_customers(data.tx)
    p_alive[rows] = bgnbd.p_alive(models.purchases, x, recency, age)
    expected[rows] = bgnbd.conditional_expected_purchases(
        models.purchases, HORIZON_DAYS, x, recency, age
    )
    if models.spend is not None:
        value = gamma_gamma.customer_lifetime_value(
            models.purchases,
            models.spend,
            x,
            recency,
            age,
            monetary,
            months=CLV_MONTHS,
            discount_rate=MONTHLY_DISCOUNT_RATE,
            time_unit="D",
        )
        # q ≤ 1 has no finite population mean spend: no value is better than an infinite one.
        clv[rows] = np.where(np.isfinite(value), value, np.nan)
    return p_alive, expected, clv


def _cross_sell(data: ShardData, models: Models, cutoff: float) -> CrossSell:
    n = data.n_customers
    if models.cross_sell is None:
        return CrossSell(
            item=np.full((n, CROSS_SELL_K), -1, dtype=np.int64),
            score=np.full((n, CROSS_SELL_K), np.nan),
            due_in_days=np.full((n, CROSS_SELL_K), np.nan),
        )
    return recommend(
        models.cross_sell, data.lines, as_of=cutoff, active=models.catalog.active, k=CROSS_SELL_K
    )
