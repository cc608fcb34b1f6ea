"""`lifecycle import KIND FILE` through typer: summary, JSON, rejects and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from cli.importing import import_command
from domain.db import get_engine
from domain.settings import get_settings
from tests.domain.imports.factories import RETAIL_HEADER, retail_row, write_csv
from tests.domain.imports.helpers import orders, refusing_boom

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    """Runs `import ...` of a tiny app against the test database."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    get_engine.cache_clear()
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A test app with the import command."""

    app.command("import")(import_command)
    try:
        yield lambda *args: CliRunner().invoke(app, ["import", *map(str, args)])
    finally:
        if get_engine.cache_info().currsize:
            get_engine().dispose()
        get_engine.cache_clear()
        get_settings.cache_clear()


def test_an_import_prints_its_summary_and_where_the_rejects_are(
    invoke: Invoke, engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [retail_row(), retail_row(sku="B", quantity="x"), retail_row(invoice="C1", quantity="-1")],
    )

    result = invoke("online-retail", path)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Imported online-retail from {path} (utf-8) in ")
    assert lines[1:9] == [
        "  rows read                  3",
        "  loaded                     2",
        "  already loaded             0",
        "  rejected                   1",
        "    not a number: 1",
        "  guest rows                 0",
        "  return rows                1",
        "  created         1 customers, 1 products, 2 orders, 1 returns, 2 lines",
    ]
    assert lines[-1] == f"1 row(s) rejected: see {path}.rejects.csv"
    assert sorted(orders(engine)) == ["536365", "C1"]


def test_json_prints_the_summary_as_one_object(invoke: Invoke, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "retail.csv", RETAIL_HEADER, [retail_row()])

    result = invoke("online-retail", path, "--json", "--currency", "gbp")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows_read"] == summary["rows_loaded"] == 1
    assert summary["created"]["orders"] == 1
    assert summary["rejects_file"] == f"{path}.rejects.csv"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["orders", "missing.csv"], "error: file not found: missing.csv"),
        (
            ["orders", "{retail}"],
            "error: the header does not match the orders layout: "
            "missing column(s): order_id, ordered_at, sku",
        ),
        (
            ["online-retail", "{retail}", "--timezone", "Mars/Olympus"],
            "error: unknown time zone 'Mars/Olympus'",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    invoke: Invoke, tmp_path: Path, args: list[str], message: str
) -> None:
    retail = write_csv(tmp_path / "retail.csv", RETAIL_HEADER, [retail_row()])

    result = invoke(*[arg.replace("{retail}", str(retail)) for arg in args])

    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert result.stdout == ""


def test_an_unknown_kind_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("spreadsheet", tmp_path / "x.csv")

    assert result.exit_code == 2
    assert "'spreadsheet' is not one of" in result.stderr


def test_a_failing_batch_exits_1_after_the_summary_of_what_was_committed(
    invoke: Invoke, engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        RETAIL_HEADER,
        [retail_row(invoice="536365"), retail_row(invoice="536366", sku="BOOM")],
    )

    with refusing_boom(engine):
        result = invoke("online-retail", path, "--batch-size", "1", "--json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["rows_loaded"] == 1
    assert result.stderr.startswith("error: the batch of lines 3-3 failed and was rolled back")
    assert len(result.stderr.splitlines()) == 1
    assert sorted(orders(engine)) == ["536365"]
