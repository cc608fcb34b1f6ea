"""record_order: exact money, idempotent by external id, and its follow-ups in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from domain.catalog.models import Product
from domain.customers.models import Customer
from domain.customers.service import CustomerUnknown, ValidationFailed
from domain.orders.models import Order, OrderLine
from domain.orders.service import NewOrderLine, RecordOrderResult, record_order
from domain.referrals.models import Referral, ReferralStatus
from domain.referrals.results import NewReferee
from domain.stages.models import StageChange
from domain.suggestions.models import Suggestion
from tests.domain.referrals.factories import make_offer, make_referrer, redeem, send_offer
from tests.factories import channel, grant_consent, make_customer, make_product

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TEA = NewOrderLine(sku="TEA-1", quantity=3, unit_price=Decimal("19.99"), description="Green tea")


def record(session: Session, customer: Customer, **overrides: Any) -> RecordOrderResult:
    values: dict[str, Any] = {
        "external_id": "web-1001",
        "customer_id": customer.id,
        "ordered_at": AT - timedelta(minutes=5),
        "lines": [TEA],
        "at": AT,
    }
    values.update(overrides)
    return record_order(session=session, **values)


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_lines_are_converted_to_minor_units_exactly_with_half_even_rounding(
    session: Session,
) -> None:
    customer = make_customer(session)
    lines = [
        TEA,
        NewOrderLine(sku="PIN", quantity=1, unit_price=Decimal("0.125")),  # 12.5 → 12
        NewOrderLine(sku="CLIP", quantity=1, unit_price=Decimal("0.135")),  # 13.5 → 14
        NewOrderLine(sku="NAIL", quantity=7, unit_price=Decimal("0.0333")),  # 23.31 → 23
    ]

    result = record(session, customer, lines=lines, currency="usd")

    stored = session.scalars(
        select(OrderLine)
        .where(col(OrderLine.order_id) == result.order.id)
        .order_by(col(OrderLine.line_no))
    ).all()
    assert [
        (line.sku, line.quantity, line.unit_price, line.line_total_minor) for line in stored
    ] == [
        ("TEA-1", 3, Decimal("19.9900"), 5997),
        ("PIN", 1, Decimal("0.1250"), 12),
        ("CLIP", 1, Decimal("0.1350"), 14),
        ("NAIL", 7, Decimal("0.0333"), 23),
    ]
    assert (result.order.total_minor, result.order.currency) == (6046, "USD")


@pytest.mark.parametrize(
    ("currency", "price", "minor"),
    [
        ("JPY", Decimal("1000.5"), 1000),
        ("JPY", Decimal("1001.5"), 1002),
        ("BHD", Decimal("1.2345"), 1234),
    ],
)
def test_the_currency_decides_the_minor_units(
    session: Session, currency: str, price: Decimal, minor: int
) -> None:
    customer = make_customer(session)
    line = NewOrderLine(sku="X", quantity=1, unit_price=price)
    result = record(session, customer, lines=[line], currency=currency)
    assert (result.order.total_minor, result.order.currency) == (minor, currency)


def test_a_repeat_returns_the_stored_order_and_does_nothing_more(session: Session) -> None:
    customer = make_customer(session)
    grant_consent(session, customer, "email")
    first = record(session, customer)

    again = record(session, customer, lines=[NewOrderLine("OTHER", 1, Decimal("1"))])

    assert (first.created, again.created) == (True, False)
    assert again.order.id == first.order.id
    assert (again.stage_changes, again.new_suggestion_ids, again.referral) == ([], [], None)
    assert (count(session, Order), count(session, OrderLine), count(session, StageChange)) == (
        1,
        1,
        1,
    )
    assert count(session, Suggestion) == 1
    assert customer.order_count == 1


def test_the_same_external_id_for_another_customer_is_refused(session: Session) -> None:
    record(session, make_customer(session))
    with pytest.raises(ValidationFailed) as refused:
        record(session, make_customer(session))
    assert (refused.value.field, refused.value.message) == (
        "external_id",
        "order web-1001 is already recorded for another customer",
    )


def test_a_first_order_moves_the_stage_updates_facts_and_suggests_onboarding(
    session: Session,
) -> None:
    customer = make_customer(
        session, created_at=AT - timedelta(days=3), stage_since=AT - timedelta(days=3)
    )
    grant_consent(session, customer, "email")

    result = record(session, customer, customer_id=None, customer_external_id=customer.external_id)

    assert [(c.from_stage, c.to_stage, c.reason) for c in result.stage_changes] == [
        ("prospect", "first_time_buyer", "first order")
    ]
    assert (customer.stage, customer.order_count, customer.net_revenue_minor) == (
        "first_time_buyer",
        1,
        5997,
    )
    assert (customer.first_order_at, customer.last_order_at) == (AT - timedelta(minutes=5),) * 2
    [suggestion] = session.scalars(select(Suggestion))
    assert result.new_suggestion_ids == [suggestion.id]
    assert (suggestion.customer_id, suggestion.type) == (customer.id, "first_order")


def test_a_second_order_makes_a_repeat_buyer_without_another_onboarding(
    session: Session,
) -> None:
    customer = make_customer(
        session, created_at=AT - timedelta(days=90), stage_since=AT - timedelta(days=90)
    )
    grant_consent(session, customer, "email")
    record(session, customer, external_id="o-1", ordered_at=AT - timedelta(days=20))

    second = record(session, customer, external_id="o-2")

    assert [(c.from_stage, c.to_stage) for c in second.stage_changes] == [
        ("first_time_buyer", "repeat")
    ]
    assert second.new_suggestion_ids == []
    assert (customer.order_count, customer.net_revenue_minor) == (2, 11994)


def test_a_return_is_stored_negative_and_nets_out_of_revenue(session: Session) -> None:
    customer = make_customer(session)
    record(session, customer, external_id="o-1")

    refund = record(
        session,
        customer,
        external_id="r-1",
        kind="return",
        lines=[NewOrderLine("TEA-1", 1, Decimal("19.99"))],
    )

    [line] = session.scalars(select(OrderLine).where(col(OrderLine.order_id) == refund.order.id))
    assert (line.quantity, line.line_total_minor, refund.order.total_minor) == (-1, -1999, -1999)
    assert (customer.order_count, customer.net_revenue_minor) == (1, 3998)
    assert (refund.referral, refund.new_suggestion_ids) == (None, [])


def test_a_cancelled_order_counts_for_nothing(session: Session) -> None:
    customer = make_customer(session)
    grant_consent(session, customer, "email")

    result = record(session, customer, status="cancelled")

    assert (result.created, result.stage_changes, result.new_suggestion_ids) == (True, [], [])
    assert (customer.stage, customer.order_count, customer.net_revenue_minor) == ("prospect", 0, 0)


def test_a_referees_first_paid_order_converts_their_referral(session: Session) -> None:
    referrer = make_referrer(session)
    sent = send_offer(
        session,
        referrer,
        make_offer(session, referrer_reward_minor=1500),
        at=AT - timedelta(days=2),
    )
    referee = redeem(
        session,
        sent.referral.code,
        NewReferee(name="Bo", email="bo@x.com"),
        at=AT - timedelta(days=1),
    ).referee

    result = record(session, referee)

    assert result.referral is not None
    assert result.referral.reward_minor == 1500
    referral = session.get(Referral, sent.referral.id)
    assert referral is not None and referral.status == ReferralStatus.CONVERTED


def test_products_are_created_by_sku_and_known_ones_learn_a_missing_category(
    session: Session,
) -> None:
    known = make_product(session, sku="MUG", name="Mug", category=None)
    customer = make_customer(session)
    lines = [
        NewOrderLine("MUG", 1, Decimal("5"), description="Big mug", category="Kitchen"),
        NewOrderLine("SPOON", 2, Decimal("1.5"), description="Spoon", category="Kitchen"),
        NewOrderLine("SPOON", 1, Decimal("1.5")),
    ]

    result = record(session, customer, lines=lines)

    products = {p.sku: (p.name, p.category) for p in session.scalars(select(Product))}
    assert products == {"MUG": ("Mug", "Kitchen"), "SPOON": ("Spoon", "Kitchen")}
    product_ids = session.scalars(
        select(col(OrderLine.product_id))
        .where(col(OrderLine.order_id) == result.order.id)
        .order_by(col(OrderLine.line_no))
    ).all()
    spoon = session.scalars(select(col(Product.id)).where(col(Product.sku) == "SPOON")).one()
    assert product_ids == [known.id, spoon, spoon]


def test_the_channel_code_is_stored(session: Session) -> None:
    result = record(session, make_customer(session), channel="offline_store", country="Norway")
    assert (result.order.channel_id, result.order.country) == (
        channel(session, "offline_store").id,
        "Norway",
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"external_id": " "}, "external_id", "external_id must be 1 to 100 characters"),
        ({"kind": "gift"}, "kind", "kind 'gift' is not one of sale, return"),
        ({"status": "paid"}, "status", "status 'paid' is not one of completed, cancelled"),
        (
            {"ordered_at": AT + timedelta(minutes=6)},
            "ordered_at",
            "ordered_at 2026-11-25T12:06:00+00:00 is in the future",
        ),
        ({"currency": "XYZ"}, "currency", "unknown currency 'XYZ' (use an ISO 4217 code like EUR)"),
        ({"lines": []}, "lines", "an order needs at least one line"),
        (
            {"lines": [TEA, NewOrderLine("", 1, Decimal("1"))]},
            "lines[1].sku",
            "sku must be 1 to 64 characters",
        ),
        (
            {"lines": [NewOrderLine("A", 0, Decimal("1"))]},
            "lines[0].quantity",
            "quantity must be a positive whole number",
        ),
        (
            {"lines": [NewOrderLine("A", 1, Decimal("0.00001"))]},
            "lines[0].unit_price",
            "unit_price 0.00001 has more than 4 decimals",
        ),
        (
            {"lines": [NewOrderLine("A", 1, Decimal("-1"))]},
            "lines[0].unit_price",
            "unit_price must be between 0 and 10000000000",
        ),
        ({"channel": "fax"}, "channel", "no channel with code 'fax'"),
        (
            {"customer_external_id": "C1"},
            "customer",
            "give either the customer's id or external id",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(
    session: Session, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        record(session, make_customer(session), **overrides)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert (count(session, Order), count(session, Product)) == (0, 0)


def test_an_unknown_customer_is_not_found(session: Session) -> None:
    with pytest.raises(CustomerUnknown) as missing:
        record_order(
            session=session,
            external_id="o-9",
            customer_external_id="nobody",
            ordered_at=AT,
            lines=[TEA],
            at=AT,
        )
    assert (missing.value.key, str(missing.value)) == (
        "nobody",
        "no customer with external id nobody",
    )
