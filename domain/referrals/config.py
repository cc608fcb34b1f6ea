"""Member-get-member settings: who may refer, share links, abuse limits (section `referrals`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.stages.vocabulary import Stage


class ReferralConfig(BaseModel):
    """Who gets referral offers, what their links look like, and how often codes may be used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    share_url_template: str = Field(
        "https://shop.example.com/r/{code}", description="share link; {code} is the referral code"
    )
    eligible_stages: frozenset[Stage] = Field(
        frozenset({Stage.LOYAL}), description="stages that always qualify as referrers"
    )
    active_stages: frozenset[Stage] = Field(
        frozenset({Stage.REPEAT}), description="stages that qualify with recent activity"
    )
    activity_window_days: int = Field(
        90,
        ge=1,
        description="an order or engagement this recent makes an active-stage customer qualify",
    )
    monthly_redemption_limit: int = Field(
        10,
        ge=1,
        description="redemptions one referrer's codes may collect per calendar month (UTC)",
    )
    code_bytes: int = Field(
        12, ge=8, le=30, description="random bytes per referral code (12 = 96 bits, 16 characters)"
    )

    @field_validator("share_url_template")
    @classmethod
    def _has_code_placeholder(cls, value: str) -> str:
        if "{code}" not in value:
            raise ValueError("must contain {code}")
        try:
            value.format(code="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{code}} may be a placeholder: {exc}") from exc
        return value
