"""Importing Lifecycle's events layout: once per idempotency key, given or derived."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.events.models import Event
from domain.imports.events_csv import derived_key
from domain.imports.runner import ImportKind, run_import
from tests.domain.imports.factories import EVENT_HEADER, event_row, read_rejects, write_csv
from tests.domain.imports.helpers import customers, table_counts
from tests.factories import channel, make_customer


def stored_events(engine: Engine) -> list[Event]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.scalars(select(Event).order_by(Event.id)))  # type: ignore[arg-type]


def test_events_load_with_their_own_or_a_derived_key_and_engagement_is_refreshed(
    engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as session:
        make_customer(session, external_id="C1")
        email_id = channel(session, "email").id
        session.commit()
    path = write_csv(
        tmp_path / "events.csv",
        EVENT_HEADER,
        [
            event_row(idempotency_key="esp-123"),
            event_row(type="visit", channel="", occurred_at="2024-03-04T12:00:00Z", properties=""),
            event_row(type="visit", channel="", occurred_at="2024-03-04T12:00:00Z", properties=""),
        ],
    )

    summary = run_import(ImportKind.EVENTS, path, engine=engine)

    assert (summary.rows_loaded, dict(summary.skipped)) == (2, {"already loaded": 1})
    first, second = stored_events(engine)
    assert (first.type, first.channel_id, first.idempotency_key) == (
        "email_open",
        email_id,
        "esp-123",
    )
    assert first.occurred_at == datetime(2024, 3, 2, 8, tzinfo=UTC)
    assert first.properties == {"campaign": "spring"}
    assert second.idempotency_key == derived_key(
        "C1", "visit", datetime(2024, 3, 4, 12, tzinfo=UTC), "", {}
    )
    assert customers(engine)["C1"].last_engaged_at == datetime(2024, 3, 4, 12, tzinfo=UTC)


def test_bad_event_rows_are_rejected_and_a_reimport_adds_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as session:
        make_customer(session, external_id="C1")
        session.commit()
    path = write_csv(
        tmp_path / "events.csv",
        EVENT_HEADER,
        [
            event_row(),
            event_row("C404"),
            event_row(occurred_at="last tuesday"),
            event_row(properties="[1, 2]"),
            event_row(channel="carrier-pigeon"),
            event_row(type=""),
        ],
    )

    summary = run_import(ImportKind.EVENTS, path, engine=engine)
    before = table_counts(engine)
    again = run_import(ImportKind.EVENTS, path, engine=engine)

    assert summary.rows_loaded == 1
    assert [row[:3] for row in read_rejects(summary.rejects_file)] == [
        ["3", "unknown customer", "customer 'C404' does not exist (import customers first)"],
        ["4", "unparseable date", "occurred_at 'last tuesday' is not an ISO 8601 time"],
        ["5", "invalid value", "properties is not a JSON object"],
        ["6", "unknown channel", "channel 'carrier-pigeon' is not a channel code"],
        ["7", "missing required field", "type is empty"],
    ]
    assert table_counts(engine) == before
    assert (again.rows_loaded, again.skipped["already loaded"], again.rejected) == (0, 1, 5)
