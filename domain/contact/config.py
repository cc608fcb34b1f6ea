"""The contact policy's settings: caps, quiet hours, kinds and their priorities."""

from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.contact.errors import UnknownTouchKind


class TouchKind(StrEnum):
    """The kinds of outbound touch shipped by default; a business may configure more."""

    TRANSACTIONAL = "transactional"
    SERVICE = "service"
    JOURNEY = "journey"
    REFERRAL = "referral"
    REACTIVATION = "reactivation"
    RETENTION = "retention"
    CROSS_SELL = "cross_sell"
    CAMPAIGN = "campaign"


DEFAULT_PRIORITIES: dict[str, int] = {
    TouchKind.TRANSACTIONAL: 100,
    TouchKind.SERVICE: 90,
    TouchKind.JOURNEY: 70,
    TouchKind.REFERRAL: 60,
    TouchKind.REACTIVATION: 55,
    TouchKind.RETENTION: 55,
    TouchKind.CROSS_SELL: 50,
    TouchKind.CAMPAIGN: 30,
}
DEFAULT_MARKETING_KINDS = frozenset(
    {
        TouchKind.JOURNEY,
        TouchKind.REFERRAL,
        TouchKind.REACTIVATION,
        TouchKind.RETENTION,
        TouchKind.CROSS_SELL,
        TouchKind.CAMPAIGN,
    }
)


class ContactPolicyConfig(BaseModel):
    """How often, when and in which order customers may be contacted (section `contact`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cap_count: int = Field(2, ge=0, description="marketing touches allowed per cap window")
    cap_window_days: int = Field(7, ge=1, description="length of the rolling cap window")
    collision_window_hours: int = Field(
        24, ge=0, description="two marketing touches closer than this collide; 0 turns it off"
    )
    quiet_hours_start: time = Field(time(21, 0), description="local time quiet hours begin")
    quiet_hours_end: time = Field(time(9, 0), description="local time quiet hours end")
    default_timezone: str = Field("UTC", description="IANA zone of customers without their own")
    kind_priorities: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITIES),
        description="every known touch kind and its default priority (higher goes first)",
    )
    marketing_kinds: frozenset[str] = Field(
        DEFAULT_MARKETING_KINDS,
        description="kinds that count toward the cap, collide, and skip lost customers",
    )
    quiet_hours_exempt_kinds: frozenset[str] = Field(
        frozenset({TouchKind.TRANSACTIONAL}), description="kinds sent even during quiet hours"
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _kinds_have_priorities(self) -> ContactPolicyConfig:
        unknown = (self.marketing_kinds | self.quiet_hours_exempt_kinds) - set(self.kind_priorities)
        if unknown:
            raise ValueError(f"kinds without a priority: {', '.join(sorted(unknown))}")
        return self

    @property
    def cap_window(self) -> timedelta:
        """The rolling window of the frequency cap."""
        return timedelta(days=self.cap_window_days)

    @property
    def collision_window(self) -> timedelta:
        """How close two marketing touches may come before the lower one yields."""
        return timedelta(hours=self.collision_window_hours)

    def priority_of(self, kind: str) -> int:
        """The configured default priority of a kind; an unknown kind is an error, not a pass."""
        try:
            return self.kind_priorities[kind]
        except KeyError:
            raise UnknownTouchKind(kind, sorted(self.kind_priorities)) from None
