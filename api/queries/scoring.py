"""Queries about scoring runs: one by id, and the latest."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import ExpectedError
from api.pagination import page_size
from api.types.scoring import ScoringRun
from domain.scoring.models import ScoringRun as ScoringRunRow
from domain.scoring.queries import get_run, list_runs


@strawberry.type
class ScoringQueries:
    @strawberry.field(description="One scoring run, or null when there is none with that id.")
    async def scoring_run(self, info: Info, id: strawberry.ID) -> ScoringRun | None:
        if not str(id).isdigit():
            raise ExpectedError("id must be a number", "BAD_ID")
        run_id = int(id)
        row: ScoringRunRow | None = await info.context.db.run(
            lambda s: get_run(session=s, run_id=run_id)
        )
        return ScoringRun.from_row(row) if row else None

    @strawberry.field(description="The latest scoring runs, newest first.")
    async def scoring_runs(self, info: Info, first: int | None = None) -> list[ScoringRun]:
        size = page_size(info.context.settings, first)
        overviews = await info.context.db.run(lambda s: list_runs(session=s, limit=size))
        return [ScoringRun.from_row(overview.run) for overview in overviews]
