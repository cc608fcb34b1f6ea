"""The audit log: who changed what through the API, when, and under which idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, JsonType, UTCDateTime


class AuditEntry(SQLModel, table=True):
    """One mutation carried out (or refused) for a token, with the answer it got.

    A repeated (token, action, idempotency key) is refused by the unique constraint, so a
    retried request finds the first entry and gets the first answer back.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("token_id", "action", "idempotency_key"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_target_type_target_id", "target_type", "target_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    token_id: int | None = Field(default=None, foreign_key="api_token.id", sa_type=IdType)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", sa_type=IdType)
    role: str = Field(sa_type=String(20))
    action: str = Field(sa_type=String(60))
    idempotency_key: str | None = Field(default=None, sa_type=String(200))
    target_type: str | None = Field(default=None, sa_type=String(40))
    target_id: int | None = Field(default=None, sa_type=IdType)
    outcome: str = Field(sa_type=String(40), description="ok, or the refusal's type")
    # What the caller was answered, as ids and codes (never personal data), for replays.
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)
    request_id: str | None = Field(default=None, sa_type=String(40))
