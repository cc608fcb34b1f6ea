"""Recording behaviour events in batches: bad events are reported and skipped, the good ones
are stored together, each once per idempotency key, and their effects applied set-wise.

Stage moves: an engagement event can change the stage only of a prospect (who becomes a
lead) or of a sleeping customer (woken: a lead again, or at risk when configured). Those go
through the stage machine's fast path for a batch (`on_engagements`, set-wise); everyone
else only gets their `last_engaged_at` raised, in one UPDATE, and the scheduled decay pass
reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, inspect, select, text
from sqlmodel import Session, col

from domain.channels.models import Channel
from domain.clock import as_utc
from domain.columns import UTCDateTime
from domain.customers.models import Customer
from domain.customers.queries import customers_by_ids
from domain.customers.service import ValidationFailed, check_not_future
from domain.db import is_postgres
from domain.events.models import Event, EventType
from domain.imports.store import chunked, insert_new
from domain.jsonrows import json_ids
from domain.stages.config import LifecycleConfig
from domain.stages.models import WrittenChange
from domain.stages.rules import counts_as_engagement
from domain.stages.service import on_engagements
from domain.stages.vocabulary import Stage
from domain.triggers.config import TriggersConfig
from domain.triggers.service import on_cart_added, run_triggers
from domain.triggers.vocabulary import TriggerType

EVENT = cast(Table, inspect(Event).local_table)
CUSTOMER = cast(Table, inspect(Customer).local_table)
MAX_BATCH = 5000
MAX_PROPERTIES_CHARS = 10_000
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
BULK_INSERT = text(
    """
    INSERT INTO event (customer_id, type, channel_id, occurred_at, properties, idempotency_key,
                       created_at)
    SELECT r.customer_id, r.type, r.channel_id, r.occurred_at, r.properties, r.idempotency_key,
           :created_at
    FROM jsonb_to_recordset(CAST(:rows AS JSONB)) AS r(
        customer_id BIGINT, type VARCHAR, channel_id BIGINT, occurred_at TIMESTAMPTZ,
        properties JSONB, idempotency_key VARCHAR
    )
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING idempotency_key, id
    """
).bindparams(bindparam("created_at", type_=UTCDateTime()))
# The only stages an engagement event moves by itself (see the module docstring).
WOKEN_BY_ENGAGEMENT = frozenset({Stage.PROSPECT, Stage.SLEEPING})


@dataclass(frozen=True)
class NewEvent:
    """One event as the caller sends it; the customer by exactly one of id and external id."""

    idempotency_key: str
    type: str
    occurred_at: datetime
    customer_id: int | None = None
    customer_external_id: str | None = None
    channel: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RejectedEvent:
    """An event of the batch that was not stored: its position, the bad field and why."""

    index: int
    field: str
    message: str


@dataclass(frozen=True)
class CartCheck:
    """When a customer's cart counts as abandoned unless they order: run `check_cart` then."""

    customer_id: int
    due_at: datetime


@dataclass(frozen=True)
class RecordEventsResult:
    """What a batch stored, skipped as already stored, refused, and set in motion."""

    inserted: int
    duplicates: int
    rejected: list[RejectedEvent]
    stage_changes: list[WrittenChange]
    new_suggestion_ids: list[int]
    cart_checks: list[CartCheck]


@dataclass(frozen=True)
class _Stored:
    customer_id: int
    type: str
    occurred_at: datetime


