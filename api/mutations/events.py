"""recordEvents: a batch of behaviour events; bad ones are reported, the good stored together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from sqlmodel import Session, col, select
from strawberry.scalars import JSON

from api.auth import Principal
from api.context import Info
from api.errors import Forbidden, ValidationError
from api.inputs import flat_input
from api.mutations.notify import publish_after_commit, suggestion_notices
from api.mutations.runner import Outcome, camel, run_mutation
from api.types.customer import StageChange
from domain.clock import utcnow
from domain.events.service import NewEvent, record_events
from domain.stages.models import StageChange as StageChangeRow
from domain.stages.models import WrittenChange
from domain.suggestions.queries import suggestions_by_ids

if TYPE_CHECKING:
    from api.types.suggestion import Suggestion


@flat_input
@strawberry.input(description="One event; the customer by id or external id.")
class EventInput:
    idempotency_key: str = strawberry.field(description="stored once per key, ever")
    type: str = strawberry.field(description="e.g. email_open, visit, category_view, cart_add")
    occurred_at: datetime
    customer_id: strawberry.ID | None = None
    customer_external_id: str | None = None
    channel: str | None = strawberry.field(default=None, description="channel code")
    properties: JSON | None = strawberry.field(
        default=None, description="a JSON object, e.g. {category, sku, quantity}"
    )


@strawberry.type(description="An event of the batch that was not stored, and why.")
class RejectedEvent:
    index: int = strawberry.field(description="its position in the batch, from 0")
    field: str
    message: str


@strawberry.type(description="What a batch stored, skipped as already stored, and refused.")
class EventsRecorded:
    inserted: int
    duplicates: int = strawberry.field(description="events whose key was already stored or sent")
    rejected: list[RejectedEvent]
    stage_changes: list[StageChange]
    suggestion_ids: strawberry.Private[list[int]]

    @strawberry.field(description="Suggestions the events created (e.g. abandoned carts).")
    async def new_suggestions(
        self, info: Info
    ) -> list[Annotated[Suggestion, strawberry.lazy("api.types.suggestion")]]:
        from api.types.suggestion import Suggestion

        ids = self.suggestion_ids
        rows = await info.context.db.run(lambda s: suggestions_by_ids(session=s, ids=ids))
        return [Suggestion.from_row(rows[i]) for i in ids if i in rows]


RecordEventsResult = Annotated[
    EventsRecorded | ValidationError | Forbidden, strawberry.union("RecordEventsResult")
]


def _domain_events(
    events: list[EventInput],
) -> tuple[list[NewEvent], list[int], list[RejectedEvent]]:
    """The events the domain can take, the batch index of each, and those refused here."""
    taken: list[NewEvent] = []
    positions: list[int] = []
    refused: list[RejectedEvent] = []
    for index, event in enumerate(events):
        customer_id = event.customer_id
        if customer_id is not None and not str(customer_id).isdigit():
            refused.append(
                RejectedEvent(
                    index=index, field="customerId", message="customerId must be a number"
                )
            )
            continue
        taken.append(
            NewEvent(
                idempotency_key=event.idempotency_key,
                type=event.type,
                occurred_at=event.occurred_at,
                customer_id=int(customer_id) if customer_id is not None else None,
                customer_external_id=event.customer_external_id,
                channel=event.channel,
                # Any JSON value: the domain refuses what is not an object.
                properties=cast(
                    Mapping[str, Any], {} if event.properties is None else event.properties
                ),
            )
        )
        positions.append(index)
    return taken, positions, refused


def _payload(
    data: dict[str, Any], changes: Sequence[StageChangeRow | WrittenChange]
) -> EventsRecorded:
    return EventsRecorded(
        inserted=data["inserted"],
        duplicates=data["duplicates"],
        rejected=[RejectedEvent(**item) for item in data["rejected"]],
        stage_changes=[StageChange.from_row(row) for row in changes],
        suggestion_ids=data["suggestion_ids"],
    )


def _stored_payload(session: Session, data: dict[str, Any]) -> EventsRecorded:
    """The answer to a retried request, from what the first one recorded."""
    ids: list[int] = data["stage_change_ids"]
    rows = session.exec(select(StageChangeRow).where(col(StageChangeRow.id).in_(ids))).all()
    changes = {row.id: row for row in rows}
    return _payload(data, [changes[i] for i in ids if i in changes])


@strawberry.type
class EventMutations:
    @strawberry.mutation(
        description="Record a batch of events: bad ones are reported and skipped, duplicates "
        "counted, the rest stored together."
    )
    async def record_events(
        self, info: Info, events: list[EventInput], idempotency_key: str | None = None
    ) -> RecordEventsResult:
        notices: list[dict[str, int]] = []
        fresh: list[EventsRecorded] = []

        def perform(session: Session, _: Principal) -> Outcome[EventsRecorded]:
            taken, positions, refused = _domain_events(events)
            result = record_events(session=session, events=taken, at=utcnow())
            rejected = refused + [
                RejectedEvent(
                    index=positions[item.index], field=camel(item.field), message=item.message
                )
                for item in result.rejected
            ]
            record = {
                "inserted": result.inserted,
                "duplicates": result.duplicates,
                "rejected": [
                    {"index": r.index, "field": r.field, "message": r.message}
                    for r in sorted(rejected, key=lambda r: r.index)
                ],
                "stage_change_ids": [c.id for c in result.stage_changes if c.id is not None],
                "suggestion_ids": result.new_suggestion_ids,
            }
            payload = _payload(record, result.stage_changes)
            notices.extend(suggestion_notices(session, result.new_suggestion_ids))
            fresh.append(payload)
            return Outcome(payload, record)

        result = await run_mutation(
            info,
            action="recordEvents",
            perform=perform,
            rebuild=_stored_payload,
            idempotency_key=idempotency_key,
        )
        if fresh and result is fresh[0]:
            publish_after_commit(info, notices)
        return cast(RecordEventsResult, result)
