"""After an import the customers stand in the stages their history earns."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from domain.imports.runner import ImportKind, run_import
from domain.stages.vocabulary import Stage
from tests.domain.imports.factories import RETAIL_HEADER, retail_row, write_csv
from tests.domain.imports.helpers import customers


def test_imported_buyers_are_classified_from_their_orders(engine: Engine, tmp_path: Path) -> None:
    rows = [
        retail_row(invoice="1", customer="100", date="1/5/2011 10:00"),
        retail_row(invoice="2", customer="200", date="1/5/2011 10:00"),
        retail_row(invoice="3", customer="200", date="2/5/2011 10:00"),
    ]
    path = write_csv(tmp_path / "retail.csv", RETAIL_HEADER, rows)

    summary = run_import(ImportKind.ONLINE_RETAIL, path, engine=engine)

    stored = customers(engine)
    assert summary.stage_changes == 2
    # Their last orders were years ago: long past any rhythm.
    assert stored["100"].stage == Stage.SLEEPING
    assert stored["200"].stage == Stage.SLEEPING
    assert stored["200"].order_count == 2
