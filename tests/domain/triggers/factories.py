"""Rows the trigger, suggestion and reactivation tests need beyond tests/factories.py."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from domain.customers.models import Customer
from domain.referrals.models import Offer, OfferKind
from domain.scoring.models import RunStatus, Score, ScoringRun
from domain.suggestions.models import Suggestion

_seq = itertools.count(1)


def make_offer(session: Session, **overrides: Any) -> Offer:
    """An active offer (a reactivation one unless told otherwise)."""
    n = next(_seq)
    values: dict[str, Any] = {
        "code": f"OFFER{n}",
        "name": f"Offer {n}",
        "kind": OfferKind.REACTIVATION,
        "description": "10% off",
    }
    values.update(overrides)
    row = Offer(**values)
    session.add(row)
    session.flush()
    return row


def make_score(
    session: Session,
    customer: Customer,
    *,
    status: str = RunStatus.SUCCEEDED,
    **overrides: Any,
) -> Score:
    """A score for the customer from a scoring run of its own with the given status."""
    run = ScoringRun(status=status, as_of=date(2026, 11, 30), model_version="test")
    session.add(run)
    session.flush()
    values: dict[str, Any] = {
        "run_id": run.id,
        "customer_id": customer.id,
        "model_version": "test",
    }
    values.update(overrides)
    row = Score(**values)
    session.add(row)
    session.flush()
    return row


def make_suggestion(session: Session, customer: Customer, **overrides: Any) -> Suggestion:
    """An open suggestion for the customer's owner."""
    n = next(_seq)
    values: dict[str, Any] = {
        "customer_id": customer.id,
        "staff_id": customer.owner_id,
        "type": "birthday",
        "reason": "Birthday on 3 Dec — send a birthday treat",
        "dedupe_key": f"test:{n}",
        "created_at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    values.update(overrides)
    row = Suggestion(**values)
    session.add(row)
    session.flush()
    return row
