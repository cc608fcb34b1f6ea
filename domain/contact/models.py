"""The log of every outbound touch, sent or held back, with the reason."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, UTCDateTime


class ContactOutcome(StrEnum):
    """What happened to a touch."""

    SENT = "sent"
    DEFERRED = "deferred"
    DROPPED = "dropped"
    BLOCKED = "blocked"


class ContactLog(SQLModel, table=True):
    """One outbound touch to a customer (or the decision not to make it)."""

    __tablename__ = "contact_log"
    __table_args__ = (Index("ix_contact_log_customer_id_at", "customer_id", "at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    customer_id: int = Field(foreign_key="customer.id", sa_type=IdType)
    channel_id: int = Field(foreign_key="channel.id", sa_type=IdType)
    kind: str = Field(sa_type=String(20), description="journey, campaign, referral, ...")
    priority: int = Field(default=50)
    outcome: str = Field(sa_type=String(10))
    reason: str = Field(default="", sa_type=String(300))
    # Machine-readable twin of `reason` (a ContactReason value) and, for deferred touches,
    # the earliest moment the policy allows them, so a job can pick them up again.
    reason_code: str | None = Field(default=None, sa_type=String(30))
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", sa_type=IdType)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", sa_type=IdType)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
