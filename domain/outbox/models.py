"""Outbound messages, written in the same transaction as the change that caused them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, JsonType, UTCDateTime


class OutboxStatus(StrEnum):
    """Delivery state; `dead` rows failed too often and wait for an admin.

    `cancelled` rows were never sent because the customer withdrew consent (or lost the
    address) after the message was queued.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    CANCELLED = "cancelled"


class OutboxMessage(SQLModel, table=True):
    """A message waiting to be (or already) delivered through a channel adapter."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    adapter: str = Field(sa_type=String(20), description="email, telegram, log")
    recipient: str = Field(sa_type=String(320))
    subject: str = Field(default="", sa_type=String(300))
    body: str = Field(sa_type=Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)
    dedupe_key: str = Field(sa_type=String(200), unique=True)
    status: str = Field(default=OutboxStatus.PENDING, sa_type=String(10))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=String(500))
    customer_id: int | None = Field(default=None, foreign_key="customer.id", sa_type=IdType)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", sa_type=IdType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The transport's id of the sent message (SMTP Message-ID, Telegram message_id), so a
    # message can be found, edited or recalled on the channel later.
    provider_message_id: str | None = Field(default=None, sa_type=String(200))
