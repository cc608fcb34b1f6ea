"""Channels through which customers arrive and are contacted."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from domain.columns import IdType


class ChannelCode(StrEnum):
    """The channels shipped by default; businesses may add their own rows."""

    WEB = "web"
    APP = "app"
    EMAIL = "email"
    SMS = "sms"
    MESSAGING = "messaging"
    SOCIAL = "social"
    SHORT_VIDEO = "short_video"
    LIVE_STREAM = "live_stream"
    COMMUNITY = "community"
    OFFLINE_STORE = "offline_store"
    REFERRAL = "referral"


class Channel(SQLModel, table=True):
    """An acquisition or touch channel; `contactable` ones can carry outbound messages."""

    __tablename__ = "channel"

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    code: str = Field(sa_type=String(40), unique=True)
    name: str = Field(sa_type=String(100))
    contactable: bool = Field(default=False)
