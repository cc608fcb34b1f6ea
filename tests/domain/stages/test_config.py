"""Loading the lifecycle config: presets, files, `extends`, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.stages.config import (
    PRESETS,
    EngagementResponse,
    LifecycleConfig,
    default_config,
    load_config,
)
from domain.stages.errors import LifecycleConfigError


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lifecycle.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_no_choice_loads_the_consumer_retail_preset() -> None:
    assert load_config(None) == load_config("consumer_retail") == default_config()
    assert load_config(None).stages.rhythm.default_days == 60


def test_presets_differ_in_the_length_of_their_rhythms() -> None:
    days = {name: load_config(name).stages.rhythm for name in PRESETS}
    assert (days["consumer_retail"].default_days, days["consumer_retail"].max_days) == (60, 365)
    assert (days["b2b_small"].default_days, days["b2b_small"].max_days) == (90, 730)
    assert (days["b2b_large"].default_days, days["b2b_large"].max_days) == (365, 1825)
    assert load_config("b2b_large").stages.lead.sleep_after_days == 730


def test_every_preset_file_sets_every_stage_key_explicitly() -> None:
    # A preset is documentation: its reader sees every setting, none left to the defaults.
    for name in PRESETS:
        config = load_config(name)
        assert config.stages.model_fields_set == set(type(config.stages).model_fields)
        for section in type(config.stages).model_fields:
            rules = getattr(config.stages, section)
            assert rules.model_fields_set == set(type(rules).model_fields), (name, section)


def test_a_file_is_read_and_missing_sections_keep_their_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, '[stages.sleeping]\non_engagement = "stay"\n')
    config = load_config(path)
    assert config.stages.sleeping.on_engagement == EngagementResponse.STAY
    assert config.stages.loyal == LifecycleConfig().stages.loyal


def test_a_file_path_given_as_text_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "[stages.loyal]\nmin_orders = 3\n")
    assert load_config(str(path)).stages.loyal.min_orders == 3


def test_extends_starts_from_a_preset_and_overrides_single_keys(tmp_path: Path) -> None:
    path = _write(tmp_path, 'extends = "b2b_small"\n[stages.loyal]\nmin_orders = 3\n')
    config = load_config(path)
    assert config.stages.loyal.min_orders == 3
    assert config.stages.loyal.min_net_revenue_minor == 1_000_000
    assert config.stages.rhythm == load_config("b2b_small").stages.rhythm


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "[stages.at_risk]\nrhythm_multiplier = 0.9\n",
            "stages.at_risk.rhythm_multiplier: must be > 1.0 (got 0.9)",
        ),
        (
            "[stages.at_risk]\nrhytm_multiplier = 2.0\n",
            "stages.at_risk.rhytm_multiplier: unknown key",
        ),
        ("[stage]\n", "stage: unknown key"),
        (
            "[stages.sleeping]\nrhythm_multiplier = 1.2\n",
            "stages.sleeping.rhythm_multiplier: must be greater than "
            "at_risk.rhythm_multiplier (1.5)",
        ),
        (
            "[stages.rhythm]\ndefault_days = 5\n",
            "stages.rhythm.default_days: must lie between min_days (14) and max_days (365)",
        ),
        ('[stages.loyal]\nmin_orders = "5"\n', "stages.loyal.min_orders: Input should be a valid"),
        ("[stages.sleeping]\np_alive_below = 1.0\n", "stages.sleeping.p_alive_below: must be < 1"),
        (
            '[stages.sleeping]\non_engagement = "wake"\n',
            "stages.sleeping.on_engagement: Input should be 'stay' or 'at_risk' (got 'wake')",
        ),
        ('extends = "b2b_huge"\n', "extends: unknown preset 'b2b_huge'"),
        ("[stages.loyal\n", "not valid TOML"),
    ],
)
def test_a_bad_config_fails_at_load_naming_the_offending_key(
    tmp_path: Path, body: str, message: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(LifecycleConfigError) as raised:
        load_config(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_an_unknown_preset_or_missing_file_names_the_presets(tmp_path: Path) -> None:
    with pytest.raises(LifecycleConfigError, match="no preset or file named 'retail'"):
        load_config("retail")
    with pytest.raises(LifecycleConfigError, match="consumer_retail, b2b_small, b2b_large"):
        load_config(tmp_path / "missing.toml")
