"""Queries about suggestions: the calling staff member's open ones."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import ExpectedError
from api.pagination import page_size
from api.types.suggestion import Suggestion
from domain.suggestions.service import list_open


@strawberry.type
class SuggestionQueries:
    @strawberry.field(description="The caller's open suggestions, highest priority first.")
    async def my_suggestions(
        self, info: Info, first: int | None = None, offset: int = 0
    ) -> list[Suggestion]:
        staff_id = info.context.principal.staff_id
        if staff_id is None:
            raise ExpectedError("this token acts for no staff member", "FORBIDDEN")
        size = page_size(info.context.settings, first)
        rows = await info.context.db.run(
            lambda s: list_open(session=s, staff_id=staff_id, limit=size, offset=max(0, offset))
        )
        return [Suggestion.from_row(row) for row in rows]
