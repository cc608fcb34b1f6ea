"""`lifecycle demo` runs the product end to end on the embedded default (a SQLite file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.db import get_engine
from domain.settings import get_settings
from domain.stages.config import default_config


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No DATABASE_URL and no REDIS_URL: the SQLite file lives in a fresh data dir."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield tmp_path
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_demo_loads_demo_data_assigns_stages_and_raises_suggestions(embedded: Path) -> None:
    runner = CliRunner()

    result = runner.invoke(app, ["demo", "--customers", "300", "--no-serve"])

    assert result.exit_code == 0, result.output
    assert (embedded / "lifecycle.sqlite3").exists()
    assert "Top open suggestions" in result.output
    assert "Most valuable customers" in result.output
    assert "scoring run 1:" in result.output
    stats = json.loads(runner.invoke(app, ["stats", "--json"]).output)
    assert stats["customers"] == 300
    assert stats["orders"] > 300
    assert stats["stages"]["prospect"] < 300
    assert sum(stats["stages"].values()) == 300
    assert len([s for s, n in stats["stages"].items() if n > 0]) >= 6


def test_demo_run_twice_keeps_the_data_it_made(embedded: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["demo", "--customers", "120", "--no-serve"])

    again = runner.invoke(app, ["demo", "--customers", "120", "--no-serve"])

    assert again.exit_code == 0, again.output
    assert "already stored" in again.output
    assert json.loads(runner.invoke(app, ["stats", "--json"]).output)["customers"] == 120


def test_demo_with_a_bad_config_file_names_the_key_and_changes_nothing(
    embedded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = embedded / "lifecycle.toml"
    bad.write_text("[contact]\ncap_cont = 3\n")
    monkeypatch.setenv("LIFECYCLE_CONFIG", str(bad))
    get_settings.cache_clear()
    default_config.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "--no-serve"])
    finally:
        default_config.cache_clear()

    assert result.exit_code == 2
    assert "contact.cap_cont: unknown key" in result.output
    assert not (embedded / "lifecycle.sqlite3").exists()