def record_events(
    *,
    session: Session,
    events: Sequence[NewEvent],
    at: datetime,
    config: LifecycleConfig | None = None,
    triggers: TriggersConfig | None = None,
) -> RecordEventsResult:
    """Store the batch's good events (one INSERT, duplicates skipped) and apply their effects.

    Raises ValidationFailed only for the batch as a whole (too many events); a bad event is
    reported in `rejected` and the others are stored.
    """
    at = as_utc(at)
    if len(events) > MAX_BATCH:
        raise ValidationFailed("events", f"a batch may hold at most {MAX_BATCH} events")
    by_external = _ids_by_external_id(
        session, {e.customer_external_id.strip() for e in events if e.customer_external_id}
    )
    named = {e.customer_id for e in events if e.customer_id is not None}
    # Locked before the insert: its foreign-key checks share-lock the same customers, and a
    # lock taken after them could wait on another batch waiting on ours.
    stages = _lock(session, sorted(named | set(by_external.values())))
    rows, rejected, repeated = _validated(session, events, at, stages.keys(), by_external)
    inserted = _insert(session, rows, at)
    stored = [
        _Stored(row["customer_id"], row["type"], row["occurred_at"])
        for row in rows
        if row["idempotency_key"] in inserted
    ]
    changes: list[WrittenChange] = []
    suggestion_ids: list[int] = []
    checks: list[CartCheck] = []
    if stored:
        first, latest = _engagements(stored, stages)
        changes = on_engagements(session=session, first=first, latest=latest, config=config)
        suggestion_ids, checks = _carts(session, stored, at, triggers)
    return RecordEventsResult(
        inserted=len(inserted),
        duplicates=repeated + len(rows) - len(inserted),
        rejected=rejected,
        stage_changes=changes,
        new_suggestion_ids=suggestion_ids,
        cart_checks=checks,
    )


def _validated(
    session: Session,
    events: Sequence[NewEvent],
    at: datetime,
    known_ids: Collection[int],
    by_external: Mapping[str, int],
) -> tuple[list[dict[str, Any]], list[RejectedEvent], int]:
    """Rows of the good events, the rejected ones, and how many repeated a key of the batch."""
    channels = {
        code: channel_id
        for code, channel_id in session.execute(select(col(Channel.code), col(Channel.id)))
    }
    rows: list[dict[str, Any]] = []
    rejected: list[RejectedEvent] = []
    seen: set[str] = set()
    repeated = 0
    for index, event in enumerate(events):
        try:
            row = _row(event, at, known_ids, by_external, channels)
        except ValidationFailed as exc:
            rejected.append(RejectedEvent(index, exc.field, exc.message))
            continue
        if row["idempotency_key"] in seen:
            repeated += 1
            continue
        seen.add(row["idempotency_key"])
        rows.append(row)
    return rows, rejected, repeated


def _row(
    event: NewEvent,
    at: datetime,
    known_ids: Collection[int],
    by_external: Mapping[str, int],
    channels: Mapping[str, int],
) -> dict[str, Any]:
    key = event.idempotency_key.strip()
    if not key or len(key) > 200:
        raise ValidationFailed("idempotency_key", "idempotency_key must be 1 to 200 characters")
    if (event.customer_id is None) == (event.customer_external_id is None):
        raise ValidationFailed("customer", "give either the customer's id or external id")
    if event.customer_id is not None:
        if event.customer_id not in known_ids:
            raise ValidationFailed("customer", f"no customer with id {event.customer_id}")
        customer_id = event.customer_id
    else:
        external_id = (event.customer_external_id or "").strip()
        if external_id not in by_external:
            raise ValidationFailed("customer", f"no customer with external id {external_id}")
        customer_id = by_external[external_id]
    kind = event.type.strip()
    if not EVENT_TYPE.fullmatch(kind):
        raise ValidationFailed(
            "type", f"type {kind!r} is not an event name like {EventType.CART_ADD}"
        )
    channel_id = None
    if event.channel is not None and event.channel.strip():
        channel_id = channels.get(event.channel.strip())
        if channel_id is None:
            raise ValidationFailed("channel", f"no channel with code {event.channel.strip()!r}")
    return {
        "customer_id": customer_id,
        "type": kind,
        "channel_id": channel_id,
        "occurred_at": check_not_future(event.occurred_at, at=at, field="occurred_at"),
        "properties": _properties(event.properties),
        "idempotency_key": key,
        "created_at": at,
    }


def _properties(value: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationFailed("properties", "properties must be a JSON object")
    try:
        text = json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError):
        raise ValidationFailed("properties", "properties must be plain JSON values") from None
    if len(text) > MAX_PROPERTIES_CHARS:
        raise ValidationFailed(
            "properties", f"properties is longer than {MAX_PROPERTIES_CHARS} characters as JSON"
        )
    # PostgreSQL's jsonb cannot hold a NUL character.
    if "\\u0000" in text:
        raise ValidationFailed("properties", "properties contains a NUL character")
    return dict(value)


