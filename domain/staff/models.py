"""Sales and admin staff, and the API tokens that act for them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, UTCDateTime


class StaffRole(StrEnum):
    """What a staff member may do."""

    SALES = "sales"
    ADMIN = "admin"


class TokenRole(StrEnum):
    """What an API token may do."""

    READ = "read"
    SALES = "sales"
    ADMIN = "admin"
    BOT = "bot"


class Staff(SQLModel, table=True):
    """A person on the sales team, known to the bot by their Telegram user id."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    name: str = Field(sa_type=String(200))
    email: str | None = Field(default=None, sa_type=String(320), unique=True)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    role: str = Field(default=StaffRole.SALES, sa_type=String(20))
    language: str = Field(default="en", sa_type=String(10))
    timezone: str = Field(default="UTC", sa_type=String(64))
    active: bool = Field(default=True)
    # One-time code (hashed) a new staff member sends as `/start CODE` to link Telegram.
    link_code_hash: str | None = Field(default=None, sa_type=String(64), unique=True)
    link_code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token for the GraphQL API; only its hash is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    name: str = Field(sa_type=String(200))
    token_hash: str = Field(sa_type=String(64), unique=True)
    prefix: str = Field(sa_type=String(16), description="first characters, to recognise it")
    role: str = Field(sa_type=String(20))
    staff_id: int | None = Field(default=None, foreign_key="staff.id", sa_type=IdType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
