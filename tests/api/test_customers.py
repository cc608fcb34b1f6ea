"""Customer queries: look-ups, filtered and ordered pages, relations, cross-sell."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from domain.clock import utcnow
from domain.db import unit_of_work
from domain.scoring.reasons import stored
from domain.staff.models import StaffRole, TokenRole
from domain.stages.models import StageChange
from tests.api.factories import gql, make_run, make_score, make_suggestion, make_token
from tests.factories import (
    channel,
    days_ago,
    grant_consent,
    make_customer,
    make_event,
    make_order,
    make_product,
)

LOOKUP = """
query ($id: ID, $externalId: String, $email: String, $phone: String) {
  customer(id: $id, externalId: $externalId, email: $email, phone: $phone) {
    __typename
    ... on Customer { externalId }
    ... on NotFound { entity key message }
    ... on ValidationError { field message }
  }
}
"""
PAGE = """
query ($filter: CustomerFilterInput, $orderBy: CustomerOrderInput, $first: Int, $after: String) {
  customers(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    __typename
    ... on CustomerConnection {
      totalCount
      edges { cursor node { externalId } }
      pageInfo { hasNextPage endCursor }
    }
    ... on ValidationError { field message }
  }
}
"""
DETAIL = """
query ($id: ID) {
  customer(id: $id) {
    ... on Customer {
      stage acquisitionChannel netRevenueMinor orderCount
      owner { name }
      score {
        rfmSegment pAlive predictedClvMinor churnRisk reasons crossSell { sku name dueInDays }
      }
      stageHistory { fromStage toStage reason }
      orders(first: 1) { externalId totalMinor channel lines { sku quantity lineTotalMinor } }
      events(first: 5) { type channel properties }
      consents { channel granted }
      referrals { code }
    }
  }
}
"""
CROSS_SELL = "query ($id: ID!) { crossSell(customerId: $id) { sku name score dueInDays } }"


@pytest.fixture
def token(engine: Engine) -> str:
    value, _ = make_token(engine, TokenRole.READ)
    return value


def names(body: dict[str, Any]) -> list[str]:
    page = body["data"]["customers"]
    return [edge["node"]["externalId"] for edge in page["edges"]]


async def test_customer_is_found_by_each_key(
    client: httpx.AsyncClient, engine: Engine, token: str
) -> None:
    with unit_of_work(engine) as session:
        c = make_customer(session, external_id="EXT-1", email="Ann@Example.com", phone="+4411")
    for variables in (
        {"id": str(c.id)},
        {"externalId": "EXT-1"},
        {"email": "ann@example.com"},
        {"phone": "+4411"},
    ):
        body = await gql(client, LOOKUP, variables, token=token)
        assert body["data"]["customer"] == {"__typename": "Customer", "externalId": "EXT-1"}


async def test_unknown_customer_is_a_typed_not_found(client: httpx.AsyncClient, token: str) -> None:
    body = await gql(client, LOOKUP, {"externalId": "nope"}, token=token)
    assert body["data"]["customer"] == {
        "__typename": "NotFound",
        "entity": "customer",
        "key": "nope",
        "message": "no customer with externalId nope",
    }


async def test_lookup_needs_exactly_one_key(client: httpx.AsyncClient, token: str) -> None:
    body = await gql(client, LOOKUP, {"externalId": "a", "email": "b@c.d"}, token=token)
    assert body["data"]["customer"] == {
        "__typename": "ValidationError",
        "field": "id",
        "message": "give exactly one of id, externalId, email or phone",
    }


async def test_customers_filter_by_stage_owner_channel_and_search(
    client: httpx.AsyncClient, engine: Engine, token: str
) -> None:
    _, owner_id = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        web = channel(session, "web").id
        make_customer(
            session, external_id="A", name="Alice Smith", stage="loyal", owner_id=owner_id
        )
        make_customer(
            session, external_id="B", name="Bob Stone", stage="loyal", acquisition_channel_id=web
        )
        make_customer(session, external_id="C", name="Carol Smith", stage="sleeping")
    cases = [
        ({"stages": ["LOYAL"]}, ["A", "B"]),
        ({"ownerId": str(owner_id)}, ["A"]),
        ({"acquisitionChannel": "web"}, ["B"]),
        ({"search": "smith"}, ["A", "C"]),
        ({"stages": ["LOYAL", "SLEEPING"], "search": "Smith"}, ["A", "C"]),
    ]
    for filter_, expected in cases:
        body = await gql(client, PAGE, {"filter": filter_}, token=token)
        assert names(body) == expected, filter_
        assert body["data"]["customers"]["totalCount"] == len(expected)


async def test_customers_filter_by_latest_score(
    client: httpx.AsyncClient, engine: Engine, token: str
) -> None:
    with unit_of_work(engine) as session:
        rich, poor, unscored = (make_customer(session, external_id=x) for x in ("R", "P", "U"))
        run = make_run(session)
        make_score(session, run, rich, rfm_segment="champions", predicted_clv_minor=50_000)
        make_score(session, run, poor, rfm_segment="hibernating", predicted_clv_minor=900)
    body = await gql(client, PAGE, {"filter": {"rfmSegments": ["champions"]}}, token=token)
    assert names(body) == ["R"]
    body = await gql(client, PAGE, {"filter": {"minPredictedClvMinor": 1000}}, token=token)
    assert names(body) == ["R"]
    body = await gql(
        client, PAGE, {"orderBy": {"field": "PREDICTED_CLV", "direction": "DESC"}}, token=token
    )
    assert names(body) == ["R", "P", "U"]
    assert unscored.id is not None


async def test_unknown_channel_in_filter_is_a_validation_error(
    client: httpx.AsyncClient, token: str
) -> None:
    body = await gql(client, PAGE, {"filter": {"acquisitionChannel": "fax"}}, token=token)
    assert body["data"]["customers"] == {
        "__typename": "ValidationError",
        "field": "acquisitionChannel",
        "message": "no channel with code 'fax'",
    }


async def test_cursor_pages_walk_every_customer_once_in_order(
    client: httpx.AsyncClient, engine: Engine, token: str
) -> None:
    with unit_of_work(engine) as session:
        for i, revenue in enumerate([300, 100, 300, 200, 0]):
            make_customer(session, external_id=f"K{i}", net_revenue_minor=revenue)
    seen: list[str] = []
    after = None
    order = {"field": "NET_REVENUE", "direction": "DESC"}
    while True:
        body = await gql(client, PAGE, {"first": 2, "after": after, "orderBy": order}, token=token)
        page = body["data"]["customers"]
        seen += names(body)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["K2", "K0", "K3", "K1", "K4"]


async def test_cursor_of_another_ordering_is_refused(
    client: httpx.AsyncClient, engine: Engine, token: str
) -> None:
    with unit_of_work(engine) as session:
        make_customer(session)
        make_customer(session)
    body = await gql(client, PAGE, {"first": 1}, token=token)
    cursor = body["data"]["customers"]["pageInfo"]["endCursor"]
    body = await gql(
        client, PAGE, {"after": cursor, "orderBy": {"field": "CREATED_AT"}}, token=token
    )
    assert body["errors"][0]["message"] == "the cursor is not valid for this ordering"
    assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"


async def test_customer_detail_carries_score_history_orders_events_consents(
    client: httpx.AsyncClient, engine: Engine, token: str
) -> None:
    _, owner_id = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        email = channel(session, "email")
        c = make_customer(
            session,
            stage="repeat",
            owner_id=owner_id,
            acquisition_channel_id=email.id,
            net_revenue_minor=7000,
            order_count=2,
        )
        tea = make_product(session, sku="SKU-TEA")
        make_order(session, c, at=days_ago(30), total_minor=2000)
        make_order(
            session, c, at=days_ago(2), total_minor=5000, products=[tea], channel_id=email.id
        )
        make_event(
            session, c, "visit", at=days_ago(1), properties={"page": "/tea"}, channel_id=email.id
        )
        grant_consent(session, c, "email")
        make_score(session, make_run(session), c)
        assert c.id is not None
        session.add(
            StageChange(
                customer_id=c.id,
                from_stage="first_time_buyer",
                to_stage="repeat",
                reason="second order",
                changed_at=days_ago(2),
            )
        )
    body = await gql(client, DETAIL, {"id": str(c.id)}, token=token)
    staff_name = body["data"]["customer"]["owner"]["name"]
    assert body["data"]["customer"] == {
        "stage": "REPEAT",
        "acquisitionChannel": "email",
        "netRevenueMinor": 7000,
        "orderCount": 2,
        "owner": {"name": staff_name},
        "score": {
            "rfmSegment": "champions",
            "pAlive": 0.9,
            "predictedClvMinor": 12000,
            "churnRisk": 0.1,
            "reasons": ["bought 5 times", "last order 10 days ago"],
            "crossSell": [{"sku": "SKU-TEA", "name": "Green tea", "dueInDays": 20.0}],
        },
        "stageHistory": [
            {"fromStage": "FIRST_TIME_BUYER", "toStage": "REPEAT", "reason": "second order"}
        ],
        "orders": [
            {
                "externalId": body["data"]["customer"]["orders"][0]["externalId"],
                "totalMinor": 5000,
                "channel": "email",
                "lines": [{"sku": "SKU-TEA", "quantity": 1, "lineTotalMinor": 5000}],
            }
        ],
        "events": [{"type": "visit", "channel": "email", "properties": {"page": "/tea"}}],
        "consents": [{"channel": "email", "granted": True}],
        "referrals": [],
    }
    assert staff_name == "sales person"


async def test_cross_sell_comes_from_the_latest_successful_score(
    client: httpx.AsyncClient, engine: Engine, token: str
) -> None:
    with unit_of_work(engine) as session:
        c = make_customer(session)
        make_score(session, make_run(session), c)
        make_score(
            session,
            make_run(session, status="failed"),
            c,
            cross_sell=[{"sku": "NEWER-BUT-FAILED"}],
        )
    body = await gql(client, CROSS_SELL, {"id": str(c.id)}, token=token)
    assert body["data"]["crossSell"] == [
        {"sku": "SKU-TEA", "name": "Green tea", "score": 0.4, "dueInDays": 20.0}
    ]


async def test_cross_sell_items_of_a_scoring_run_are_named_from_the_catalogue(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    with unit_of_work(engine) as session:
        tea = make_product(session, sku="SKU-TEA", name="Green tea", category="drinks")
        mug = make_product(session, sku="SKU-MUG", name="Mug", category="kitchen")
        customer = make_customer(session)
        # What a scoring run writes: the product id and when the customer is due.
        make_score(
            session,
            make_run(session),
            customer,
            cross_sell=[
                {"product_id": tea.id, "due_in_days": 12.0},
                {"product_id": mug.id, "due_in_days": None},
                {"product_id": 10**9, "due_in_days": None},
            ],
        )
    query = """query ($id: ID!) {
      crossSell(customerId: $id) { sku name category dueInDays }
      customer(id: $id) { ... on Customer { score { crossSell { name } } } }
    }"""
    body = await gql(client, query, {"id": str(customer.id)}, token=token)
    assert body["data"]["crossSell"] == [
        {"sku": "SKU-TEA", "name": "Green tea", "category": "drinks", "dueInDays": 12.0},
        {"sku": "SKU-MUG", "name": "Mug", "category": "kitchen", "dueInDays": None},
        {"sku": None, "name": None, "category": None, "dueInDays": None},
    ]
    assert body["data"]["customer"]["score"]["crossSell"] == [
        {"name": "Green tea"},
        {"name": "Mug"},
        {"name": None},
    ]


async def test_score_reasons_read_in_the_language_asked_for(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    with unit_of_work(engine) as session:
        customer = make_customer(session)
        make_score(
            session,
            make_run(session),
            customer,
            reasons=[stored("recency_days", False, 213.0), "written by hand"],
        )
    query = """query ($id: ID!, $language: String) { customer(id: $id) { ... on Customer {
      score { reasons(language: $language) english: reasons } } } }"""
    body = await gql(client, query, {"id": str(customer.id), "language": "es"}, token=token)
    assert body["data"]["customer"]["score"] == {
        "reasons": ["sin actividad desde hace 7 meses", "written by hand"],
        "english": ["silent for 7 months", "written by hand"],
    }


async def test_suggestion_reasons_read_in_the_language_asked_for(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, staff_id = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    today = utcnow().date()
    with unit_of_work(engine) as session:
        customer = make_customer(session, owner_id=staff_id)
        make_suggestion(
            session,
            customer,
            staff_id,
            type="abandoned_cart",
            reason="Added 2 items (toys) to the cart today and didn't order",
            reason_key="abandoned_cart",
            reason_args={"items": 2, "categories": ["toys"], "day": str(today), "zone": "UTC"},
            priority=90,
        )
        make_suggestion(session, customer, staff_id, reason="written by hand", priority=10)
    query = """query ($language: String) { mySuggestions {
      reason(language: $language) written: reason } }"""
    body = await gql(client, query, {"language": "ru"}, token=token)
    assert body["data"]["mySuggestions"] == [
        {
            "reason": "Добавил(а) 2 товара (toys) в корзину сегодня и не оформил(а) заказ",
            "written": "Added 2 items (toys) to the cart today and didn't order",
        },
        {"reason": "written by hand", "written": "written by hand"},
    ]
