"""Mutations: typed results and refusals, idempotent retries, audit entries."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from domain.audit.models import AuditEntry
from domain.db import unit_of_work
from domain.referrals.models import Referral
from domain.staff.models import Staff, StaffRole, TokenRole
from domain.suggestions.models import Suggestion
from tests.api.factories import gql, make_offer, make_suggestion, make_token
from tests.factories import days_ago, grant_consent, make_customer

SET_CONSENT = """
mutation ($id: ID!, $channel: String!, $granted: Boolean!, $key: String) {
  setConsent(customerId: $id, channel: $channel, granted: $granted, idempotencyKey: $key) {
    __typename
    ... on ConsentSet { customerId consent { channel granted source } }
    ... on NotFound { entity key }
    ... on ValidationError { field message }
  }
}
"""
TRIGGER = """
mutation ($customer: ID!, $offer: ID!, $channel: String!, $key: String!) {
  triggerReferralOffer(
    customerId: $customer, offerId: $offer, channel: $channel, idempotencyKey: $key
  ) {
    __typename
    ... on ReferralOfferSent { created referral { id code status referrer { externalId } } }
    ... on ReferralNotEligible { reason code }
    ... on ConsentMissing { channel code }
  }
}
"""
REDEEM = """
mutation ($code: String!, $customer: RefereeInput!) {
  redeemReferral(code: $code, customer: $customer) {
    __typename
    ... on ReferralRedeemed { newCustomer referee { email referralCode } referral { status } }
    ... on NotFound { entity key }
    ... on ReferralNotEligible { code }
  }
}
"""
ACCEPT = """
mutation ($id: ID!) {
  acceptSuggestion(id: $id, note: "called") {
    __typename
    ... on SuggestionResolved { suggestion { status } }
    ... on Forbidden { message }
    ... on Conflict { message }
    ... on NotFound { entity }
  }
}
"""
DISMISS = """
mutation ($id: ID!) {
  dismissSuggestion(id: $id) { __typename ... on SuggestionResolved { suggestion { status } } }
}
"""
ADD_STAFF = """
mutation ($email: String, $key: String) {
  addStaff(input: {name: "Dana", email: $email, role: ADMIN}, idempotencyKey: $key) {
    __typename
    ... on StaffAdded { staff { id email role } linkCode }
    ... on ValidationError { field message }
  }
}
"""
CREATE_TOKEN = """
mutation ($staffId: ID) {
  createApiToken(name: "dash", role: READ, staffId: $staffId) {
    __typename
    ... on ApiTokenCreated { value token { role prefix } }
    ... on NotFound { entity }
  }
}
"""
STATS = "query { stats { customers } }"


def audit_count(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_set_consent_records_the_answer_and_an_audit_entry(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, staff_id = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        c = make_customer(session)
    body = await gql(
        client, SET_CONSENT, {"id": str(c.id), "channel": "sms", "granted": True}, token=token
    )
    assert body["data"]["setConsent"] == {
        "__typename": "ConsentSet",
        "customerId": str(c.id),
        "consent": {"channel": "sms", "granted": True, "source": "api"},
    }
    with unit_of_work(engine) as session:
        entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.outcome, entry.staff_id, entry.role) == (
        "setConsent",
        "ok",
        staff_id,
        "sales",
    )
    assert (entry.target_type, entry.target_id) == ("customer", c.id)


async def test_set_consent_refusals_are_typed(client: httpx.AsyncClient, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.SALES)
    with unit_of_work(engine) as session:
        c = make_customer(session)
    missing = await gql(
        client, SET_CONSENT, {"id": "999999", "channel": "sms", "granted": True}, token=token
    )
    assert missing["data"]["setConsent"] == {
        "__typename": "NotFound",
        "entity": "customer",
        "key": "999999",
    }
    bad = await gql(
        client, SET_CONSENT, {"id": str(c.id), "channel": "fax", "granted": True}, token=token
    )
    assert bad["data"]["setConsent"] == {
        "__typename": "ValidationError",
        "field": "channel",
        "message": "no channel with code 'fax'",
    }
    assert audit_count(engine) == 2


async def test_referral_offer_is_sent_once_per_idempotency_key(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        c = make_customer(session, external_id="VIP", stage="loyal", timezone="UTC")
        grant_consent(session, c, "email")
        offer = make_offer(session)
    variables = {"customer": str(c.id), "offer": str(offer.id), "channel": "email", "key": "k-1"}
    first = (await gql(client, TRIGGER, variables, token=token))["data"]["triggerReferralOffer"]
    again = (await gql(client, TRIGGER, variables, token=token))["data"]["triggerReferralOffer"]
    assert first["__typename"] == "ReferralOfferSent"
    assert first["created"] is True
    assert first["referral"]["referrer"] == {"externalId": "VIP"}
    assert again["referral"] == first["referral"]
    assert again["created"] is False
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(Referral)) == 1
    assert audit_count(engine) == 1


async def test_referral_offer_without_consent_is_consent_missing(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.SALES)
    with unit_of_work(engine) as session:
        c = make_customer(session, stage="loyal")
        offer = make_offer(session)
    variables = {"customer": str(c.id), "offer": str(offer.id), "channel": "email", "key": "k-2"}
    body = await gql(client, TRIGGER, variables, token=token)
    assert body["data"]["triggerReferralOffer"] == {
        "__typename": "ConsentMissing",
        "channel": "email",
        "code": "no_consent",
    }


async def test_referral_offer_to_a_prospect_is_not_eligible(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.SALES)
    with unit_of_work(engine) as session:
        c = make_customer(session, name="Pia", stage="prospect")
        offer = make_offer(session)
    variables = {"customer": str(c.id), "offer": str(offer.id), "channel": "email", "key": "k-3"}
    result = (await gql(client, TRIGGER, variables, token=token))["data"]["triggerReferralOffer"]
    assert result["__typename"] == "ReferralNotEligible"
    assert result["code"] == "not_eligible_stage"
    assert result["reason"].startswith("Pia is ")


async def test_redeem_referral_creates_the_referee(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.SALES)
    with unit_of_work(engine) as session:
        c = make_customer(session, stage="loyal")
        grant_consent(session, c, "email")
        offer = make_offer(session)
    variables = {"customer": str(c.id), "offer": str(offer.id), "channel": "email", "key": "k-4"}
    sent = (await gql(client, TRIGGER, variables, token=token))["data"]["triggerReferralOffer"]
    body = await gql(
        client,
        REDEEM,
        {"code": sent["referral"]["code"], "customer": {"email": "new@x.org"}},
        token=token,
    )
    assert body["data"]["redeemReferral"] == {
        "__typename": "ReferralRedeemed",
        "newCustomer": True,
        "referee": {"email": "new@x.org", "referralCode": None},
        "referral": {"status": "redeemed"},
    }
    unknown = await gql(
        client, REDEEM, {"code": "zzz", "customer": {"email": "a@b.c"}}, token=token
    )
    assert unknown["data"]["redeemReferral"] == {
        "__typename": "NotFound",
        "entity": "referral",
        "key": "zzz",
    }


async def test_sales_person_resolves_own_suggestions_only(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    mine, me = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    _, other = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        own = make_suggestion(session, make_customer(session, owner_id=me), me)
        theirs = make_suggestion(session, make_customer(session, owner_id=other), other)
        dismissable = make_suggestion(session, make_customer(session, owner_id=me), me)
    accepted = await gql(client, ACCEPT, {"id": str(own.id)}, token=mine)
    assert accepted["data"]["acceptSuggestion"] == {
        "__typename": "SuggestionResolved",
        "suggestion": {"status": "accepted"},
    }
    again = await gql(client, ACCEPT, {"id": str(own.id)}, token=mine)
    assert again["data"]["acceptSuggestion"] == {
        "__typename": "Conflict",
        "message": f"suggestion {own.id} is already accepted",
    }
    refused = await gql(client, ACCEPT, {"id": str(theirs.id)}, token=mine)
    assert refused["data"]["acceptSuggestion"]["__typename"] == "Forbidden"
    missing = await gql(client, ACCEPT, {"id": "99999"}, token=mine)
    assert missing["data"]["acceptSuggestion"] == {"__typename": "NotFound", "entity": "suggestion"}
    dismissed = await gql(client, DISMISS, {"id": str(dismissable.id)}, token=mine)
    assert dismissed["data"]["dismissSuggestion"]["suggestion"] == {"status": "dismissed"}
    with unit_of_work(engine) as session:
        row = session.get(Suggestion, theirs.id)
        assert row is not None and row.status == "open"


async def test_resolving_needs_a_staff_member(client: httpx.AsyncClient, engine: Engine) -> None:
    token, _ = make_token(engine, TokenRole.ADMIN)
    with unit_of_work(engine) as session:
        s = make_suggestion(session, make_customer(session), None)
    body = await gql(client, ACCEPT, {"id": str(s.id)}, token=token)
    assert body["data"]["acceptSuggestion"] == {
        "__typename": "Forbidden",
        "message": "this token acts for no staff member",
    }


async def test_add_staff_retry_with_the_same_key_returns_the_first_result(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.ADMIN)
    variables = {"email": "dana@example.com", "key": "add-dana"}
    first = (await gql(client, ADD_STAFF, variables, token=token))["data"]["addStaff"]
    retry = (await gql(client, ADD_STAFF, variables, token=token))["data"]["addStaff"]
    assert (
        first["staff"]
        == retry["staff"]
        == {
            "id": first["staff"]["id"],
            "email": "dana@example.com",
            "role": "admin",
        }
    )
    assert first["linkCode"] is not None
    assert retry["linkCode"] is None
    duplicate = await gql(client, ADD_STAFF, {"email": "dana@example.com"}, token=token)
    assert duplicate["data"]["addStaff"] == {
        "__typename": "ValidationError",
        "field": "email",
        "message": "a staff member with that email or Telegram id already exists",
    }
    with unit_of_work(engine) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Staff)
                .where(col(Staff.email) == "dana@example.com")
            )
            == 1
        )
    assert audit_count(engine) == 2


async def test_created_api_token_works_and_is_shown_once(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.ADMIN)
    created = (await gql(client, CREATE_TOKEN, {}, token=token))["data"]["createApiToken"]
    assert created["token"]["role"] == "read"
    assert created["value"].startswith(created["token"]["prefix"])
    assert (await gql(client, STATS, token=created["value"]))["data"]["stats"] == {"customers": 0}
    missing = await gql(client, CREATE_TOKEN, {"staffId": "424242"}, token=token)
    assert missing["data"]["createApiToken"] == {"__typename": "NotFound", "entity": "staff"}


async def test_my_suggestions_lists_the_callers_open_ones(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, me = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        c = make_customer(session, owner_id=me)
        make_suggestion(session, c, me, reason="low", priority=10)
        make_suggestion(session, c, me, reason="high", priority=90)
        make_suggestion(session, c, me, reason="gone", expires_at=days_ago(1))
        make_suggestion(session, c, None, reason="not mine")
    body = await gql(client, "query { mySuggestions { reason customer { id } } }", token=token)
    assert body["data"]["mySuggestions"] == [
        {"reason": "high", "customer": {"id": str(c.id)}},
        {"reason": "low", "customer": {"id": str(c.id)}},
    ]
