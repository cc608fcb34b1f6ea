"""Dashboard and lifecycle queries: stats, channels, funnel, reactivation, referrals, audit."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine

from domain.db import unit_of_work
from domain.referrals.models import OfferKind
from domain.staff.models import StaffRole, TokenRole
from domain.stages.models import StageChange
from tests.api.factories import gql, make_offer, make_run, make_score, make_token
from tests.factories import channel, days_ago, make_customer

CHANNELS = """
query {
  channelReport {
    channel customers buyers repeatBuyers netRevenueMinor averagePredictedClvMinor
  }
}
"""
FUNNEL = """
query ($from: DateTime, $to: DateTime) {
  lifecycleFunnel(from: $from, to: $to) {
    atEnd { stage customers } flows { fromStage toStage customers }
  }
}
"""
CANDIDATES = """
query { reactivationCandidates(first: 5) {
  rank expectedValueMinor reasons customer { externalId } suggestedOffer { code }
} }
"""
MY_CANDIDATES = """
query ($offset: Int!) { reactivationCandidates(first: 2, offset: $offset, mine: true) {
  rank customer { externalId }
} }
"""
STATS = "query { stats { customers orders revenue currency stages { stage customers } } }"
REFERRAL_STATS = "query { referralStats { key sent redeemed converted } }"
AUDIT = "query { auditLog { action outcome role } }"


async def test_stats_count_customers_per_stage(client: httpx.AsyncClient, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    with unit_of_work(engine) as session:
        make_customer(session, stage="loyal")
        make_customer(session, stage="loyal")
    stats = (await gql(client, STATS, token=token))["data"]["stats"]
    assert (stats["customers"], stats["orders"], stats["revenue"], stats["currency"]) == (
        2,
        0,
        "0.00",
        "USD",
    )
    assert {"stage": "loyal", "customers": 2} in stats["stages"]


async def test_channel_report_groups_by_acquisition_channel(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    with unit_of_work(engine) as session:
        web = channel(session, "web").id
        run = make_run(session)
        a = make_customer(session, acquisition_channel_id=web, order_count=3, net_revenue_minor=900)
        make_customer(session, acquisition_channel_id=web, order_count=1, net_revenue_minor=100)
        make_customer(session)
        make_score(session, run, a, predicted_clv_minor=4000)
    rows = (await gql(client, CHANNELS, token=token))["data"]["channelReport"]
    assert {
        "channel": "web",
        "customers": 2,
        "buyers": 2,
        "repeatBuyers": 1,
        "netRevenueMinor": 1000,
        "averagePredictedClvMinor": 4000,
    } in rows
    assert {
        "channel": None,
        "customers": 1,
        "buyers": 0,
        "repeatBuyers": 0,
        "netRevenueMinor": 0,
        "averagePredictedClvMinor": None,
    } in rows


async def test_lifecycle_funnel_counts_moves_in_the_period(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    with unit_of_work(engine) as session:
        c = make_customer(session, stage="repeat", created_at=days_ago(60))
        assert c.id is not None
        session.add(
            StageChange(
                customer_id=c.id,
                from_stage="first_time_buyer",
                to_stage="repeat",
                reason="2nd",
                changed_at=days_ago(5),
            )
        )
    variables = {"from": days_ago(10).isoformat(), "to": days_ago(0).isoformat()}
    funnel = (await gql(client, FUNNEL, variables, token=token))["data"]["lifecycleFunnel"]
    assert funnel["flows"] == [
        {"fromStage": "FIRST_TIME_BUYER", "toStage": "REPEAT", "customers": 1}
    ]
    assert {"stage": "REPEAT", "customers": 1} in funnel["atEnd"]
    backwards = await gql(
        client, FUNNEL, {"from": variables["to"], "to": variables["from"]}, token=token
    )
    assert backwards["errors"][0]["extensions"]["code"] == "BAD_PERIOD"


async def test_reactivation_candidates_are_ranked_by_expected_value(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    with unit_of_work(engine) as session:
        run = make_run(session)
        low = make_customer(
            session, external_id="LOW", stage="sleeping", last_order_at=days_ago(200)
        )
        high = make_customer(
            session, external_id="HIGH", stage="sleeping", last_order_at=days_ago(200)
        )
        make_customer(session, stage="loyal")
        make_score(
            session,
            run,
            low,
            predicted_clv_minor=1000,
            reactivation_propensity=0.5,
            reasons=["low"],
        )
        make_score(
            session,
            run,
            high,
            predicted_clv_minor=9000,
            reactivation_propensity=0.5,
            reasons=["high"],
        )
        make_offer(session, code="WELCOME-BACK", kind=OfferKind.REACTIVATION)
    rows = (await gql(client, CANDIDATES, token=token))["data"]["reactivationCandidates"]
    assert rows == [
        {
            "rank": 1,
            "expectedValueMinor": 4500,
            "reasons": ["high"],
            "customer": {"externalId": "HIGH"},
            "suggestedOffer": {"code": "WELCOME-BACK"},
        },
        {
            "rank": 2,
            "expectedValueMinor": 500,
            "reasons": ["low"],
            "customer": {"externalId": "LOW"},
            "suggestedOffer": {"code": "WELCOME-BACK"},
        },
    ]


async def test_referral_stats_and_offers(client: httpx.AsyncClient, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    with unit_of_work(engine) as session:
        make_offer(session, code="MGM")
    assert (await gql(client, REFERRAL_STATS, token=token))["data"]["referralStats"] == [
        {"key": None, "sent": 0, "redeemed": 0, "converted": 0}
    ]
    offers = await gql(client, 'query { offers(kind: "referral") { code } }', token=token)
    assert offers["data"]["offers"] == [{"code": "MGM"}]
    missing = await gql(client, 'query { referral(code: "nope") { code } }', token=token)
    assert missing["data"]["referral"] is None


async def test_audit_log_is_for_admins(client: httpx.AsyncClient, engine: Engine) -> None:
    admin, _ = make_token(engine, TokenRole.ADMIN)
    sales, _ = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    await gql(client, 'mutation { addStaff(input: {name: "Z"}) { __typename } }', token=sales)
    assert (await gql(client, AUDIT, token=admin))["data"]["auditLog"] == [
        {"action": "addStaff", "outcome": "Forbidden", "role": "sales"}
    ]
    refused = await gql(client, AUDIT, token=sales)
    assert refused["errors"][0]["message"] == "the audit log needs the admin role"


async def test_my_reactivation_candidates_are_my_customers_paged_in_the_database(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, me = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    _, colleague = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        run = make_run(session)
        for n, owner in enumerate([me, colleague, me, me, colleague], start=1):
            customer = make_customer(
                session,
                external_id=f"SLEEPER-{n}",
                stage="sleeping",
                owner_id=owner,
                last_order_at=days_ago(200),
            )
            make_score(
                session, run, customer, predicted_clv_minor=1000 * n, reactivation_propensity=0.5
            )
    first = await gql(client, MY_CANDIDATES, {"offset": 0}, token=token)
    second = await gql(client, MY_CANDIDATES, {"offset": 2}, token=token)
    assert first["data"]["reactivationCandidates"] == [
        {"rank": 1, "customer": {"externalId": "SLEEPER-4"}},
        {"rank": 2, "customer": {"externalId": "SLEEPER-3"}},
    ]
    assert second["data"]["reactivationCandidates"] == [
        {"rank": 3, "customer": {"externalId": "SLEEPER-1"}}
    ]


async def test_my_reactivation_candidates_need_a_staff_caller(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    body = await gql(client, MY_CANDIDATES, {"offset": 0}, token=token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["message"] == "mine: this token acts for no staff member"
    sales, _ = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    body = await gql(client, MY_CANDIDATES, {"offset": -1}, token=sales)
    assert body["errors"][0]["extensions"]["code"] == "BAD_OFFSET"


async def test_at_risk_customers_are_candidates_when_asked_for(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    with unit_of_work(engine) as session:
        run = make_run(session)
        for external_id, stage, clv in (
            ("SLIPPING", "at_risk", 8_000),
            ("ASLEEP", "sleeping", 4_000),
            ("FINE", "loyal", 90_000),
        ):
            customer = make_customer(
                session, external_id=external_id, stage=stage, last_order_at=days_ago(100)
            )
            make_score(session, run, customer, predicted_clv_minor=clv, reactivation_propensity=0.5)
    query = """query ($stages: [Stage!]) { reactivationCandidates(stages: $stages) {
      rank customer { externalId } } }"""
    both = await gql(client, query, {"stages": ["AT_RISK", "SLEEPING"]}, token=token)
    default = await gql(client, query, {}, token=token)
    loyal = await gql(client, query, {"stages": ["LOYAL"]}, token=token)
    assert [c["customer"]["externalId"] for c in both["data"]["reactivationCandidates"]] == [
        "SLIPPING",
        "ASLEEP",
    ]
    assert [c["customer"]["externalId"] for c in default["data"]["reactivationCandidates"]] == [
        "ASLEEP"
    ]
    assert loyal["errors"][0]["extensions"]["code"] == "BAD_STAGE"
