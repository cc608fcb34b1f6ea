"""Bearer tokens, roles, and the bot acting for a staff member."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine

from domain.clock import utcnow
from domain.db import unit_of_work
from domain.staff.models import Staff, StaffRole, TokenRole
from domain.staff.service import authenticate, create_token, revoke_token
from tests.api.factories import gql, make_token, post

STATS = "query { stats { customers } }"
ADD_STAFF = """
mutation ($name: String!) {
  addStaff(input: {name: $name}) {
    __typename
    ... on StaffAdded { staff { name role } linkCode }
    ... on Forbidden { message requiredRole }
  }
}
"""
MY_SUGGESTIONS = "query { mySuggestions { id } }"


async def test_request_without_token_is_refused_with_401(client: httpx.AsyncClient) -> None:
    response = await post(client, STATS, token=None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_unknown_token_is_refused_with_401(client: httpx.AsyncClient) -> None:
    response = await post(client, STATS, token="lc_not-a-real-token")
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "invalid token: unknown or revoked token"


async def test_revoked_token_stops_working(client: httpx.AsyncClient, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    assert (await post(client, STATS, token=token)).status_code == 200
    with unit_of_work(engine) as session:
        token_id = authenticate(session=session, value=token).id
        assert token_id is not None
        revoke_token(session=session, token_id=token_id)
    assert (await post(client, STATS, token=token)).status_code == 401


async def test_expired_token_is_refused(client: httpx.AsyncClient, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        value = create_token(
            session=session, name="old", role=TokenRole.READ, expires_at=utcnow() - timedelta(1)
        ).value
    response = await post(client, STATS, token=value)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "invalid token: token expired"


async def test_read_token_may_query_but_not_mutate(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    assert (await gql(client, STATS, token=token))["data"]["stats"]["customers"] == 0
    body = await gql(client, ADD_STAFF, {"name": "Eve"}, token=token)
    assert body["data"]["addStaff"] == {
        "__typename": "Forbidden",
        "message": "this needs the admin role; the caller has read",
        "requiredRole": "admin",
    }


async def test_sales_token_may_not_run_admin_mutations(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    body = await gql(client, ADD_STAFF, {"name": "Eve"}, token=token)
    assert body["data"]["addStaff"]["__typename"] == "Forbidden"
    assert body["data"]["addStaff"]["requiredRole"] == "admin"


async def test_admin_token_adds_staff(client: httpx.AsyncClient, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.ADMIN)
    body = await gql(client, ADD_STAFF, {"name": "Eve"}, token=token)
    added = body["data"]["addStaff"]
    assert added["__typename"] == "StaffAdded"
    assert added["staff"] == {"name": "Eve", "role": "sales"}
    assert len(added["linkCode"]) == 12


async def test_bot_acts_for_the_active_staff_member_of_the_telegram_header(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES, telegram_user_id=5_000_000_001)
    bot, _ = make_token(engine, TokenRole.BOT)
    headers = {"X-Act-As-Telegram-User": "5000000001"}
    body = await gql(client, MY_SUGGESTIONS, token=bot, headers=headers)
    assert body == {"data": {"mySuggestions": []}}


async def test_bot_is_refused_for_an_unknown_or_inactive_telegram_user(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    _, staff_id = make_token(
        engine, TokenRole.SALES, staff_role=StaffRole.SALES, telegram_user_id=777
    )
    bot, _ = make_token(engine, TokenRole.BOT)
    unknown = await post(client, STATS, token=bot, headers={"X-Act-As-Telegram-User": "778"})
    assert unknown.status_code == 403
    with unit_of_work(engine) as session:
        staff = session.get(Staff, staff_id)
        assert staff is not None
        staff.active = False
        session.add(staff)
    inactive = await post(client, STATS, token=bot, headers={"X-Act-As-Telegram-User": "777"})
    assert inactive.status_code == 403
    assert inactive.json()["errors"][0]["message"] == (
        "no active staff member is linked to this Telegram user"
    )


async def test_bot_without_header_is_read_only(client: httpx.AsyncClient, engine: Engine) -> None:
    bot, _ = make_token(engine, TokenRole.BOT)
    body = await gql(client, ADD_STAFF, {"name": "Eve"}, token=bot)
    assert body["data"]["addStaff"]["__typename"] == "Forbidden"
    body = await gql(client, MY_SUGGESTIONS, token=bot)
    assert body["errors"][0]["message"] == "this token acts for no staff member"
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_only_bot_tokens_may_act_for_someone(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.ADMIN)
    response = await post(client, STATS, token=token, headers={"X-Act-As-Telegram-User": "1"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == (
        "only bot tokens may send x-act-as-telegram-user"
    )
