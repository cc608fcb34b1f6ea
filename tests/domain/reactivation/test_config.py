"""The reactivation config section: defaults and validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.reactivation.config import ReactivationConfig, RecencyStep


def test_defaults_give_a_two_week_window_and_falling_propensity() -> None:
    config = ReactivationConfig()

    assert config.window_days == 14
    assert [(s.within_days, s.propensity) for s in config.recency_steps] == [
        (180, 0.30),
        (365, 0.20),
        (730, 0.10),
    ]
    assert config.oldest_propensity == 0.05


def test_recency_steps_must_grow_and_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="strictly increasing"):
        ReactivationConfig(
            recency_steps=[
                RecencyStep(within_days=365, propensity=0.2),
                RecencyStep(within_days=180, propensity=0.3),
            ]
        )
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ReactivationConfig.model_validate({"window": 7})
