"""The lifecycle config file: validated sections, shipped presets, and the loader.

The file is TOML. Each engine owns one section of the root `LifecycleConfig` (`[stages]`
here); a section has defaults, so adding one is a single field on the root model. A file
may start from a preset with `extends = "<preset>"` and override only what differs.
"""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from domain.contact.config import ContactPolicyConfig
from domain.reactivation.config import ReactivationConfig
from domain.referrals.config import ReferralConfig
from domain.settings import get_settings
from domain.stages.errors import LifecycleConfigError
from domain.triggers.config import TriggersConfig

DEFAULT_PRESET = "consumer_retail"
PRESETS: tuple[str, ...] = ("consumer_retail", "b2b_small", "b2b_large")


class _Section(BaseModel):
    # Strict: a TOML string where a number belongs is a mistake, not something to coerce.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RhythmRules(_Section):
    """A customer's usual rhythm: their own time between orders, kept within bounds."""

    default_days: int = Field(60, ge=1, description="rhythm assumed for one-time buyers")
    min_days: int = Field(14, ge=1, description="a faster rhythm is counted as this")
    max_days: int = Field(365, ge=1, description="a slower rhythm is counted as this")

    @model_validator(mode="after")
    def _bounds_in_order(self) -> RhythmRules:
        if self.min_days > self.max_days:
            raise ValueError(f"min_days: must be <= max_days ({self.max_days})")
        if not self.min_days <= self.default_days <= self.max_days:
            raise ValueError(
                f"default_days: must lie between min_days ({self.min_days}) "
                f"and max_days ({self.max_days})"
            )
        return self


class LeadRules(_Section):
    """Leads: engaged contacts who never bought."""

    sleep_after_days: int = Field(365, ge=1, description="no engagement this long → sleeping")


class LoyalRules(_Section):
    """Loyal (VIP): enough orders and enough net revenue."""

    min_orders: int = Field(5, ge=2)
    min_net_revenue_minor: int = Field(50_000, ge=0, description="net of returns, minor units")


class AtRiskRules(_Section):
    """At risk: no order for longer than `rhythm_multiplier` × the usual rhythm."""

    rhythm_multiplier: float = Field(1.5, gt=1)


class EngagementResponse(StrEnum):
    """What a click or visit does to a buyer who is past their sleeping point."""

    STAY = "stay"
    AT_RISK = "at_risk"


class SleepingRules(_Section):
    """Sleeping: long past the usual rhythm, or P(alive) low; how engagement wakes them."""

    rhythm_multiplier: float = Field(3.0, gt=1)
    # 0 turns P(alive) off; a customer is sleeping when the latest score is strictly below.
    p_alive_below: float = Field(0.2, ge=0, lt=1)
    on_engagement: EngagementResponse = Field(EngagementResponse.AT_RISK, strict=False)
    engagement_window_days: int = Field(30, ge=1, description="how long an engagement counts")


class ReactivatedRules(_Section):
    """Reactivated: behaves like repeat, and settles into repeat/loyal after a while."""

    settle_after_orders: int = Field(2, ge=1, description="further orders after the reactivation")
    settle_after_days: int = Field(180, ge=1)


class StagesConfig(_Section):
    """Stage rules, thresholds and windows (section `[stages]`); defaults suit consumer retail."""

    rhythm: RhythmRules = RhythmRules()
    lead: LeadRules = LeadRules()
    loyal: LoyalRules = LoyalRules()
    at_risk: AtRiskRules = AtRiskRules()
    sleeping: SleepingRules = SleepingRules()
    reactivated: ReactivatedRules = ReactivatedRules()

    @model_validator(mode="after")
    def _sleeping_after_at_risk(self) -> StagesConfig:
        if self.sleeping.rhythm_multiplier <= self.at_risk.rhythm_multiplier:
            raise ValueError(
                "sleeping.rhythm_multiplier: must be greater than "
                f"at_risk.rhythm_multiplier ({self.at_risk.rhythm_multiplier})"
            )
        return self


class LifecycleConfig(_Section):
    """The whole lifecycle config file; each engine adds its own section here."""

    stages: StagesConfig = StagesConfig()
    triggers: TriggersConfig = TriggersConfig()
    reactivation: ReactivationConfig = ReactivationConfig()
    contact: ContactPolicyConfig = ContactPolicyConfig()
    referrals: ReferralConfig = ReferralConfig()


def load_config(path_or_preset: str | Path | None = None) -> LifecycleConfig:
    """The config from a preset name or a TOML file (None: the consumer_retail preset)."""
    if path_or_preset is None:
        path_or_preset = DEFAULT_PRESET
    if isinstance(path_or_preset, str) and path_or_preset in PRESETS:
        source = f"preset {path_or_preset}"
        data = _preset_data(path_or_preset)
    else:
        path = Path(path_or_preset)
        source = str(path)
        if not path.is_file():
            raise LifecycleConfigError(
                f"no preset or file named {str(path_or_preset)!r} (presets: {', '.join(PRESETS)})"
            )
        data = _parse(path.read_text(encoding="utf-8"), source)
        data = _apply_extends(data, source)
    try:
        return LifecycleConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise LifecycleConfigError(f"lifecycle config {source}: {problems}") from None


@lru_cache
def default_config() -> LifecycleConfig:
    """The config services use when none is passed: LIFECYCLE_CONFIG (a preset or a file)."""
    return load_config(get_settings().lifecycle_config)


def _preset_data(name: str) -> dict[str, Any]:
    text = resources.files("domain.stages.presets").joinpath(f"{name}.toml").read_text("utf-8")
    return _parse(text, f"preset {name}")


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LifecycleConfigError(f"lifecycle config {source}: not valid TOML: {exc}") from None


def _apply_extends(data: dict[str, Any], source: str) -> dict[str, Any]:
    base = data.pop("extends", None)
    if base is None:
        return data
    if base not in PRESETS:
        raise LifecycleConfigError(
            f"lifecycle config {source}: extends: unknown preset {base!r} "
            f"(presets: {', '.join(PRESETS)})"
        )
    return _merge(_preset_data(base), data)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# A cross-field check names the key it is about as "sub.key: message".
_KEYED_MESSAGE = re.compile(r"^([a-z_][a-z0-9_.]*): (.*)$", re.DOTALL)


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"])
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "missing":
        return f"{key}: required key is missing"
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        keyed = _KEYED_MESSAGE.match(message)
        if keyed:
            key = f"{key}.{keyed.group(1)}" if key else keyed.group(1)
            message = keyed.group(2)
        return f"{key}: {message}"
    bounds = {
        "greater_than": ">",
        "greater_than_equal": ">=",
        "less_than": "<",
        "less_than_equal": "<=",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"{key}: must be {bounds[kind]} {limit} (got {error['input']!r})"
    return f"{key}: {error['msg']} (got {error['input']!r})"
