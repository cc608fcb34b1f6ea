"""Lists meet relations through dataloaders: a page costs a constant number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

from domain.db import unit_of_work
from domain.staff.models import StaffRole, TokenRole
from tests.api.factories import gql, make_run, make_score, make_suggestion, make_token
from tests.factories import make_customer

PAGE_WITH_RELATIONS = """
query ($first: Int) {
  customers(first: $first) {
    ... on CustomerConnection {
      edges { node { externalId score { pAlive } owner { name } openSuggestions { reason } } }
    }
  }
}
"""


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements that reach the database driver inside the block.

    On PostgreSQL the hottest reads bypass SQLAlchemy (domain.db.DriverQuery), so the count
    is taken at psycopg's cursor, which every statement passes through.
    """
    statements: list[str] = []
    if engine.dialect.name == "postgresql":
        execute = psycopg.Cursor.execute

        def spy(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
            if str(query) != ";":  # the connection pool's pre-ping, not a statement
                statements.append(str(query))
            return execute(cursor, query, *args, **kwargs)

        psycopg.Cursor.execute = spy  # type: ignore[method-assign]
        try:
            yield statements
        finally:
            psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        return

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def seed(engine: Engine, n: int) -> None:
    _, owner_id = make_token(engine, TokenRole.SALES, staff_role=StaffRole.SALES)
    with unit_of_work(engine) as session:
        run = make_run(session)
        for _ in range(n):
            customer = make_customer(session, owner_id=owner_id)
            make_score(session, run, customer)
            make_suggestion(session, customer, owner_id)


async def test_listing_100_customers_with_relations_runs_a_constant_number_of_statements(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    token, _ = make_token(engine, TokenRole.READ)
    seed(engine, 100)
    with counted(engine) as few:
        small = await gql(client, PAGE_WITH_RELATIONS, {"first": 10}, token=token)
    with counted(engine) as many:
        large = await gql(client, PAGE_WITH_RELATIONS, {"first": 100}, token=token)
    edges = large["data"]["customers"]["edges"]
    assert len(small["data"]["customers"]["edges"]) == 10
    assert len(edges) == 100
    assert all(e["node"]["score"] == {"pAlive": 0.9} for e in edges)
    assert all(e["node"]["owner"] == {"name": "sales person"} for e in edges)
    assert all(e["node"]["openSuggestions"] == [{"reason": "birthday in 3 days"}] for e in edges)
    # token look-up, the page, then one statement each for scores, owners and suggestions.
    assert len(many) == len(few) == 5, many
