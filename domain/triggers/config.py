"""The `triggers` section of the lifecycle config: which triggers run, their windows and weights."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from domain.stages.vocabulary import Stage


class _Section(BaseModel):
    # Strict like the root config: a TOML string where a number belongs is a mistake.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BirthdayTrigger(_Section):
    """A birthday coming up within `days_ahead` days (29 Feb is celebrated on 28 Feb)."""

    enabled: bool = True
    days_ahead: int = Field(7, ge=0, le=60)
    priority: int = Field(60, ge=0, le=100)
    offer_code: str | None = None


class DaysAfterFirstOrderTrigger(_Section):
    """`days` after the first purchase; stale after `grace_days` (e.g. the job did not run)."""

    enabled: bool = True
    days: int = Field(180, ge=1, le=3650)
    grace_days: int = Field(7, ge=1, le=90)
    priority: int = Field(40, ge=0, le=100)
    expires_after_days: int = Field(14, ge=1, le=365)
    offer_code: str | None = None


class Holiday(_Section):
    """A dated occasion (a shopping festival, a national holiday) announced `lead_days` ahead."""

    name: str = Field(min_length=1, max_length=100)
    on: date
    lead_days: int = Field(7, ge=0, le=60)
    action: str = Field("a good moment for a seasonal offer", min_length=1, max_length=200)
    offer_code: str | None = None
    priority: int = Field(30, ge=0, le=100)
    # Who hears about it; sleeping customers get the reactivation flow instead.
    stages: list[Annotated[Stage, Strict(False)]] = Field(
        default_factory=lambda: [
            Stage.FIRST_TIME_BUYER,
            Stage.REPEAT,
            Stage.LOYAL,
            Stage.AT_RISK,
            Stage.REACTIVATED,
        ],
        min_length=1,
    )


class AbandonedCartTrigger(_Section):
    """A cart add with no order by the end of the customer's local day, or within `hours`."""

    enabled: bool = True
    hours: int | None = Field(None, ge=1, le=168)
    lookback_hours: int = Field(48, ge=1, le=720)
    priority: int = Field(80, ge=0, le=100)
    expires_after_hours: int = Field(72, ge=1, le=720)
    offer_code: str | None = None


class CategoryInterestTrigger(_Section):
    """At least `min_views` views of one category within `within_days`, and no purchase in it."""

    enabled: bool = True
    min_views: int = Field(3, ge=2, le=1000)
    within_days: int = Field(7, ge=1, le=90)
    priority: int = Field(50, ge=0, le=100)
    expires_after_days: int = Field(7, ge=1, le=90)
    offer_code: str | None = None


class FirstOrderTrigger(_Section):
    """A first order placed within the last `lookback_days`: time for onboarding."""

    enabled: bool = True
    lookback_days: int = Field(3, ge=1, le=60)
    priority: int = Field(70, ge=0, le=100)
    expires_after_days: int = Field(14, ge=1, le=365)
    offer_code: str | None = None


class SleepingHighValueTrigger(_Section):
    """A sleeping customer whose value is in the top `top_percent` or at least `min_value_minor`.

    Value is the latest successful Score's predicted CLV when there is one, else net revenue;
    the percentile is taken over every customer with at least one order.
    """

    enabled: bool = True
    top_percent: float | None = Field(10.0, gt=0, le=100)
    min_value_minor: int | None = Field(None, ge=0)
    priority: int = Field(75, ge=0, le=100)
    expires_after_days: int = Field(30, ge=1, le=365)
    # None means the default reactivation offer, when it exists.
    offer_code: str | None = None

    @model_validator(mode="after")
    def _some_threshold(self) -> SleepingHighValueTrigger:
        if self.top_percent is None and self.min_value_minor is None:
            raise ValueError("set top_percent, min_value_minor or both")
        return self


class TriggersConfig(_Section):
    """Every trigger's settings; the defaults suit consumer retail."""

    # Preference order of channels for the suggested touch; the first one consented wins.
    channels: list[str] = Field(
        default_factory=lambda: ["messaging", "email", "sms", "app"], min_length=1
    )
    # Loyal (VIP) customers' suggestions rank higher, up to 100.
    vip_priority_boost: int = Field(15, ge=0, le=100)
    # New suggestions at or above this priority are worth a real-time alert to their owner.
    alert_min_priority: int = Field(90, ge=0, le=100)
    birthday: BirthdayTrigger = BirthdayTrigger()
    days_after_first_order: DaysAfterFirstOrderTrigger = DaysAfterFirstOrderTrigger()
    holidays: list[Holiday] = Field(default_factory=list)
    abandoned_cart: AbandonedCartTrigger = AbandonedCartTrigger()
    category_interest: CategoryInterestTrigger = CategoryInterestTrigger()
    first_order: FirstOrderTrigger = FirstOrderTrigger()
    sleeping_high_value: SleepingHighValueTrigger = SleepingHighValueTrigger()
