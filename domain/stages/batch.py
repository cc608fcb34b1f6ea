"""The fast path for a batch: many customers, each moved as of their own moment, set-wise.

What `service._advance` does for one customer, for a few thousand locked customers in
three statements: the rules' decisions come back as rows (the SQL of `setwise`), the
customers are moved in one UPDATE and their history written in one INSERT.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, inspect, select, text
from sqlmodel import Session

from domain.customers.models import Customer
from domain.db import is_postgres
from domain.jsonrows import json_document, json_table
from domain.stages.config import StagesConfig
from domain.stages.errors import StageError
from domain.stages.hooks import Moved, run_hooks
from domain.stages.models import StageChange, WrittenChange
from domain.stages.scores import latest_run
from domain.stages.setwise import decision_query
from domain.stages.vocabulary import Stage

logger = logging.getLogger(__name__)
STAGE_CHANGE = cast(Table, inspect(StageChange).local_table)
MOVE_COLUMNS = (
    ("customer_id", "BIGINT"),
    ("from_stage", "VARCHAR"),
    ("to_stage", "VARCHAR"),
    ("changed_at", "TIMESTAMPTZ"),
    ("reason", "VARCHAR"),
)


def advance_at(
    *,
    session: Session,
    moments: Mapping[int, datetime],
    config: StagesConfig,
    engaged: Mapping[int, datetime] | None = None,
) -> list[WrittenChange]:
    """Move each customer as the rules decide as of their own moment; the history written.

    `engaged` are engagements the rules count before `last_engaged_at` records them.

    The caller holds the customers' row locks (a customer who changed stage meanwhile
    would make the move fail loudly rather than be overwritten).
    """
    if not moments:
        return []
    session.flush()
    postgres = is_postgres(session)
    query = decision_query(
        postgres=postgres,
        config=config,
        as_of=moments,
        stages=None,
        run=latest_run(session=session),
        engaged=engaged,
    )
    moves: list[dict[str, Any]] = []
    for customer_id, previous, current, at, reason, allowed in session.execute(query):
        if not allowed:
            # Facts that went backwards (a cancelled order) never move a customer outside
            # the table; they stay where they are.
            logger.warning(
                "customer %s stays %s: the rules call for %s, which the table does not allow",
                customer_id,
                previous,
                current,
            )
            continue
        moves.append(
            {
                "customer_id": customer_id,
                "from_stage": previous,
                "to_stage": current,
                "changed_at": at,
                "reason": reason,
            }
        )
    if not moves:
        return []
    document = json_document(moves, postgres=postgres)
    source = json_table(postgres=postgres, param="moves", columns=MOVE_COLUMNS)
    _move(session, source, document, len(moves))
    changes = _write_history(session, source, document, moves)
    _run_hooks(session, changes)
    return changes


def _move(session: Session, source: str, document: str, count: int) -> None:
    moved = session.execute(
        text(
            f"UPDATE customer SET stage = m.to_stage, stage_since = m.changed_at FROM {source} m"
            " WHERE customer.id = m.customer_id AND customer.stage = m.from_stage"
        ),
        {"moves": document},
    )
    if cast(CursorResult[Any], moved).rowcount != count:
        raise StageError("customers changed stage while being moved: lock them first")
    # The UPDATE bypassed the ORM: loaded customers must reload their stage.
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Customer):
            session.expire(instance, ["stage", "stage_since"])


def _write_history(
    session: Session, source: str, document: str, moves: list[dict[str, Any]]
) -> list[WrittenChange]:
    written = session.execute(
        text(
            "INSERT INTO stage_change (customer_id, from_stage, to_stage, reason, changed_at)"
            f" SELECT customer_id, from_stage, to_stage, reason, changed_at FROM {source} m"
            " RETURNING customer_id, id"
        ),
        {"moves": document},
    )
    # One move per customer: the ids are matched by customer.
    ids = {customer_id: change_id for customer_id, change_id in written}
    return [WrittenChange(id=ids[move["customer_id"]], **move) for move in moves]


def _run_hooks(session: Session, changes: list[WrittenChange]) -> None:
    by_pair: dict[tuple[Stage, Stage], list[int]] = defaultdict(list)
    for change in changes:
        assert change.from_stage is not None
        by_pair[(Stage(change.from_stage), Stage(change.to_stage))].append(change.id)
    for (previous, current), ids in by_pair.items():
        rows = select(
            STAGE_CHANGE.c.customer_id, STAGE_CHANGE.c.changed_at, STAGE_CHANGE.c.reason
        ).where(STAGE_CHANGE.c.id.in_(ids))
        run_hooks(session, Moved(previous=previous, current=current, rows=rows))
