"""Live updates over graphql-transport-ws: new suggestions for the calling staff member."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial

import strawberry
from sqlmodel import Session

from api.context import Info
from api.dataloaders import Loaders
from api.errors import ExpectedError
from api.types.suggestion import Suggestion
from domain.suggestions.models import Suggestion as SuggestionRow
from domain.suggestions.queries import suggestions_by_ids


def _suggestion(session: Session, *, suggestion_id: int) -> SuggestionRow | None:
    return suggestions_by_ids(session=session, ids=[suggestion_id]).get(suggestion_id)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Suggestions created for the caller, as they commit.")
    async def suggestion_created(self, info: Info) -> AsyncGenerator[Suggestion, None]:
        context = info.context
        staff_id = context.principal.staff_id
        if staff_id is None:
            raise ExpectedError("this token acts for no staff member", "FORBIDDEN")
        async with context.resources.broadcaster.subscribe() as notices:
            async for notice in notices:
                if notice.get("staff_id") != staff_id:
                    continue
                found = await context.db.run(
                    partial(_suggestion, suggestion_id=int(notice["suggestion_id"]))
                )
                if found is None:
                    continue
                # Fresh loaders per notice: a long-lived connection must not serve stale rows.
                context.loaders = Loaders(context.db, suggestions_for_staff=staff_id)
                yield Suggestion.from_row(found)
                # Close the transaction between notices instead of idling inside it.
                await context.db.finish(commit=False)
