"""The contact policy's services: may we contact, record a touch, change a consent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from domain.clock import as_utc
from domain.contact.config import ContactPolicyConfig
from domain.contact.errors import UnknownCustomer
from domain.contact.models import ContactLog, ContactOutcome
from domain.contact.policy import ContactDecision, ContactReason, evaluate
from domain.contact.queries import channel_facts, customer_facts
from domain.customers.models import Consent, Customer
from domain.stages.config import default_config


def check(
    *,
    session: Session,
    customer_id: int,
    channel_code: str,
    at: datetime,
    kind: str,
    priority: int | None = None,
    config: ContactPolicyConfig | None = None,
) -> ContactDecision:
    """May we contact this customer on this channel at `at`, and if not, why and from when.

    `priority` defaults to the kind's configured priority.
    """
    config = config or default_config().contact
    at = as_utc(at)
    channel = channel_facts(session, channel_code)
    facts = customer_facts(session, [customer_id], at=at, config=config).get(customer_id)
    if facts is None:
        raise UnknownCustomer(customer_id)
    return evaluate(
        customer=facts, channel=channel, kind=kind, priority=priority, at=at, config=config
    )


def record_touch(
    *,
    session: Session,
    customer_id: int,
    channel_code: str,
    kind: str,
    outcome: ContactOutcome | str,
    reason: str,
    at: datetime,
    priority: int | None = None,
    reason_code: ContactReason | str | None = None,
    retry_at: datetime | None = None,
    staff_id: int | None = None,
    outbox_id: int | None = None,
    config: ContactPolicyConfig | None = None,
) -> ContactLog:
    """Log a touch, sent or held back with its reason; sent marketing touches count to the cap."""
    config = config or default_config().contact
    row = ContactLog(
        customer_id=customer_id,
        channel_id=channel_facts(session, channel_code).id,
        kind=kind,
        priority=config.priority_of(kind) if priority is None else priority,
        outcome=ContactOutcome(outcome),
        reason=reason[:300],
        reason_code=None if reason_code is None else ContactReason(reason_code),
        retry_at=None if retry_at is None else as_utc(retry_at),
        staff_id=staff_id,
        outbox_id=outbox_id,
        at=as_utc(at),
    )
    session.add(row)
    session.flush()
    return row


def set_consent(
    *,
    session: Session,
    customer_id: int,
    channel_code: str,
    granted: bool,
    source: str,
    at: datetime,
) -> Consent:
    """Record a customer's consent or opt-out for a channel, effective at once.

    Setting the answer the customer already gave changes nothing, so that re-imports
    keep the date of the real change.
    """
    if session.get(Customer, customer_id) is None:
        raise UnknownCustomer(customer_id)
    channel_id = channel_facts(session, channel_code).id
    existing = _consent(session, customer_id, channel_id)
    if existing is None:
        row = Consent(
            customer_id=customer_id,
            channel_id=channel_id,
            granted=granted,
            source=source,
            updated_at=as_utc(at),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Another request recorded this customer's first answer concurrently.
            existing = _consent(session, customer_id, channel_id)
            if existing is None:
                raise
        else:
            return row
    if existing.granted != granted:
        existing.granted = granted
        existing.source = source
        existing.updated_at = as_utc(at)
        session.add(existing)
        session.flush()
    return existing


def _consent(session: Session, customer_id: int, channel_id: int) -> Consent | None:
    return session.scalars(
        select(Consent).where(
            col(Consent.customer_id) == customer_id, col(Consent.channel_id) == channel_id
        )
    ).first()
