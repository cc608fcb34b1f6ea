"""upsertCustomer, recordOrder, recordEvents over HTTP: typed results and refusals, roles,
idempotent retries, audit entries and live notices after commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col
from starlette.applications import Starlette

from api.app import create_app
from api.settings import ApiSettings
from domain.audit.models import AuditEntry
from domain.clock import utcnow
from domain.db import unit_of_work
from domain.events.models import Event
from domain.orders.models import Order
from domain.settings import Settings
from domain.staff.models import StaffRole, TokenRole
from domain.suggestions.models import Suggestion
from tests.api.factories import gql, make_token
from tests.factories import grant_consent, make_customer

UPSERT = """
mutation ($input: CustomerInput!, $key: String) {
  upsertCustomer(input: $input, idempotencyKey: $key) {
    __typename
    ... on CustomerUpserted {
      created
      customer { id externalId name email phone timezone stage acquisitionChannel
                 owner { id } consents { channel granted source } }
    }
    ... on ValidationError { field message }
    ... on Forbidden { message requiredRole }
  }
}
"""
RECORD_ORDER = """
mutation ($input: OrderInput!, $key: String) {
  recordOrder(input: $input, idempotencyKey: $key) {
    __typename
    ... on OrderRecorded {
      created
      order {
        id externalId kind totalMinor currency channel
        lines { sku quantity unitPrice lineTotalMinor }
      }
      customer { stage orderCount netRevenueMinor }
      stageChanges { customerId fromStage toStage reason }
      newSuggestions { id type }
    }
    ... on ValidationError { field message }
    ... on NotFound { entity key message }
    ... on Forbidden { message }
  }
}
"""
RECORD_EVENTS = """
mutation ($events: [EventInput!]!, $key: String) {
  recordEvents(events: $events, idempotencyKey: $key) {
    __typename
    ... on EventsRecorded {
      inserted duplicates
      rejected { index field message }
      stageChanges { customerId fromStage toStage }
      newSuggestions { type customer { id } }
    }
    ... on ValidationError { field message }
    ... on Forbidden { message }
  }
}
"""


@pytest.fixture
async def app(engine: Engine, settings: ApiSettings) -> AsyncIterator[Starlette]:
    """The app with its lifespan running, for tests that listen to its broadcaster."""
    application = create_app(
        settings=settings, engine=engine, domain_settings=Settings(environment="test")
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on `app`."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def count(engine: Engine, model: type[Any]) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def iso(hours_ago: float) -> str:
    return (utcnow() - timedelta(hours=hours_ago)).isoformat()


async def test_upsert_customer_creates_then_updates_only_the_given_fields(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, staff_id = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    created = await gql(
        client,
        UPSERT,
        {
            "input": {
                "externalId": "shop-7",
                "name": "Ada",
                "email": "ada@example.com",
                "phone": "+49 30 1234567",
                "timezone": "Europe/Berlin",
                "acquisitionChannel": "social",
                "ownerId": str(staff_id),
                "consents": [{"channel": "email", "granted": True}],
            }
        },
        token=token,
    )
    customer = created["data"]["upsertCustomer"]["customer"]
    assert created["data"]["upsertCustomer"]["created"] is True
    assert customer == {
        "id": customer["id"],
        "externalId": "shop-7",
        "name": "Ada",
        "email": "ada@example.com",
        "phone": "+49301234567",
        "timezone": "Europe/Berlin",
        "stage": "PROSPECT",
        "acquisitionChannel": "social",
        "owner": {"id": str(staff_id)},
        "consents": [{"channel": "email", "granted": True, "source": "api"}],
    }

    updated = await gql(
        client, UPSERT, {"input": {"externalId": "shop-7", "email": None}}, token=token
    )
    assert updated["data"]["upsertCustomer"]["created"] is False
    assert updated["data"]["upsertCustomer"]["customer"] == {**customer, "email": None}


async def test_upsert_customer_refusals_name_the_field(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.ADMIN)
    cases = [
        ({"externalId": "x", "email": "nope"}, "email", "email 'nope' is not an email address"),
        (
            {"externalId": "x", "timezone": "Moon/Base"},
            "timezone",
            "timezone 'Moon/Base' is not an IANA time zone like Europe/Berlin",
        ),
        ({"externalId": "x", "ownerId": "777"}, "ownerId", "no active staff member with id 777"),
        ({"externalId": "x", "ownerId": "seven"}, "ownerId", "ownerId must be a number"),
        (
            {"externalId": "x", "acquisitionChannel": "fax"},
            "acquisitionChannel",
            "no channel with code 'fax'",
        ),
    ]
    for values, field, message in cases:
        body = await gql(client, UPSERT, {"input": values}, token=token)
        assert body["data"]["upsertCustomer"] == {
            "__typename": "ValidationError",
            "field": field,
            "message": message,
        }
    assert count(engine, AuditEntry) == len(cases)


async def test_read_tokens_and_unlinked_bots_may_not_write(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    read, _ = make_token(engine, TokenRole.READ)
    bot, _ = make_token(engine, TokenRole.BOT)
    for token in (read, bot):
        body = await gql(client, UPSERT, {"input": {"externalId": "x"}}, token=token)
        assert body["data"]["upsertCustomer"] == {
            "__typename": "Forbidden",
            "message": "this needs the sales role; the caller has read",
            "requiredRole": "sales",
        }
        events = await gql(client, RECORD_EVENTS, {"events": []}, token=token)
        assert events["data"]["recordEvents"]["__typename"] == "Forbidden"


async def test_a_bot_acting_for_a_sales_person_may_write(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES, telegram_user_id=5005)
    bot, _ = make_token(engine, TokenRole.BOT)
    body = await gql(
        client,
        UPSERT,
        {"input": {"externalId": "via-bot"}},
        token=bot,
        headers={"X-Act-As-Telegram-User": "5005"},
    )
    assert body["data"]["upsertCustomer"]["created"] is True


async def test_upsert_retry_with_the_same_key_returns_the_first_result(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.SALES)
    variables = {"input": {"externalId": "shop-8", "name": "Bo"}, "key": "up-1"}
    first = (await gql(client, UPSERT, variables, token=token))["data"]["upsertCustomer"]
    retry = (await gql(client, UPSERT, variables, token=token))["data"]["upsertCustomer"]
    assert first["created"] is True
    assert retry["created"] is False
    assert retry["customer"] == first["customer"]
    assert count(engine, AuditEntry) == 1


async def test_record_order_stores_exact_money_and_moves_the_customer(
    app: Starlette, http: httpx.AsyncClient, engine: Engine
) -> None:
    token, staff_id = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        customer = make_customer(session, external_id="ada", owner_id=staff_id)
        grant_consent(session, customer, "email")
    order = {
        "externalId": "web-1",
        "customerExternalId": "ada",
        "orderedAt": iso(1),
        "channel": "web",
        "lines": [
            {"sku": "TEA", "quantity": 3, "unitPrice": "19.99", "description": "Tea"},
            {"sku": "PIN", "quantity": 1, "unitPrice": 0.125},
        ],
    }
    broadcaster = app.state.resources.broadcaster
    async with broadcaster.subscribe() as notices:
        body = await gql(http, RECORD_ORDER, {"input": order, "key": "o-1"}, token=token)
        notice = await asyncio.wait_for(anext(notices), timeout=5)
    result = body["data"]["recordOrder"]
    [suggestion] = result["newSuggestions"]
    assert result == {
        "__typename": "OrderRecorded",
        "created": True,
        "order": {
            "id": result["order"]["id"],
            "externalId": "web-1",
            "kind": "sale",
            "totalMinor": 6009,
            "currency": "USD",
            "channel": "web",
            "lines": [
                {"sku": "TEA", "quantity": 3, "unitPrice": "19.9900", "lineTotalMinor": 5997},
                {"sku": "PIN", "quantity": 1, "unitPrice": "0.1250", "lineTotalMinor": 12},
            ],
        },
        "customer": {"stage": "FIRST_TIME_BUYER", "orderCount": 1, "netRevenueMinor": 6009},
        "stageChanges": [
            {
                "customerId": str(customer.id),
                "fromStage": "PROSPECT",
                "toStage": "FIRST_TIME_BUYER",
                "reason": "first order",
            }
        ],
        "newSuggestions": [{"id": suggestion["id"], "type": "first_order"}],
    }
    assert notice == {"suggestion_id": int(suggestion["id"]), "staff_id": staff_id}

    retry = await gql(http, RECORD_ORDER, {"input": order, "key": "o-1"}, token=token)
    assert retry["data"]["recordOrder"] == {**result, "created": False}
    repeat = await gql(http, RECORD_ORDER, {"input": order}, token=token)
    assert repeat["data"]["recordOrder"]["created"] is False
    assert repeat["data"]["recordOrder"]["stageChanges"] == []
    assert (count(engine, Order), count(engine, Suggestion)) == (1, 1)
    with unit_of_work(engine) as session:
        audited = session.execute(
            select(
                col(AuditEntry.action),
                col(AuditEntry.idempotency_key),
                col(AuditEntry.target_type),
                col(AuditEntry.target_id),
            ).order_by(col(AuditEntry.id))
        ).all()
    order_id = int(result["order"]["id"])
    assert [tuple(row) for row in audited] == [
        ("recordOrder", "o-1", "order", order_id),
        ("recordOrder", None, "order", order_id),
    ]


async def test_record_order_refusals_are_typed(client: httpx.AsyncClient, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.SALES)
    with unit_of_work(engine) as session:
        customer = make_customer(session)
    line = {"sku": "TEA", "quantity": 1, "unitPrice": "1.50"}
    base = {
        "externalId": "o-2",
        "customerId": str(customer.id),
        "orderedAt": iso(0),
        "lines": [line],
    }

    missing = await gql(
        client,
        RECORD_ORDER,
        {"input": {**base, "customerId": None, "customerExternalId": "ghost"}},
        token=token,
    )
    assert missing["data"]["recordOrder"] == {
        "__typename": "NotFound",
        "entity": "customer",
        "key": "ghost",
        "message": "no customer with external id ghost",
    }
    bad_price = await gql(
        client,
        RECORD_ORDER,
        {"input": {**base, "lines": [line, {**line, "unitPrice": "0.00001"}]}},
        token=token,
    )
    assert bad_price["data"]["recordOrder"] == {
        "__typename": "ValidationError",
        "field": "lines[1].unitPrice",
        "message": "unit_price 0.00001 has more than 4 decimals",
    }
    future = await gql(
        client,
        RECORD_ORDER,
        {"input": {**base, "orderedAt": (utcnow() + timedelta(hours=1)).isoformat()}},
        token=token,
    )
    assert future["data"]["recordOrder"]["field"] == "orderedAt"
    assert count(engine, Order) == 0


async def test_record_events_reports_bad_events_and_stores_the_rest(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.SALES)
    with unit_of_work(engine) as session:
        pia = make_customer(session, external_id="pia", created_at=utcnow() - timedelta(days=9))
    events = [
        {
            "idempotencyKey": "e1",
            "type": "email_open",
            "occurredAt": iso(3),
            "customerId": str(pia.id),
        },
        {
            "idempotencyKey": "e2",
            "type": "visit",
            "occurredAt": iso(2),
            "customerExternalId": "pia",
            "channel": "web",
            "properties": {"page": "/tea"},
        },
        {"idempotencyKey": "e3", "type": "visit", "occurredAt": iso(2), "customerId": "abc"},
        {
            "idempotencyKey": "e4",
            "type": "visit",
            "occurredAt": iso(2),
            "customerExternalId": "ghost",
        },
        {
            "idempotencyKey": "e1",
            "type": "email_open",
            "occurredAt": iso(3),
            "customerId": str(pia.id),
        },
        {"idempotencyKey": "e6", "type": "visit", "occurredAt": iso(-1), "customerId": str(pia.id)},
        {
            "idempotencyKey": "e7",
            "type": "visit",
            "occurredAt": iso(2),
            "customerId": str(pia.id),
            "properties": "not an object",
        },
    ]

    first = await gql(client, RECORD_EVENTS, {"events": events, "key": "batch-1"}, token=token)
    result = first["data"]["recordEvents"]
    assert result == {
        "__typename": "EventsRecorded",
        "inserted": 2,
        "duplicates": 1,
        "rejected": [
            {"index": 2, "field": "customerId", "message": "customerId must be a number"},
            {"index": 3, "field": "customer", "message": "no customer with external id ghost"},
            {"index": 5, "field": "occurredAt", "message": result["rejected"][2]["message"]},
            {"index": 6, "field": "properties", "message": "properties must be a JSON object"},
        ],
        "stageChanges": [{"customerId": str(pia.id), "fromStage": "PROSPECT", "toStage": "LEAD"}],
        "newSuggestions": [],
    }
    assert result["rejected"][2]["message"].endswith("is in the future")

    retry = await gql(client, RECORD_EVENTS, {"events": events, "key": "batch-1"}, token=token)
    assert retry["data"]["recordEvents"] == result
    resent = await gql(client, RECORD_EVENTS, {"events": events[:2]}, token=token)
    assert resent["data"]["recordEvents"]["inserted"] == 0
    assert resent["data"]["recordEvents"]["duplicates"] == 2
    assert resent["data"]["recordEvents"]["stageChanges"] == []
    assert count(engine, Event) == 2


async def test_record_events_creates_an_abandoned_cart_suggestion_for_a_due_cart(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, staff_id = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        carter = make_customer(session, owner_id=staff_id, stage="repeat", timezone="UTC")
        grant_consent(session, carter, "email")
    events = [
        {
            "idempotencyKey": "cart-1",
            "type": "cart_add",
            "occurredAt": iso(30),
            "customerId": str(carter.id),
            "properties": {"sku": "TEA", "quantity": 2},
        },
    ]
    body = await gql(client, RECORD_EVENTS, {"events": events}, token=token)
    assert body["data"]["recordEvents"]["newSuggestions"] == [
        {"type": "abandoned_cart", "customer": {"id": str(carter.id)}}
    ]


async def test_an_oversized_batch_is_refused_whole(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.SALES)
    event = {"idempotencyKey": "k", "type": "visit", "occurredAt": iso(1), "customerId": "1"}
    body = await gql(client, RECORD_EVENTS, {"events": [event] * 5001}, token=token)
    assert body["data"]["recordEvents"] == {
        "__typename": "ValidationError",
        "field": "events",
        "message": "a batch may hold at most 5000 events",
    }
