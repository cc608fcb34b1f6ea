"""Cross-sell: co-purchase associations, purchase sequences with timing, top-k suggestions."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.worker.models.factories_behaviour import (
    ITEM_NAMES,
    Baskets,
    journey_baskets,
    with_shopper,
)
from worker.models.crosssell import (
    evaluate_cross_sell,
    fit_cross_sell,
    item_associations,
    recommend,
    render_cross_sell,
)
from worker.models.features import Lines, make_lines

MATERNITY, INFANT_FORMULA, TODDLER_FORMULA, MILK, BREAD = 0, 1, 2, 16, 17
A, B, C = 0, 1, 2


@pytest.fixture(scope="module")
def baskets() -> Baskets:
    return journey_baskets(6_000, seed=0)


@pytest.fixture(scope="module")
def active() -> NDArray[np.bool_]:
    mask = np.ones(len(ITEM_NAMES), dtype=bool)
    mask[[TODDLER_FORMULA, MILK]] = False
    return mask


def _three_items() -> Lines:
    # Customer 0 buys A and B together, then C; 1 buys A then C; 2 only B; 3 buys C then A.
    return make_lines(
        customer=[0, 0, 0, 1, 1, 2, 3, 3],
        order=[0, 0, 1, 2, 3, 4, 5, 6],
        item=[A, B, C, A, C, B, C, A],
        t=[0.0, 0.0, 10.0, 0.0, 20.0, 5.0, 0.0, 30.0],
        n_customers=4,
        n_items=3,
    )


def test_hit_rate_at_5_beats_popularity_on_held_out_last_orders(
    baskets: Baskets, active: NDArray[np.bool_]
) -> None:
    metrics = evaluate_cross_sell(baskets.lines, active=active)

    assert metrics.customers == 5_249
    assert metrics.hit_rate > metrics.popularity_hit_rate + 0.15


def test_never_suggests_the_last_order_or_inactive_items(
    baskets: Baskets, active: NDArray[np.bool_]
) -> None:
    lines = baskets.lines
    suggested = recommend(fit_cross_sell(lines), lines, as_of=baskets.end, active=active).item

    # Lines are sorted by customer and time: a customer's last order is on their last line.
    last_line = np.r_[lines.customer[1:] != lines.customer[:-1], True]
    last_order = np.full(lines.n_customers, -1)
    last_order[lines.customer[last_line]] = lines.order[last_line]
    in_last = lines.order == last_order[lines.customer]
    just_bought = lines.customer[in_last] * lines.n_items + lines.item[in_last]
    offered = np.arange(lines.n_customers)[:, None] * lines.n_items + suggested
    assert (suggested >= 0).all()
    assert not np.isin(offered, just_bought).any()
    assert not np.isin(suggested, np.flatnonzero(~active)).any()


def test_maternity_shopper_is_offered_infant_formula_in_about_five_months(
    baskets: Baskets, active: NDArray[np.bool_]
) -> None:
    as_of = baskets.end
    shopper = with_shopper(baskets, [(as_of - 400, [MILK, BREAD]), (as_of - 30, [MATERNITY])])
    customer = shopper.lines.n_customers - 1

    model = fit_cross_sell(shopper.lines)
    suggestions = recommend(model, shopper.lines, as_of=as_of, active=active)
    texts = render_cross_sell(suggestions, customer, ITEM_NAMES)

    # Infant formula follows maternity wear after 179 days (median); 30 of them have passed.
    assert suggestions.item[customer, 0] == INFANT_FORMULA
    assert suggestions.due_in_days[customer, 0] == 149.0
    assert texts[0] == "infant formula, likely in ~5 months"
    assert "maternity wear" not in " ".join(texts)


def test_associations_of_a_hand_built_basket_set() -> None:
    assoc = item_associations(_three_items())

    assert assoc.customers == 4
    assert assoc.item_customers.tolist() == [3, 2, 3]
    assert assoc.support[A, C] == 3 / 4
    assert assoc.confidence[A, B] == 1 / 3
    assert assoc.confidence[B, A] == 1 / 2
    assert assoc.lift[A, B] == pytest.approx((1 / 3) / (2 / 4))
    assert assoc.lift[A, C] == pytest.approx(1 / (3 / 4))


def test_sequences_give_follow_rates_and_median_lags() -> None:
    model = fit_cross_sell(_three_items(), min_pair_customers=1)

    pairs = {
        (int(key) // 3, int(key) % 3): (rate, lag)
        for key, rate, lag in zip(
            model.pair_key, model.follow_rate, model.median_lag_days, strict=True
        )
    }
    # A and B were adopted together (both ways, lag 0); C followed A after 10 and 20 days.
    assert pairs == {
        (A, B): (1 / 3, 0.0),
        (A, C): (2 / 3, 15.0),
        (B, A): (1 / 2, 0.0),
        (B, C): (1 / 2, 10.0),
        (C, A): (1 / 3, 30.0),
    }
    assert model.popularity.tolist() == [3, 2, 3]


def test_suggestions_follow_the_latest_purchases_and_skip_the_last_order() -> None:
    lines = _three_items()
    model = fit_cross_sell(lines, min_pair_customers=1)

    suggestions = recommend(model, lines, as_of=50.0, active=np.ones(3, dtype=bool), k=2)

    # Customer 1 last bought C (not offered again); C leads to A, and older A to B.
    assert suggestions.item[1].tolist() == [A, B]
    assert suggestions.score[1, 0] == pytest.approx(1 / 3)
    assert suggestions.score[1, 1] == pytest.approx(0.5 ** (20 / 90) / 3, rel=1e-6)
    assert suggestions.due_in_days[1].tolist() == [0.0, 0.0]
    # Customer 2 bought only B: it leads to A and C equally; popularity breaks the tie.
    assert sorted(suggestions.item[2].tolist()) == [A, C]


def test_customers_without_history_get_the_most_popular_items() -> None:
    lines = _three_items()
    model = fit_cross_sell(lines, min_pair_customers=1)

    suggestions = recommend(model, lines, as_of=0.5, active=np.array([True, True, False]), k=3)

    # Customer 2 has not bought yet on day 0.5; C is inactive, so one slot stays empty.
    assert suggestions.item[2].tolist() == [A, B, -1]
    assert np.isnan(suggestions.due_in_days[2]).all()


def test_render_cross_sell_says_when() -> None:
    lines = _three_items()
    suggestions = recommend(
        fit_cross_sell(lines, min_pair_customers=1), lines, as_of=1.0, active=np.ones(3, bool)
    )

    # On day 1, customer 3's C (bought on day 0) leads to A 30 days after it.
    assert render_cross_sell(suggestions, 3, ("apples", "bread", "cheese"))[0] == (
        "apples, likely in ~4 weeks"
    )
