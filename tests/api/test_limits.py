"""Limits: depth, aliases, page size, body size, rate, introspection; masked unexpected errors."""

from __future__ import annotations

import logging

import httpx
import pytest
from redis import Redis
from sqlalchemy.engine import Engine

from api.app import create_app
from api.limits import RATE_KEY_PREFIX
from domain.settings import Settings
from domain.staff.models import TokenRole
from tests.api.conftest import api_settings
from tests.api.factories import gql, make_token, post
from tests.conftest import REDIS_URL

STATS = "query { stats { customers } }"
DEEP = """
query { mySuggestions { customer { referrals { referrer { referrals { referrer {
  referrals { referrer { referrals { referrer { referrals { referrer { id } } } } } } } } } } } } }
"""


@pytest.fixture
def token(engine: Engine) -> str:
    value, _ = make_token(engine, TokenRole.READ)
    return value


async def test_too_deep_query_is_refused(client: httpx.AsyncClient, token: str) -> None:
    body = await gql(client, DEEP, token=token)
    assert body["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 10"
    assert "data" not in body or body["data"] is None


async def test_too_many_aliases_are_refused(client: httpx.AsyncClient, token: str) -> None:
    query = "query {" + " ".join(f"a{i}: stats {{ customers }}" for i in range(31)) + "}"
    body = await gql(client, query, token=token)
    assert body["errors"][0]["message"] == "31 aliases found. Allowed: 30"


async def test_too_many_tokens_are_refused(client: httpx.AsyncClient, token: str) -> None:
    query = "query { stats { " + " ".join(["customers"] * 2100) + " } }"
    body = await gql(client, query, token=token)
    assert body["errors"][0]["message"] == (
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    )


async def test_page_beyond_the_maximum_is_refused(client: httpx.AsyncClient, token: str) -> None:
    body = await gql(client, "query { customers(first: 101) { __typename } }", token=token)
    assert body["errors"][0]["message"] == "first must be between 1 and 100, got 101"
    assert body["errors"][0]["extensions"]["code"] == "PAGE_TOO_LARGE"


async def test_oversized_body_gets_413(engine: Engine, token: str) -> None:
    app = create_app(
        settings=api_settings(max_body_bytes=2048),
        engine=engine,
        domain_settings=Settings(environment="test"),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await post(client, STATS + " " * 3000, token=token)
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"] == (
        "request body too large: the limit is 2048 bytes"
    )


@pytest.mark.parametrize("redis_url", ["", REDIS_URL], ids=["memory", "redis"])
async def test_rate_limit_answers_429_with_retry_after(
    engine: Engine, token: str, redis_url: str
) -> None:
    prefix_keys: list[bytes] = []
    app = create_app(
        settings=api_settings(rate_limit=3, rate_window_seconds=60),
        engine=engine,
        domain_settings=Settings(environment="test", redis_url=redis_url),
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                statuses = [(await post(client, STATS, token=token)).status_code for _ in range(4)]
                refused = await post(client, STATS, token=token)
    finally:
        if redis_url:
            redis = Redis.from_url(redis_url)
            prefix_keys = list(redis.scan_iter(f"{RATE_KEY_PREFIX}:*"))
            if prefix_keys:
                redis.delete(*prefix_keys)
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 61
    message = refused.json()["errors"][0]["message"]
    assert message.startswith("rate limit exceeded: 3 requests per 60 s for this token; retry in")
    assert bool(prefix_keys) is bool(redis_url)


async def test_introspection_can_be_switched_off(engine: Engine, token: str) -> None:
    app = create_app(
        settings=api_settings(introspection=False),
        engine=engine,
        domain_settings=Settings(environment="test"),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = await gql(client, "query { __schema { types { name } } }", token=token)
    assert body["errors"][0]["message"].startswith("GraphQL introspection has been disabled")


async def test_unexpected_error_is_masked_with_an_id_that_matches_the_log(
    client: httpx.AsyncClient,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.queries.reports.store_stats", broken)
    with caplog.at_level(logging.ERROR, logger="lifecycle.api.errors"):
        body = await gql(client, STATS, token=token)
    error = body["errors"][0]
    error_id = error["extensions"]["errorId"]
    assert error["message"] == f"Unexpected error (error id {error_id})"
    assert error["extensions"]["code"] == "INTERNAL"
    assert "secret" not in str(body)
    logged = [r for r in caplog.records if getattr(r, "error_id", None) == error_id]
    assert len(logged) == 1
    assert logged[0].exc_info is not None


async def test_graphiql_is_served_only_when_enabled(engine: Engine) -> None:
    for enabled, status in ((True, 200), (False, 401)):
        app = create_app(
            settings=api_settings(graphiql=enabled),
            engine=engine,
            domain_settings=Settings(environment="test"),
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/graphql", headers={"Accept": "text/html"})
        assert response.status_code == status
