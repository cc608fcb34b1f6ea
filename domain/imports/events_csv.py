"""Lifecycle's own events CSV: one behaviour event per row, recorded once per idempotency key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from domain.imports.layout import ImportContext, parse_rows
from domain.imports.source import Record, header_index
from domain.imports.store import CUSTOMER, EVENT, ids_by, insert_new
from domain.imports.summary import BatchOutcome, Reject, SkipReason
from domain.imports.values import Timestamps, json_object, optional, required

KIND = "events"
REQUIRED = (("customer_id",), ("type",), ("occurred_at",))
OPTIONAL = ("channel", "idempotency_key", "properties")
DERIVED_KEY_PREFIX = "import:"


@dataclass(slots=True)
class EventIn:
    """One event row, with its own or a derived idempotency key."""

    line_no: int
    raw: str
    customer_ref: str
    type: str
    occurred_at: datetime
    channel_id: int | None
    properties: dict[str, Any]
    idempotency_key: str

    @property
    def rows(self) -> int:
        """Always one row."""
        return 1

    @property
    def first_line(self) -> int:
        """Its line number."""
        return self.line_no

    @property
    def last_line(self) -> int:
        """Its line number."""
        return self.line_no


def derived_key(
    customer_ref: str, type: str, occurred_at: datetime, channel: str, properties: dict[str, Any]
) -> str:
    """A key from the event's content: the same event read twice gets the same key."""
    content = json.dumps(
        [customer_ref, type, occurred_at.isoformat(), channel.lower(), properties],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return DERIVED_KEY_PREFIX + hashlib.sha256(content.encode()).hexdigest()


class EventsCsv:
    """Parses and loads the events layout; customers must exist already."""

    def __init__(self, context: ImportContext, header: Record) -> None:
        self._index, self.ignored_columns = header_index(KIND, header, REQUIRED, OPTIONAL)
        self._width = len(header.fields)
        self._context = context
        self._timestamps = Timestamps(context.zone)

    def parse(self, records: Iterator[Record | Reject]) -> Iterator[EventIn | Reject]:
        """One event per good row, rejects for the others."""
        return parse_rows(records, self._width, self._event)

    def load(self, session: Session, items: list[EventIn]) -> BatchOutcome:
        """Insert the events not recorded yet; events of unknown customers are rejected."""
        outcome = BatchOutcome()
        customer_ids = ids_by(session, CUSTOMER.c.external_id, {e.customer_ref for e in items})
        rows: list[dict[str, Any]] = []
        for event in items:
            customer_id = customer_ids.get(event.customer_ref)
            if customer_id is None:
                detail = f"customer {event.customer_ref!r} does not exist (import customers first)"
                outcome.rejects.append(
                    Reject(event.line_no, SkipReason.UNKNOWN_CUSTOMER, detail, event.raw)
                )
                continue
            outcome.customer_ids.add(customer_id)
            rows.append(
                {
                    "customer_id": customer_id,
                    "type": event.type,
                    "channel_id": event.channel_id,
                    "occurred_at": event.occurred_at,
                    "properties": event.properties,
                    "idempotency_key": event.idempotency_key,
                }
            )
        created = insert_new(session, EVENT, rows, ["idempotency_key"])
        outcome.loaded = len(created)
        outcome.already_loaded = len(rows) - len(created)
        outcome.created["events"] += len(created)
        return outcome

    def _get(self, record: Record, name: str) -> str:
        position = self._index.get(name)
        return "" if position is None else record.fields[position]

    def _event(self, record: Record) -> EventIn:
        customer_ref = required(self._get(record, "customer_id"), "customer_id", 100)
        event_type = required(self._get(record, "type"), "type", 40)
        occurred_at = self._timestamps.iso(self._get(record, "occurred_at"), "occurred_at")
        channel = optional(self._get(record, "channel"), "channel", 40)
        properties = json_object(self._get(record, "properties"), "properties")
        key = optional(self._get(record, "idempotency_key"), "idempotency_key", 200)
        return EventIn(
            line_no=record.line_no,
            raw=record.raw,
            customer_ref=customer_ref,
            type=event_type,
            occurred_at=occurred_at,
            channel_id=self._context.channel_id(channel, "channel") if channel else None,
            properties=properties,
            idempotency_key=key
            or derived_key(customer_ref, event_type, occurred_at, channel or "", properties),
        )
