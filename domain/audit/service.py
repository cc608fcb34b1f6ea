"""Writing and finding audit entries, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from domain.audit.models import AuditEntry


def record(
    *,
    session: Session,
    role: str,
    action: str,
    outcome: str,
    token_id: int | None = None,
    staff_id: int | None = None,
    idempotency_key: str | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
    result: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> AuditEntry:
    """Add an audit entry; a repeated (token, action, key) raises IntegrityError on flush."""
    entry = AuditEntry(
        token_id=token_id,
        staff_id=staff_id,
        role=role,
        action=action,
        idempotency_key=idempotency_key,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        result=result or {},
        request_id=request_id,
    )
    session.add(entry)
    session.flush()
    return entry


def find_replay(
    *, session: Session, token_id: int | None, action: str, idempotency_key: str
) -> AuditEntry | None:
    """The entry an earlier call with this token, action and idempotency key left, if any."""
    token_match = (
        col(AuditEntry.token_id).is_(None) if token_id is None else AuditEntry.token_id == token_id
    )
    return session.exec(
        select(AuditEntry).where(
            token_match,
            AuditEntry.action == action,
            AuditEntry.idempotency_key == idempotency_key,
        )
    ).first()


def entries(*, session: Session, limit: int = 100) -> list[AuditEntry]:
    """The latest audit entries, newest first."""
    return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)))
