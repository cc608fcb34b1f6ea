"""A generated block: consistent rows with the structure the demo promises, without a database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pytest

from domain.channels.models import ChannelCode
from domain.demo.archetypes import ARCHETYPES, CHANNELS, C
from domain.demo.block import Block, FirstIds, Setting, build_block
from domain.demo.catalog import build_catalogue
from domain.demo.rows import NULL_TIME
from domain.demo.sampling import DAY
from domain.stages.rules import counts_as_engagement

AS_OF = date(2026, 11, 25)
NOW = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp())
SIZE = 3000


def _setting() -> Setting:
    return Setting(
        now=NOW,
        as_of=AS_OF,
        catalogue=build_catalogue(),
        channel_ids=np.arange(1, len(CHANNELS) + 1, dtype=np.int64),
        staff_ids=np.arange(1, 6, dtype=np.int64),
        staff_language=np.array([0, 1, 2, 3, 0], dtype=np.int64),
        currency="USD",
        currency_exponent=2,
    )


def _block(seed: int = 7) -> Block:
    first = FirstIds(customer=1, consent=1, orders=1, order_line=1, event=1)
    return build_block(seed=seed, number=0, size=SIZE, first=first, setting=_setting())


@pytest.fixture(scope="module")
def block() -> Block:
    return _block()


def _col(block: Block, table: str, column: str) -> np.ndarray:
    return block.tables[table][column].values


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(block: Block) -> None:
    again = _block()
    for table, rows in block.tables.items():
        for name, column in rows.items():
            assert column.values.tolist() == again.tables[table][name].values.tolist(), name
    other = _block(seed=8)
    assert not np.array_equal(_col(block, "customer", "name"), _col(other, "customer", "name"))


def test_every_archetype_appears(block: Block) -> None:
    counts = np.bincount(block.archetype, minlength=len(ARCHETYPES))
    assert counts.sum() == SIZE
    assert counts.min() >= 50


def test_ids_are_consecutive_and_customers_are_numbered_by_sign_up_time(block: Block) -> None:
    for table in block.tables:
        ids = _col(block, table, "id")
        assert np.array_equal(ids, np.arange(1, len(ids) + 1))
    assert np.all(np.diff(_col(block, "customer", "created_at")) >= 0)
    assert np.all(np.diff(_col(block, "orders", "ordered_at")) >= 0)
    assert np.all(np.diff(_col(block, "event", "occurred_at")) >= 0)


def test_order_totals_are_the_sums_of_their_lines(block: Block) -> None:
    order_ids = _col(block, "orders", "id")
    sums = np.bincount(
        _col(block, "order_line", "order_id") - 1,
        weights=_col(block, "order_line", "line_total_minor"),
        minlength=len(order_ids),
    )
    assert np.array_equal(sums.astype(np.int64), _col(block, "orders", "total_minor"))
    quantity = _col(block, "order_line", "quantity")
    unit_price = _col(block, "order_line", "unit_price")
    assert np.array_equal(quantity * unit_price, _col(block, "order_line", "line_total_minor"))


def test_returns_are_negative_and_cancellations_rare(block: Block) -> None:
    kind = _col(block, "orders", "kind")
    status = _col(block, "orders", "status")
    total = _col(block, "orders", "total_minor")
    returns = kind == "return"
    sales = (kind == "sale") & (status == "completed")
    assert np.all(total[returns] < 0)
    assert np.all(status[returns] == "completed")
    assert np.all(total[kind == "sale"] > 0)
    assert 0.02 < returns.sum() / sales.sum() < 0.04
    assert 0.005 < (status == "cancelled").sum() / sales.sum() < 0.02
    lines = np.isin(_col(block, "order_line", "order_id"), _col(block, "orders", "id")[returns])
    assert np.all(_col(block, "order_line", "quantity")[lines] < 0)


def test_customer_facts_agree_with_their_orders_and_events(block: Block) -> None:
    n = SIZE
    customer = _col(block, "orders", "customer_id") - 1
    completed = _col(block, "orders", "status") == "completed"
    sale = completed & (_col(block, "orders", "kind") == "sale")
    at = _col(block, "orders", "ordered_at")
    count = np.bincount(customer[sale], minlength=n)
    assert np.array_equal(count, _col(block, "customer", "order_count"))
    revenue = np.bincount(
        customer[completed], weights=_col(block, "orders", "total_minor")[completed], minlength=n
    )
    assert np.array_equal(revenue.astype(np.int64), _col(block, "customer", "net_revenue_minor"))
    last = np.zeros(n, dtype=np.int64)
    np.maximum.at(last, customer[sale], at[sale])
    assert np.array_equal(last, _col(block, "customer", "last_order_at"))
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, customer[sale], at[sale])
    first[count == 0] = NULL_TIME
    assert np.array_equal(first, _col(block, "customer", "first_order_at"))
    engaged = np.zeros(n, dtype=np.int64)
    counts = np.array([counts_as_engagement(t) for t in _col(block, "event", "type")], dtype=bool)
    np.maximum.at(
        engaged,
        _col(block, "event", "customer_id")[counts] - 1,
        _col(block, "event", "occurred_at")[counts],
    )
    assert np.array_equal(engaged, _col(block, "customer", "last_engaged_at"))


def test_everything_happens_after_sign_up_and_before_as_of(block: Block) -> None:
    created = _col(block, "customer", "created_at")
    for table, customer_col, at_col in (
        ("orders", "customer_id", "ordered_at"),
        ("event", "customer_id", "occurred_at"),
    ):
        at = _col(block, table, at_col)
        assert at.max() < NOW
        assert np.all(at >= created[_col(block, table, customer_col) - 1])


def test_abandoned_carts_have_no_order_that_day_and_some_are_from_the_last_days(
    block: Block,
) -> None:
    kind = _col(block, "orders", "kind")
    order_days = set(
        zip(
            _col(block, "orders", "customer_id")[kind == "sale"].tolist(),
            (_col(block, "orders", "ordered_at")[kind == "sale"] // DAY).tolist(),
            strict=True,
        )
    )
    carts = _col(block, "event", "type") == "cart_add"
    cart_keys = zip(
        _col(block, "event", "customer_id")[carts].tolist(),
        (_col(block, "event", "occurred_at")[carts] // DAY).tolist(),
        strict=True,
    )
    abandoned = [key for key in cart_keys if key not in order_days]
    assert len(abandoned) > 0.05 * carts.sum()
    recent = [key for key in abandoned if key[1] >= NOW // DAY - 3]
    assert len(recent) >= 30


def test_event_keys_are_unique_and_properties_are_json_objects(block: Block) -> None:
    keys = _col(block, "event", "idempotency_key")
    assert len(set(keys.tolist())) == len(keys)
    assert keys[0] == "demo-e-0000000001"
    carts = _col(block, "event", "type") == "cart_add"
    cart = json.loads(_col(block, "event", "properties")[carts][0])
    assert set(cart) == {"product_id", "sku", "category", "quantity"}


def test_referrers_joined_and_bought_before_the_customers_they_referred(block: Block) -> None:
    referrer = _col(block, "customer", "referred_by_id")
    referred = np.flatnonzero(referrer > 0)
    channel = _col(block, "customer", "acquisition_channel_id")
    assert np.all(channel[referred] == C[ChannelCode.REFERRAL] + 1)
    assert len(referred) > 0.8 * (channel == C[ChannelCode.REFERRAL] + 1).sum()
    created = _col(block, "customer", "created_at")
    first_order = _col(block, "customer", "first_order_at")
    assert np.all(referrer[referred] < referred + 1)
    assert np.all(first_order[referrer[referred] - 1] < created[referred])


def test_referral_and_store_customers_buy_more_than_social_and_short_video_ones(
    block: Block,
) -> None:
    channel = _col(block, "customer", "acquisition_channel_id") - 1
    orders = _col(block, "customer", "order_count")
    revenue = _col(block, "customer", "net_revenue_minor")
    good = np.isin(channel, [C[ChannelCode.REFERRAL], C[ChannelCode.OFFLINE_STORE]])
    weak = np.isin(channel, [C[ChannelCode.SOCIAL], C[ChannelCode.SHORT_VIDEO]])
    assert orders[good].mean() > 2.5 * orders[weak].mean()
    assert revenue[good].mean() > 3 * revenue[weak].mean()
    one_time_share_weak = (orders[weak] == 1).sum() / (orders[weak] > 0).sum()
    one_time_share_good = (orders[good] == 1).sum() / (orders[good] > 0).sum()
    assert one_time_share_weak > 2 * one_time_share_good


def test_most_agree_to_email_fewer_to_sms_and_opt_outs_unsubscribed(block: Block) -> None:
    channel = _col(block, "consent", "channel_id") - 1
    granted = _col(block, "consent", "granted")
    email = channel == C[ChannelCode.EMAIL]
    sms = channel == C[ChannelCode.SMS]
    assert 0.8 * SIZE < (email & granted).sum() < 0.9 * SIZE
    assert (sms & granted).sum() < 0.35 * SIZE
    opted_out = _col(block, "consent", "customer_id")[email & ~granted]
    unsubscribed = _col(block, "event", "customer_id")[
        _col(block, "event", "type") == "unsubscribe"
    ]
    assert sorted(opted_out.tolist()) == sorted(unsubscribed.tolist())
    pairs = list(zip(_col(block, "consent", "customer_id").tolist(), channel.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs)


def test_customers_speak_four_languages_and_some_have_a_birthday_within_two_weeks(
    block: Block,
) -> None:
    language = _col(block, "customer", "language")
    assert set(language.tolist()) == {"en", "es", "zh", "ru"}
    chinese = _col(block, "customer", "name")[language == "zh"]
    assert all("\u4e00" <= name[0] <= "\u9fff" for name in chinese)
    birthday = _col(block, "customer", "birthday")
    known = birthday[~np.isnat(birthday)]
    this_year = known.astype("datetime64[Y]")
    day_of_year = (known - this_year.astype("datetime64[D]")).astype(np.int64)
    today = (np.datetime64(AS_OF) - np.datetime64(AS_OF, "Y").astype("datetime64[D]")).astype(int)
    soon = (day_of_year - today) % 365 < 14
    assert soon.sum() >= 20
