"""The `reactivation` section of the lifecycle config: windows, channels and the value heuristic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.events.models import EventType


class RecencyStep(BaseModel):
    """Customers whose last order is at most `within_days` old answer with this likelihood."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    within_days: int = Field(ge=1)
    propensity: float = Field(ge=0, le=1)


class ReactivationConfig(BaseModel):
    """How sleeping customers are woken; the defaults suit consumer retail."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    window_days: int = Field(14, ge=1, le=180)
    # A customer whose last attempt ended less than this long ago is left alone.
    retry_after_days: int = Field(90, ge=0, le=3650)
    # Preference order; the first channel the contact policy allows carries the offer.
    channels: list[str] = Field(
        default_factory=lambda: ["email", "messaging", "sms", "app"], min_length=1
    )
    # Besides any order, these events within the window count as a response.
    response_events: list[str] = Field(
        default_factory=lambda: [
            str(event)
            for event in (
                EventType.EMAIL_CLICK,
                EventType.VISIT,
                EventType.PRODUCT_VIEW,
                EventType.CATEGORY_VIEW,
                EventType.CART_ADD,
            )
        ],
        min_length=1,
    )
    # Without a scored reactivation propensity, the chance to answer falls with time since
    # the last order: the first step whose `within_days` covers it applies, else `oldest`.
    recency_steps: list[RecencyStep] = Field(
        default_factory=lambda: [
            RecencyStep(within_days=180, propensity=0.30),
            RecencyStep(within_days=365, propensity=0.20),
            RecencyStep(within_days=730, propensity=0.10),
        ]
    )
    oldest_propensity: float = Field(0.05, ge=0, le=1)

    @field_validator("recency_steps")
    @classmethod
    def _ascending(cls, steps: list[RecencyStep]) -> list[RecencyStep]:
        days = [step.within_days for step in steps]
        if days != sorted(set(days)):
            raise ValueError("recency steps must have strictly increasing within_days")
        return steps
