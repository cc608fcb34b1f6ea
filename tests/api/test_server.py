"""A real uvicorn server on a free loopback port: health, GraphQL over HTTP, live suggestions."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
import websockets
from redis import Redis
from sqlalchemy.engine import Engine
from websockets.typing import Subprotocol

from api.app import create_app
from api.pubsub import SUGGESTIONS_CHANNEL
from domain.db import unit_of_work
from domain.settings import Settings
from domain.staff.models import StaffRole, TokenRole
from tests.api.conftest import api_settings
from tests.api.factories import make_suggestion, make_token
from tests.conftest import REDIS_URL
from tests.factories import make_customer

SUBSCRIBE = "subscription { suggestionCreated { reason customer { externalId } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    """The app under uvicorn in a thread, with Redis pub/sub; yields its base URL."""
    port = free_port()
    app = create_app(
        settings=api_settings(),
        engine=engine,
        domain_settings=Settings(environment="test", redis_url=REDIS_URL),
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    for _ in range(200):
        if instance.started:
            break
        threading.Event().wait(0.05)
    assert instance.started, "uvicorn did not start"
    yield f"127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


async def test_health_readiness_and_a_query_over_real_http(server: str, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    async with httpx.AsyncClient(base_url=f"http://{server}") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
        response = await client.post(
            "/graphql",
            json={"query": "{ stats { customers } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.json() == {"data": {"stats": {"customers": 0}}}
    assert len(response.headers["x-request-id"]) == 16


async def test_subscriber_receives_own_suggestions_published_by_a_worker(
    server: str, engine: Engine
) -> None:
    token, me = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    _, other = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        customer = make_customer(session, external_id="LIVE", owner_id=me)
        not_mine = make_suggestion(session, customer, other, reason="for someone else")
        mine = make_suggestion(session, customer, me, reason="call her today")
    async with websockets.connect(
        f"ws://{server}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.3)  # the subscription is listening once the resolver has started
        redis = Redis.from_url(REDIS_URL)
        for row in (not_mine, mine):
            redis.publish(
                SUGGESTIONS_CHANNEL, json.dumps({"suggestion_id": row.id, "staff_id": row.staff_id})
            )
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    assert message == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "suggestionCreated": {
                    "reason": "call her today",
                    "customer": {"externalId": "LIVE"},
                }
            }
        },
    }


async def test_websocket_with_a_bad_token_is_closed(server: str) -> None:
    async with websockets.connect(
        f"ws://{server}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer nope"}})
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
