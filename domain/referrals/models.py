"""Offers and member-get-member referrals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, UTCDateTime


class OfferKind(StrEnum):
    """What an offer is for."""

    REFERRAL = "referral"
    REACTIVATION = "reactivation"
    CROSS_SELL = "cross_sell"
    RETENTION = "retention"


class ReferralStatus(StrEnum):
    """Where a referral stands: sent, redeemed by a referee, converted by their first order."""

    SENT = "sent"
    REDEEMED = "redeemed"
    CONVERTED = "converted"
    EXPIRED = "expired"


class Offer(SQLModel, table=True):
    """The terms of an offer a sales person can send."""

    __tablename__ = "offer"

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    code: str = Field(sa_type=String(40), unique=True)
    name: str = Field(sa_type=String(200))
    kind: str = Field(sa_type=String(20))
    description: str = Field(default="", sa_type=String(500))
    referrer_reward_minor: int = Field(default=0, sa_type=BigInteger)
    referee_benefit: str = Field(default="", sa_type=String(200))
    valid_days: int = Field(default=30)
    max_uses: int = Field(default=1)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Referral(SQLModel, table=True):
    """One referral offer sent to a referrer, with its unguessable code."""

    __tablename__ = "referral"

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    code: str = Field(sa_type=String(40), unique=True)
    offer_id: int = Field(foreign_key="offer.id", sa_type=IdType)
    referrer_id: int = Field(foreign_key="customer.id", sa_type=IdType, index=True)
    referee_id: int | None = Field(default=None, foreign_key="customer.id", sa_type=IdType)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", sa_type=IdType)
    channel_id: int | None = Field(default=None, foreign_key="channel.id", sa_type=IdType)
    status: str = Field(default=ReferralStatus.SENT, sa_type=String(12))
    share_url: str = Field(sa_type=String(500))
    uses: int = Field(default=0)
    idempotency_key: str | None = Field(default=None, sa_type=String(200), unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    converted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reward_granted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReferralRedemption(SQLModel, table=True):
    """A referee's use of a referral code, and whether their first paid order earned the reward.

    One row per referee (the unique column enforces "one redemption per referee"); a code
    with `max_uses` above one has several rows.
    """

    __tablename__ = "referral_redemption"

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    referral_id: int = Field(foreign_key="referral.id", sa_type=IdType, index=True)
    referee_id: int = Field(foreign_key="customer.id", sa_type=IdType, unique=True)
    redeemed_at: datetime = Field(sa_type=UTCDateTime)
    order_id: int | None = Field(default=None, foreign_key="orders.id", sa_type=IdType)
    converted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reward_minor: int = Field(default=0, sa_type=BigInteger)
    reward_granted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
