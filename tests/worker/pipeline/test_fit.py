"""The global fit's pieces: RFM edges that reproduce population ranks, models as arrays, and the
channel report over everyone."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.worker.models.factories_behaviour import purchase_histories
from worker.artifacts import from_npz, to_npz
from worker.models.features import Events, Lines, Touches, Transactions
from worker.models.rfm import quintile_scores
from worker.pipeline.catalog import Catalog
from worker.pipeline.channel_report import channel_inputs, channel_report
from worker.pipeline.extract import ShardData
from worker.pipeline.fit import apply_cuts, fit_models, pack_models, score_cuts, unpack_models
from worker.pipeline.fit_inputs import fit_inputs

values = arrays(
    np.float64,
    st.integers(1, 200),
    elements=st.one_of(st.integers(0, 30).map(float), st.floats(0, 1e6, allow_nan=False)),
)


@settings(max_examples=200, deadline=None)
@given(values)
def test_score_cuts_give_back_every_population_score(population: np.ndarray) -> None:
    scores = quintile_scores(population)

    cuts = score_cuts(population, scores)

    assert np.array_equal(apply_cuts(cuts, population), scores)


def _shard(seed: int, n: int = 300) -> ShardData:
    data = purchase_histories(n, seed=seed, n_categories=6)
    rng = np.random.default_rng(seed)
    touches = Touches(
        data.events.customer, data.events.t, rng.integers(0, 3, data.events.t.size), n, 3
    )
    return ShardData(
        customer_ids=np.arange(1, n + 1) + 1000 * seed,
        acquisition=rng.integers(-1, 3, n),
        tx=data.tx,
        lines=data.lines,
        events=data.events,
        touches=touches,
    )


CATALOG = Catalog(
    product_ids=np.arange(101, 107),
    active=np.array([True, True, True, True, False, True]),
    channel_ids=np.array([1, 2, 3]),
    channel_codes=("web", "app", "email"),
)


def test_fitted_models_survive_the_trip_through_npz_bytes() -> None:
    shard = _shard(1)
    cutoff = float(np.ceil(shard.tx.t.max()))
    inputs = fit_inputs(shard, cutoff=cutoff, sample_rate=1.0, seed=0)
    models = fit_models([inputs], catalog=CATALOG, cutoff=cutoff, seed=0).models

    again = unpack_models(from_npz(to_npz(pack_models(models))))

    assert again.purchases == models.purchases and again.spend == models.spend
    assert again.gap_prior == models.gap_prior
    assert again.propensity is not None and models.propensity is not None
    assert again.propensity.features == models.propensity.features
    assert all(
        np.array_equal(a, b)
        for a, b in zip(again.propensity.edges, models.propensity.edges, strict=True)
    )
    assert np.array_equal(again.propensity.coef, models.propensity.coef)
    assert again.cross_sell is not None and models.cross_sell is not None
    assert (again.cross_sell.weights != models.cross_sell.weights).nnz == 0
    assert again.catalog.channel_codes == ("web", "app", "email")
    assert np.array_equal(again.catalog.active, CATALOG.active)


def test_the_fit_of_two_shards_is_the_fit_of_their_union() -> None:
    first, second = _shard(1), _shard(2)
    cutoff = float(np.ceil(max(first.tx.t.max(), second.tx.t.max())))
    parts = [fit_inputs(s, cutoff=cutoff, sample_rate=1.0, seed=0) for s in (first, second)]
    whole = fit_inputs(_union(first, second), cutoff=cutoff, sample_rate=1.0, seed=0)

    split = fit_models(parts, catalog=CATALOG, cutoff=cutoff, seed=0)
    joined = fit_models([whole], catalog=CATALOG, cutoff=cutoff, seed=0)

    assert split.params == joined.params
    assert split.metrics == joined.metrics
    assert split.metrics["customers"] == 600


def test_channel_report_counts_each_channel_over_every_shard() -> None:
    # Customers 0, 1 in one shard, 2 in another; acquisition web, unknown, app.
    def shard(
        ids: list[int],
        acquisition: list[int],
        sales: list[tuple[int, float, float]],
        touches: list[tuple[int, float, int]],
    ) -> ShardData:
        n = len(ids)
        tx = Transactions(
            np.array([s[0] for s in sales], dtype=np.int64),
            np.array([s[1] for s in sales]),
            np.array([s[2] for s in sales]),
            n,
        )
        reach = Touches(
            np.array([t[0] for t in touches], dtype=np.int64),
            np.array([t[1] for t in touches]),
            np.array([t[2] for t in touches], dtype=np.int64),
            n,
            3,
        )
        empty = np.empty(0, dtype=np.int64)
        return ShardData(
            np.array(ids),
            np.array(acquisition),
            tx,
            Lines(empty, empty, empty, np.empty(0), n, 6),
            Events(empty, np.empty(0), n),
            reach,
        )

    one = shard(
        [1, 2],
        [0, -1],
        [(0, 10.0, 100.0), (0, 20.0, 50.0), (1, 5.0, 70.0)],
        [(0, 9.0, 2), (1, 6.0, 2)],
    )
    two = shard([3], [1], [(0, 30.0, 40.0)], [(0, 29.5, 2), (0, 31.0, 0)])
    parts = [
        channel_inputs(one, clv=np.array([1000.0, 300.0]), churn_risk=np.array([0.2, 0.6])),
        channel_inputs(two, clv=np.array([500.0]), churn_risk=np.array([0.4])),
    ]

    report = channel_report(parts, CATALOG)

    web, app, email, unknown = report["acquisition"]
    assert (web["code"], web["customers"], web["buyers"], web["repeat_buyers"]) == ("web", 1, 1, 1)
    assert (web["mean_predicted_clv_minor"], web["mean_churn_risk"]) == (1000.0, 0.2)
    assert (app["customers"], app["mean_predicted_clv_minor"]) == (1, 500.0)
    assert (email["customers"], email["conversion_rate"], email["mean_churn_risk"]) == (
        0,
        None,
        None,
    )
    assert (unknown["channel_id"], unknown["code"], unknown["customers"]) == (None, None, 1)
    touch_email = report["touch"][2]
    # Email reached all three; customer 1 only after buying, so not as a prospect.
    assert (touch_email["customers"], touch_email["prospects"], touch_email["buyers"]) == (3, 2, 2)
    attribution = report["attribution"]
    assert attribution["revenue_minor"] == 260
    assert [row["last_touch_minor"] for row in attribution["channels"]] == [0, 0, 190, 70]


def _union(first: ShardData, second: ShardData) -> ShardData:
    """Both shards as one, the second's customers numbered after the first's."""
    n, m = first.n_customers, second.n_customers
    a, b = first, second
    return ShardData(
        customer_ids=np.r_[a.customer_ids, b.customer_ids],
        acquisition=np.r_[a.acquisition, b.acquisition],
        tx=Transactions(
            np.r_[a.tx.customer, b.tx.customer + n],
            np.r_[a.tx.t, b.tx.t],
            np.r_[a.tx.amount, b.tx.amount],
            n + m,
        ),
        lines=Lines(
            np.r_[a.lines.customer, b.lines.customer + n],
            np.r_[a.lines.order, b.lines.order],
            np.r_[a.lines.item, b.lines.item],
            np.r_[a.lines.t, b.lines.t],
            n + m,
            a.lines.n_items,
        ),
        events=Events(
            np.r_[a.events.customer, b.events.customer + n], np.r_[a.events.t, b.events.t], n + m
        ),
        touches=Touches(
            np.r_[a.touches.customer, b.touches.customer + n],
            np.r_[a.touches.t, b.touches.t],
            np.r_[a.touches.channel, b.touches.channel],
            n + m,
            a.touches.n_channels,
        ),
    )


def test_item_popularity_counts_every_buyer_of_every_shard() -> None:
    first, second = _shard(1), _shard(2)
    cutoff = float(np.ceil(max(first.tx.t.max(), second.tx.t.max())))
    parts = [fit_inputs(s, cutoff=cutoff, sample_rate=0.2, seed=0) for s in (first, second)]

    result = fit_models(parts, catalog=CATALOG, cutoff=cutoff, seed=0)

    expected = np.zeros(6, dtype=np.int64)
    for shard in (first, second):
        pairs = np.unique(shard.lines.customer * 6 + shard.lines.item)
        expected += np.bincount(pairs % 6, minlength=6)
    assert result.models.cross_sell is not None
    assert result.models.cross_sell.popularity.tolist() == expected.tolist()
    assert result.metrics["associations"]["buyers"] == 600 - sum(
        int((np.bincount(s.lines.customer, minlength=300) == 0).sum()) for s in (first, second)
    )
