"""Suggestions: who a sales person should contact, why, and with what."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, JsonType, UTCDateTime


class SuggestionStatus(StrEnum):
    """What became of a suggestion."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    EXPIRED = "expired"


class Suggestion(SQLModel, table=True):
    """A reason to contact a customer, for the staff member who owns them."""

    __tablename__ = "suggestion"
    __table_args__ = (Index("ix_suggestion_staff_id_status", "staff_id", "status"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    customer_id: int = Field(foreign_key="customer.id", sa_type=IdType, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", sa_type=IdType)
    type: str = Field(sa_type=String(40))
    reason: str = Field(sa_type=String(500))
    # The reason as what the trigger found, put in the reader's words when read (see
    # domain.triggers.reasons); `reason` keeps the English of the moment it was raised.
    reason_key: str | None = Field(default=None, sa_type=String(40))
    reason_args: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    offer_id: int | None = Field(default=None, foreign_key="offer.id", sa_type=IdType)
    channel_id: int | None = Field(default=None, foreign_key="channel.id", sa_type=IdType)
    priority: int = Field(default=50)
    status: str = Field(default=SuggestionStatus.OPEN, sa_type=String(12))
    # The same trigger for the same customer maps to one key, so suggestions don't pile up.
    dedupe_key: str = Field(sa_type=String(200), unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Who accepted or dismissed it (an admin may resolve another's), and what they noted.
    resolved_by_id: int | None = Field(default=None, foreign_key="staff.id", sa_type=IdType)
    outcome_note: str | None = Field(default=None, sa_type=String(300))
