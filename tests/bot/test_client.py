"""How the GraphQL client turns transport and API failures into the bot's three kinds."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bot.client import ApiClient, ApiError, ApiFailure, ApiUnavailable, NotStaff, Problem

Handler = Callable[[httpx.Request], httpx.Response]


async def ask(handler: Handler, act_as: int | None = 5001) -> None:
    client = ApiClient(
        "http://api.test/graphql", "lc_token", transport=httpx.MockTransport(handler)
    )
    try:
        await client.execute("query { me { id } }", act_as=act_as)
    finally:
        await client.aclose()


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def answer(status: int, body: object) -> Handler:
    return lambda request: httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("handler", "kind"),
    [
        (timeout, ApiUnavailable),
        (refused, ApiUnavailable),
        (answer(503, {"detail": "down"}), ApiUnavailable),
        (answer(429, {"errors": [{"message": "rate limit"}]}), ApiUnavailable),
        (answer(403, {"errors": [{"message": "no active staff member"}]}), NotStaff),
        (answer(401, {"errors": [{"message": "invalid token"}]}), ApiError),
        (
            answer(200, {"data": None, "errors": [{"message": "Unexpected error (error id 1f)"}]}),
            ApiError,
        ),
    ],
)
async def test_failures_map_to_what_the_conversation_can_say(
    handler: Handler, kind: type[ApiFailure]
) -> None:
    with pytest.raises(ApiFailure) as raised:
        await ask(handler)

    assert type(raised.value) is kind


async def test_a_forbidden_query_is_a_problem_with_its_kind() -> None:
    body = {"errors": [{"message": "admin only", "extensions": {"code": "FORBIDDEN"}}]}

    with pytest.raises(Problem) as raised:
        await ask(answer(200, body))

    assert (raised.value.kind, raised.value.message) == ("Forbidden", "admin only")


async def test_requests_carry_the_token_and_the_telegram_user_acted_for() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"me": None}})

    await ask(record, act_as=5001)
    await ask(record, act_as=None)

    assert seen[0].headers["authorization"] == "Bearer lc_token"
    assert seen[0].headers["x-act-as-telegram-user"] == "5001"
    assert "x-act-as-telegram-user" not in seen[1].headers
