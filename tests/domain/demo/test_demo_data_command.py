"""`lifecycle demo-data` through typer, against the configured database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col
from typer.testing import CliRunner

from cli.demo_data import demo_data_command
from domain.customers.models import Customer
from domain.db import get_engine
from domain.settings import get_settings


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A stand-in for the `lifecycle` app."""

    app.command("demo-data")(demo_data_command)
    return app


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """DATABASE_URL pointing at the test database, with the cached settings and engine reset."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield engine
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["demo-data", *args])
    return result.exit_code, " ".join(result.output.split())


def test_demo_data_writes_the_business_and_prints_what_it_wrote(configured: Engine) -> None:
    code, output = _run("--customers", "300", "--seed", "3", "--as-of", "2026-06-30")
    assert code == 0, output
    assert "Demo business written: 300 customers, seed 3, as of 2026-06-30" in output
    assert "order_line" in output
    assert "reactivated" in output and "At risk" in output
    with configured.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Customer)).scalar_one()
    assert count == 300


def test_demo_data_leaves_customers_in_the_stages_their_histories_earn(
    configured: Engine,
) -> None:
    code, output = _run("--customers", "300", "--seed", "3", "--as-of", "2026-06-30")
    assert code == 0, output
    with configured.connect() as connection:
        stages = dict(
            connection.execute(
                select(col(Customer.stage), func.count()).group_by(col(Customer.stage))
            ).all()
        )
    assert stages.get("prospect", 0) < 100
    assert {"loyal", "sleeping", "at_risk", "first_time_buyer"} <= set(stages)
    assert f"Sleeping │ {stages['sleeping']} │" in output


def test_demo_data_refuses_a_database_that_already_has_customers(configured: Engine) -> None:
    assert _run("--customers", "50")[0] == 0
    code, output = _run("--customers", "50")
    assert code == 1
    assert "error: the database already holds data in customer (50 rows)" in output
    assert "nothing was changed" in output
