"""Sending a customer message under the contact policy: delivery time, outbox row, contact log.

Shared by referrals, reward notices and reactivation offers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from domain.contact.config import ContactPolicyConfig
from domain.contact.models import ContactOutcome
from domain.contact.policy import ContactDecision, ContactReason
from domain.contact.service import record_touch
from domain.customers.models import Customer
from domain.outbox.models import OutboxMessage
from domain.outbox.service import enqueue

# Channels with a real adapter; the others are written to the log adapter until one is wired.
ADAPTERS = {"email": "email"}


def delivery_time(decision: ContactDecision, at: datetime) -> datetime | None:
    """When an allowed message goes out: now, or when the customer's quiet hours end."""
    if decision.allowed:
        return at
    if decision.reason_code is ContactReason.QUIET_HOURS:
        return decision.retry_at
    return None


def recipient(customer: Customer, channel_code: str) -> str:
    """The address a channel's message goes to."""
    if channel_code == "email" and customer.email:
        return customer.email
    return customer.phone or customer.email or customer.external_id


def deliver(
    *,
    session: Session,
    customer: Customer,
    channel_code: str,
    kind: str,
    deliver_at: datetime,
    subject: str,
    body: str,
    dedupe_key: str,
    payload: dict[str, Any],
    reason: str,
    staff_id: int | None,
    config: ContactPolicyConfig,
) -> OutboxMessage:
    """Put the message in the outbox for `deliver_at` and log the touch as sent at that time."""
    assert customer.id is not None
    message = enqueue(
        session=session,
        adapter=ADAPTERS.get(channel_code, "log"),
        recipient=recipient(customer, channel_code),
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        customer_id=customer.id,
        staff_id=staff_id,
        payload={"channel": channel_code, **payload},
    )
    # Held back by quiet hours: the delivery worker picks rows by next_attempt_at.
    message.next_attempt_at = deliver_at
    session.add(message)
    record_touch(
        session=session,
        customer_id=customer.id,
        channel_code=channel_code,
        kind=kind,
        outcome=ContactOutcome.SENT,
        reason=reason,
        at=deliver_at,
        staff_id=staff_id,
        outbox_id=message.id,
        config=config,
    )
    return message
