"""Factories and a recording adapter for outbox delivery tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from domain.contact.models import ContactOutcome
from domain.contact.service import record_touch
from domain.customers.models import Customer
from domain.outbox.delivery import Outgoing, Receipt
from domain.outbox.models import OutboxMessage
from domain.outbox.service import enqueue

# Noon UTC on a weekday: outside the default quiet hours.
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
_seq = itertools.count(1)


def make_message(session: Session, **overrides: Any) -> OutboxMessage:
    """A pending log-adapter message due at NOON, with a unique dedupe key."""
    n = next(_seq)
    values: dict[str, Any] = {
        "adapter": "log",
        "recipient": f"person{n}@example.com",
        "subject": f"Subject {n}",
        "body": f"Body {n}",
        "dedupe_key": f"test:{n}",
        "next_attempt_at": NOON,
        "created_at": NOON,
    }
    values.update(overrides)
    row = OutboxMessage(**values)
    session.add(row)
    session.flush()
    return row


def queue_customer_email(session: Session, customer: Customer, *, at: datetime) -> OutboxMessage:
    """A referral email to the customer in the outbox, with its contact-log touch, as sent."""
    assert customer.id is not None and customer.email is not None
    message = enqueue(
        session=session,
        adapter="email",
        recipient=customer.email,
        subject="A gift for a friend",
        body="Share your code",
        dedupe_key=f"referral:{customer.id}:{next(_seq)}",
        customer_id=customer.id,
        payload={"channel": "email", "kind": "referral"},
    )
    message.next_attempt_at = at
    record_touch(
        session=session,
        customer_id=customer.id,
        channel_code="email",
        kind="referral",
        outcome=ContactOutcome.SENT,
        reason="referral offer",
        at=at,
        outbox_id=message.id,
    )
    session.flush()
    return message


class Recorder:
    """A test adapter: records what it was asked to send and answers from a script.

    Each scripted answer is a Receipt to return or an exception to raise; when the script
    runs out every send succeeds with receipt `r<id>`.
    """

    def __init__(self, *script: Receipt | Exception) -> None:
        self.sent: list[Outgoing] = []
        self.script = list(script)

    def send(self, message: Outgoing) -> Receipt:
        """Record the message and play the next scripted answer."""
        self.sent.append(message)
        answer = self.script.pop(0) if self.script else Receipt(f"r{message.id}")
        if isinstance(answer, Exception):
            raise answer
        return answer
