"""Writing outbound messages into the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from domain.outbox.models import OutboxMessage


def enqueue(
    *,
    session: Session,
    adapter: str,
    recipient: str,
    body: str,
    dedupe_key: str,
    subject: str = "",
    customer_id: int | None = None,
    staff_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Add a message to the outbox once per dedupe key; a repeat returns the existing row.

    The row is written in the caller's transaction, so it exists exactly when the state
    change that caused it commits; a rollback drops both.
    """
    existing = session.exec(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    ).first()
    if existing is not None:
        return existing
    message = OutboxMessage(
        adapter=adapter,
        recipient=recipient,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        customer_id=customer_id,
        staff_id=staff_id,
        payload=payload or {},
    )
    session.add(message)
    session.flush()
    return message
