"""Reactivation attempts: one exclusive offer sent to a sleeping customer, and its window."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String
from sqlmodel import Field, SQLModel

from domain.columns import IdType, UTCDateTime


class AttemptStatus(StrEnum):
    """Where an attempt stands: waiting for a response, answered, or given up (customer lost)."""

    OPEN = "open"
    RESPONDED = "responded"
    LOST = "lost"


class ReactivationAttempt(SQLModel, table=True):
    """An offer sent to wake a sleeping customer, answered (or not) within its window."""

    __tablename__ = "reactivation_attempt"
    __table_args__ = (
        Index("ix_reactivation_attempt_status_window_ends_at", "status", "window_ends_at"),
        Index(
            "ix_reactivation_attempt_customer_id_window_ends_at", "customer_id", "window_ends_at"
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    customer_id: int = Field(foreign_key="customer.id", sa_type=IdType)
    offer_id: int = Field(foreign_key="offer.id", sa_type=IdType)
    channel_id: int = Field(foreign_key="channel.id", sa_type=IdType)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", sa_type=IdType)
    # The ranking figure at send time (minor units), kept to judge the heuristic later.
    expected_value_minor: int = Field(default=0, sa_type=BigInteger)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    window_ends_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=AttemptStatus.OPEN, sa_type=String(12))
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # One attempt per customer per window, even when two runs overlap.
    dedupe_key: str = Field(sa_type=String(200), unique=True)
