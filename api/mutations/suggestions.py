"""acceptSuggestion / dismissSuggestion: what a sales person does with a suggestion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, cast

import strawberry
from sqlmodel import Session

from api.auth import Principal
from api.context import Info
from api.errors import Conflict, Forbidden, NotFound, ValidationError
from api.mutations.runner import Outcome, Refused, run_mutation
from api.types.suggestion import Suggestion
from domain.clock import utcnow
from domain.suggestions import service
from domain.suggestions.models import Suggestion as SuggestionRow


@strawberry.type(description="The suggestion after it was accepted or dismissed.")
class SuggestionResolved:
    suggestion: Suggestion


SuggestionResult = Annotated[
    SuggestionResolved | NotFound | Forbidden | Conflict | ValidationError,
    strawberry.union("SuggestionResult"),
]


def _rebuild(session: Session, data: dict[str, Any]) -> SuggestionResolved:
    row = session.get(SuggestionRow, data["suggestion_id"])
    assert row is not None
    return SuggestionResolved(suggestion=Suggestion.from_row(row))


async def _resolve(
    info: Info,
    action: str,
    resolve: Callable[..., SuggestionRow],
    suggestion_id: strawberry.ID,
    note: str | None,
    idempotency_key: str | None,
) -> SuggestionResult:
    def perform(session: Session, principal: Principal) -> Outcome[SuggestionResolved]:
        if not str(suggestion_id).isdigit():
            raise Refused(ValidationError(message="id must be a number", field="id"))
        assert principal.staff_id is not None
        row = resolve(
            session=session,
            suggestion_id=int(suggestion_id),
            staff_id=principal.staff_id,
            at=utcnow(),
            note=note,
        )
        return Outcome(
            SuggestionResolved(suggestion=Suggestion.from_row(row)),
            {"suggestion_id": row.id},
            target_type="suggestion",
            target_id=row.id,
        )

    result = await run_mutation(
        info,
        action=action,
        perform=perform,
        rebuild=_rebuild,
        idempotency_key=idempotency_key,
        staff_needed=True,
    )
    return cast(SuggestionResult, result)


@strawberry.type
class SuggestionMutations:
    @strawberry.mutation(description="Take a suggestion up (your own customer's, or as admin).")
    async def accept_suggestion(
        self,
        info: Info,
        id: strawberry.ID,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> SuggestionResult:
        return await _resolve(info, "acceptSuggestion", service.accept, id, note, idempotency_key)

    @strawberry.mutation(description="Pass on a suggestion, with an optional reason.")
    async def dismiss_suggestion(
        self,
        info: Info,
        id: strawberry.ID,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> SuggestionResult:
        return await _resolve(info, "dismissSuggestion", service.dismiss, id, note, idempotency_key)
