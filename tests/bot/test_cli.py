"""`lifecycle bot`: clear refusals when something it needs is not configured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from bot.settings import get_bot_settings
from cli.bot import bot_command


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name in ("BOT_API_TOKEN", "TELEGRAM_TOKEN", "BOT_WEBHOOK_URL"):
        monkeypatch.setenv(name, "")
    get_bot_settings.cache_clear()
    yield CliRunner()
    get_bot_settings.cache_clear()


def run(runner: CliRunner, *args: str) -> tuple[int, str]:
    app = typer.Typer()
    app.command()(bot_command)
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_without_an_api_token_it_says_how_to_make_one(runner: CliRunner) -> None:
    code, output = run(runner)

    assert code == 2
    assert "BOT_API_TOKEN is not set" in output


def test_without_a_telegram_token_it_points_to_the_console(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_API_TOKEN", "lc_x")

    code, output = run(runner)

    assert code == 2
    assert "TELEGRAM_TOKEN is not set: use --console" in output


def test_the_console_needs_the_telegram_id_to_act_for(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_API_TOKEN", "lc_x")

    code, output = run(runner, "--console")

    assert code == 2
    assert "--console needs --as TELEGRAM_USER_ID" in output
