"""Behaviour events: opens, clicks, visits, category views, carts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, JsonType, UTCDateTime


class EventType(StrEnum):
    """Event types the engine understands; others are stored and counted as engagement."""

    EMAIL_OPEN = "email_open"
    EMAIL_CLICK = "email_click"
    VISIT = "visit"
    CATEGORY_VIEW = "category_view"
    PRODUCT_VIEW = "product_view"
    CART_ADD = "cart_add"
    SIGNUP = "signup"
    UNSUBSCRIBE = "unsubscribe"


class Event(SQLModel, table=True):
    """Something a customer did, recorded once per idempotency key."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_customer_id_type_occurred_at", "customer_id", "type", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    customer_id: int = Field(foreign_key="customer.id", sa_type=IdType)
    type: str = Field(sa_type=String(40))
    channel_id: int | None = Field(default=None, foreign_key="channel.id", sa_type=IdType)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    properties: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)
    idempotency_key: str = Field(sa_type=String(200), unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
