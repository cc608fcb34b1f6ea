"""schema.graphql is the exported schema; a change to the code must be re-exported."""

from __future__ import annotations

from pathlib import Path

from api.export_schema import DEFAULT_PATH
from api.schema import export_sdl


def test_schema_file_matches_the_code() -> None:
    assert Path(DEFAULT_PATH).read_text(encoding="utf-8") == export_sdl(), (
        "schema.graphql is stale: run `python -m api.export_schema`"
    )