def _insert(session: Session, rows: list[dict[str, Any]], at: datetime) -> dict[str, int]:
    """Insert the rows whose key is new, in one statement; {key: id} of those inserted."""
    if not rows or not is_postgres(session):
        return insert_new(session, EVENT, rows, ["idempotency_key"])
    # The batch as one JSON document: psycopg would spend longer turning a thousand-row
    # VALUES list (or an array per column) into parameters than PostgreSQL takes to run it.
    document = json.dumps(
        [
            {
                "customer_id": row["customer_id"],
                "type": row["type"],
                "channel_id": row["channel_id"],
                "occurred_at": row["occurred_at"].isoformat(),
                "properties": row["properties"],
                "idempotency_key": row["idempotency_key"],
            }
            for row in rows
        ],
        separators=(",", ":"),
    )
    inserted = session.execute(BULK_INSERT, {"rows": document, "created_at": at})
    return {key: event_id for key, event_id in inserted}


def _ids_by_external_id(session: Session, external_ids: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunked(sorted(external_ids)):
        statement = select(CUSTOMER.c.external_id, CUSTOMER.c.id).where(
            CUSTOMER.c.external_id.in_(chunk)
        )
        found.update(
            {external_id: customer_id for external_id, customer_id in session.execute(statement)}
        )
    return found


def _lock(session: Session, customer_ids: list[int]) -> dict[int, str]:
    """Lock the customers in id order (so concurrent batches cannot deadlock); their stages."""
    if not customer_ids:
        return {}
    postgres = is_postgres(session)
    # Locks rows about to be updated without blocking foreign-key checks (FOR NO KEY UPDATE).
    lock = " FOR NO KEY UPDATE" if postgres else ""
    rows = session.execute(
        text(
            "SELECT id, stage FROM customer"
            f" WHERE id IN {json_ids(postgres=postgres, param='ids')} ORDER BY id{lock}"
        ),
        {"ids": json.dumps(customer_ids)},
    )
    return {customer_id: stage for customer_id, stage in rows}


def _engagements(
    stored: Sequence[_Stored], stages: Mapping[int, str]
) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """The earliest engagement of each prospect and sleeper (they may wake up), and the
    latest engagement of every customer."""
    first: dict[int, datetime] = {}
    latest: dict[int, datetime] = {}
    for event in stored:
        if not counts_as_engagement(event.type):
            continue
        customer_id, at = event.customer_id, event.occurred_at
        if customer_id not in latest or latest[customer_id] < at:
            latest[customer_id] = at
        waking = stages.get(customer_id) in WOKEN_BY_ENGAGEMENT
        if waking and (customer_id not in first or at < first[customer_id]):
            first[customer_id] = at
    return first, latest


def _carts(
    session: Session, stored: Sequence[_Stored], at: datetime, triggers: TriggersConfig | None
) -> tuple[list[int], list[CartCheck]]:
    """Abandoned-cart suggestions for carts already due; when the others fall due."""
    carts = [event for event in stored if event.type == EventType.CART_ADD]
    if not carts:
        return [], []
    # Loaded (and held) once, so that each deadline below reads the time zone from memory.
    loaded = customers_by_ids(session=session, ids={event.customer_id for event in carts})
    due: dict[tuple[int, datetime], None] = {}
    for event in carts:
        deadline = on_cart_added(
            session=session, customer_id=event.customer_id, at=event.occurred_at, config=triggers
        )
        due[(event.customer_id, deadline)] = None
    del loaded
    overdue = sorted({customer_id for customer_id, deadline in due if deadline <= at})
    suggestion_ids = (
        run_triggers(
            session=session,
            as_of=at,
            config=triggers,
            customer_ids=overdue,
            types=[TriggerType.ABANDONED_CART],
        ).suggestion_ids
        if overdue
        else []
    )
    later = [CartCheck(customer_id, deadline) for customer_id, deadline in due if deadline > at]
    return suggestion_ids, sorted(later, key=lambda check: (check.due_at, check.customer_id))
