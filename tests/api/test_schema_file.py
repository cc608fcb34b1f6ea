"""schema.graphql is the exported schema, and the documented examples are valid against it."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import DocumentNode, OperationDefinitionNode, parse, print_ast, validate

from api.export_schema import DEFAULT_PATH
from api.schema import build_schema, export_sdl
from api.settings import ApiSettings


def test_schema_file_matches_the_code() -> None:
    assert Path(DEFAULT_PATH).read_text(encoding="utf-8") == export_sdl(), (
        "schema.graphql is stale: run `python -m api.export_schema`"
    )


DOCS = (Path("README.md"), *sorted(Path("docs").glob("*.md")))
GRAPHQL_BLOCK = re.compile(r"```graphql\n(.*?)```", re.DOTALL)


def documented_operations() -> list[tuple[str, OperationDefinitionNode]]:
    """Every operation in a ```graphql block of the README and docs/, with where it is."""
    found = []
    for path in DOCS:
        for block in GRAPHQL_BLOCK.findall(path.read_text(encoding="utf-8")):
            for definition in parse(block).definitions:
                assert isinstance(definition, OperationDefinitionNode)
                found.append((str(path), definition))
    return found


def test_every_documented_example_is_valid_against_the_schema() -> None:
    schema = build_schema(ApiSettings(), introspection=True)._schema
    operations = documented_operations()
    assert len(operations) >= 10
    for where, operation in operations:
        errors = validate(schema, DocumentNode(definitions=(operation,)))
        assert not errors, f"{where}: {print_ast(operation)[:80]}: {errors[0].message}"
