"""Customers and their per-channel consent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, UTCDateTime
from domain.stages.vocabulary import Stage


class Customer(SQLModel, table=True):
    """A person or company the business sells to, with their current lifecycle stage."""

    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_owner_stage", "owner_id", "stage"),
        Index("ix_customer_stage", "stage"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    external_id: str = Field(sa_type=String(100), unique=True)
    name: str | None = Field(default=None, sa_type=String(200))
    email: str | None = Field(default=None, sa_type=String(320), index=True)
    phone: str | None = Field(default=None, sa_type=String(40), index=True)
    birthday: date | None = Field(default=None, sa_type=Date)
    language: str | None = Field(default=None, sa_type=String(10))
    timezone: str | None = Field(default=None, sa_type=String(64))
    country: str | None = Field(default=None, sa_type=String(80))
    acquisition_channel_id: int | None = Field(
        default=None, foreign_key="channel.id", sa_type=IdType, index=True
    )
    owner_id: int | None = Field(default=None, foreign_key="staff.id", sa_type=IdType)
    referral_code: str | None = Field(default=None, sa_type=String(40), unique=True)
    referred_by_id: int | None = Field(
        default=None, foreign_key="customer.id", sa_type=IdType, index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    stage: str = Field(default=Stage.PROSPECT, sa_type=String(20))
    stage_since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Facts derived from orders and events, kept current so that stage rules and
    # look-ups run set-wise without re-aggregating the order history.
    first_order_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_order_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    order_count: int = Field(default=0)
    net_revenue_minor: int = Field(default=0, sa_type=BigInteger)
    last_engaged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Consent(SQLModel, table=True):
    """Whether a customer agreed to be contacted on a channel, and since when."""

    __tablename__ = "consent"
    __table_args__ = (UniqueConstraint("customer_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    customer_id: int = Field(foreign_key="customer.id", sa_type=IdType)
    channel_id: int = Field(foreign_key="channel.id", sa_type=IdType)
    granted: bool
    source: str | None = Field(default=None, sa_type=String(100))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
