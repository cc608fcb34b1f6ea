"""Write the schema's SDL to schema.graphql: `python -m api.export_schema [PATH]`."""

from __future__ import annotations

import sys
from pathlib import Path

from api.schema import export_sdl

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def main(argv: list[str]) -> None:
    """Export to the given path, or to schema.graphql at the repository root."""
    path = Path(argv[0]) if argv else DEFAULT_PATH
    path.write_text(export_sdl(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
