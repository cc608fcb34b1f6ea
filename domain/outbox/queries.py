"""Read-only views of the outbox for admins."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.outbox.models import OutboxMessage, OutboxStatus


def status_counts(*, session: Session) -> dict[OutboxStatus, int]:
    """How many outbox messages stand in each status (zero for the empty ones)."""
    rows = session.exec(
        select(OutboxMessage.status, func.count(col(OutboxMessage.id))).group_by(
            OutboxMessage.status
        )
    ).all()
    found = {status: int(count) for status, count in rows}
    return {status: found.get(str(status), 0) for status in OutboxStatus}
