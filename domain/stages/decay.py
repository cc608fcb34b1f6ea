"""Bulk passes: time-based decay and full reclassification, set-wise in SQL.

Nobody sends an event when a customer falls asleep, so a scheduled pass finds them. One
INSERT ... SELECT computes every customer's change into a temporary table; the history
rows, the customer updates and the hooks then all work from that table.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    CursorResult,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlmodel import Session

from domain.clock import as_utc
from domain.columns import UTCDateTime
from domain.customers.models import Customer
from domain.db import is_postgres
from domain.stages.config import LifecycleConfig
from domain.stages.hooks import Moved, hooks_for
from domain.stages.models import StageChange
from domain.stages.rules import DECAYING
from domain.stages.scores import latest_run
from domain.stages.setwise import DECISION_COLUMNS, decision_query
from domain.stages.vocabulary import Stage

CUSTOMER = cast(Table, inspect(Customer).local_table)
STAGE_CHANGE = cast(Table, inspect(StageChange).local_table)


@dataclass(frozen=True)
class DecayResult:
    """What a pass changed, and what the rules asked for but the table held back."""

    as_of: datetime
    changes: dict[tuple[Stage, Stage], int] = field(default_factory=dict)
    held: dict[tuple[Stage, Stage], int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        """How many customers changed stage."""
        return sum(self.changes.values())


def decay_pass(*, session: Session, as_of: datetime, config: LifecycleConfig) -> DecayResult:
    """Move every customer whom time alone has moved by `as_of` (at risk, sleeping, settled)."""
    return _pass(session, as_utc(as_of), config, DECAYING)


def recompute_all(*, session: Session, as_of: datetime, config: LifecycleConfig) -> DecayResult:
    """Classify every customer from their facts as of `as_of` (after imports or demo data)."""
    return _pass(session, as_utc(as_of), config, None)


def _pass(
    session: Session, as_of: datetime, config: LifecycleConfig, stages: Collection[Stage] | None
) -> DecayResult:
    session.flush()
    postgres = is_postgres(session)
    query = decision_query(
        postgres=postgres,
        config=config.stages,
        as_of=as_of,
        stages=stages,
        run=latest_run(session=session),
    )
    # Created inside the caller's transaction, so a rollback removes it as well.
    decision = _decision_table()
    connection = session.connection()
    decision.create(connection)
    decided = connection.execute(insert(decision).from_select(list(DECISION_COLUMNS), query))
    if not decided.rowcount:
        decision.drop(connection)
        return DecayResult(as_of=as_of)
    if postgres:
        # Temporary tables get no autovacuum statistics; the joins below need them.
        connection.execute(text(f"ANALYZE {decision.name}"))
    result = _tally(session, decision, as_of)
    if _move_customers(session, decision) != result.changed:
        _forget_overtaken(session, decision)
        result = _tally(session, decision, as_of)
    _write_history(session, decision)
    _run_hooks(session, decision, result)
    decision.drop(connection)
    _expire_customers(session)
    return result


def _decision_table() -> Table:
    return Table(
        f"stage_decision_{secrets.token_hex(4)}",
        MetaData(),
        Column("customer_id", BigInteger, nullable=False),
        Column("from_stage", String(20), nullable=False),
        Column("to_stage", String(20), nullable=False),
        Column("changed_at", UTCDateTime(), nullable=False),
        Column("reason", String(300), nullable=False),
        Column("allowed", Integer, nullable=False),
        prefixes=["TEMPORARY"],
    )


def _tally(session: Session, decision: Table, as_of: datetime) -> DecayResult:
    changes: dict[tuple[Stage, Stage], int] = {}
    held: dict[tuple[Stage, Stage], int] = {}
    counted = session.execute(
        select(
            decision.c.from_stage, decision.c.to_stage, decision.c.allowed, func.count()
        ).group_by(decision.c.from_stage, decision.c.to_stage, decision.c.allowed)
    )
    for previous, current, allowed, count in counted:
        (changes if allowed else held)[(Stage(previous), Stage(current))] = count
    return DecayResult(as_of=as_of, changes=changes, held=held)


def _move_customers(session: Session, decision: Table) -> int:
    # Only customers still in the stage the decision started from: one whose order or event
    # committed meanwhile (the fast path) keeps the newer stage.
    moved = session.execute(
        update(CUSTOMER)
        .where(
            CUSTOMER.c.id == decision.c.customer_id,
            CUSTOMER.c.stage == decision.c.from_stage,
            decision.c.allowed == 1,
        )
        .values(stage=decision.c.to_stage, stage_since=decision.c.changed_at)
    )
    return cast(CursorResult[Any], moved).rowcount


def _forget_overtaken(session: Session, decision: Table) -> None:
    applied = (
        select(CUSTOMER.c.id)
        .where(
            CUSTOMER.c.id == decision.c.customer_id,
            CUSTOMER.c.stage == decision.c.to_stage,
            CUSTOMER.c.stage_since == decision.c.changed_at,
        )
        .exists()
    )
    session.execute(delete(decision).where(decision.c.allowed == 1, ~applied))


def _write_history(session: Session, decision: Table) -> None:
    history = select(
        decision.c.customer_id,
        decision.c.from_stage,
        decision.c.to_stage,
        decision.c.reason,
        decision.c.changed_at,
    ).where(decision.c.allowed == 1)
    session.execute(
        insert(STAGE_CHANGE).from_select(
            ["customer_id", "from_stage", "to_stage", "reason", "changed_at"], history
        )
    )


def _run_hooks(session: Session, decision: Table, result: DecayResult) -> None:
    for previous, current in result.changes:
        hooks = hooks_for(previous, current)
        if not hooks:
            continue
        rows = select(decision.c.customer_id, decision.c.changed_at, decision.c.reason).where(
            decision.c.allowed == 1,
            decision.c.from_stage == previous,
            decision.c.to_stage == current,
        )
        moved = Moved(previous=previous, current=current, rows=rows)
        for hook in hooks:
            hook(session, moved)


def _expire_customers(session: Session) -> None:
    # The UPDATE bypassed the ORM: loaded customers must reload their stage.
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Customer):
            session.expire(instance, ["stage", "stage_since"])
