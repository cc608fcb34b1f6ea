"""Factories for API tests: tokens per role, scores, suggestions, offers; a GraphQL helper."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.customers.models import Customer
from domain.db import unit_of_work
from domain.referrals.models import Offer, OfferKind
from domain.scoring.models import RunStatus, Score, ScoringRun
from domain.staff.models import StaffRole, TokenRole
from domain.staff.service import add_staff, create_token
from domain.suggestions.models import Suggestion


def make_token(
    engine: Engine,
    role: TokenRole,
    *,
    staff_role: StaffRole | None = None,
    telegram_user_id: int | None = None,
) -> tuple[str, int | None]:
    """A committed token of this role (tied to a new staff member when staff_role is given);
    returns the token value and the staff id."""
    with unit_of_work(engine) as session:
        staff_id = None
        if staff_role is not None:
            staff = add_staff(
                session=session,
                name=f"{staff_role} person",
                role=staff_role,
                telegram_user_id=telegram_user_id,
            ).staff
            staff_id = staff.id
        value = create_token(
            session=session, name=f"{role} test", role=role, staff_id=staff_id
        ).value
    return value, staff_id


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a GraphQL document; returns the decoded body (asserting HTTP 200)."""
    response = await post(client, query, variables, token=token, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a GraphQL document and return the raw response."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
    )


def make_run(session: Session, **overrides: Any) -> ScoringRun:
    """A succeeded scoring run."""
    values: dict[str, Any] = {
        "status": RunStatus.SUCCEEDED,
        "as_of": date(2026, 11, 1),
        "model_version": "test-1",
    }
    values.update(overrides)
    run = ScoringRun(**values)
    session.add(run)
    session.flush()
    return run


def make_score(session: Session, run: ScoringRun, customer: Customer, **overrides: Any) -> Score:
    """A score of a customer in a run, with sensible figures."""
    assert run.id is not None and customer.id is not None
    values: dict[str, Any] = {
        "run_id": run.id,
        "customer_id": customer.id,
        "model_version": run.model_version,
        "rfm_segment": "champions",
        "p_alive": 0.9,
        "predicted_clv_minor": 12_000,
        "churn_risk": 0.1,
        "reasons": ["bought 5 times", "last order 10 days ago"],
        "cross_sell": [{"sku": "SKU-TEA", "name": "Green tea", "score": 0.4, "due_in_days": 20.0}],
    }
    values.update(overrides)
    score = Score(**values)
    session.add(score)
    session.flush()
    return score


def make_suggestion(
    session: Session, customer: Customer, staff_id: int | None, **overrides: Any
) -> Suggestion:
    """An open suggestion about a customer for a staff member."""
    assert customer.id is not None
    values: dict[str, Any] = {
        "customer_id": customer.id,
        "staff_id": staff_id,
        "type": "birthday",
        "reason": "birthday in 3 days",
        "priority": 50,
        "dedupe_key": f"test:{secrets.token_hex(6)}",
    }
    values.update(overrides)
    row = Suggestion(**values)
    session.add(row)
    session.flush()
    return row


def make_offer(session: Session, **overrides: Any) -> Offer:
    """An active referral offer."""
    values: dict[str, Any] = {
        "code": f"REF-{secrets.token_hex(3)}",
        "name": "Give 10, get 10",
        "kind": OfferKind.REFERRAL,
        "referrer_reward_minor": 1000,
        "referee_benefit": "10 off the first order",
    }
    values.update(overrides)
    row = Offer(**values)
    session.add(row)
    session.flush()
    return row
