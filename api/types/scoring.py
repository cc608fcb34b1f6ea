"""Scoring runs as the API shows them: status and progress of a run over every customer."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from domain.scoring.models import ScoringRun as ScoringRunRow


@strawberry.type(description="One scoring run: queued, running, succeeded or failed.")
class ScoringRun:
    id: strawberry.ID
    status: str = strawberry.field(description="queued | running | succeeded | failed")
    as_of: date
    model_version: str
    shard_count: int
    shards_done: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None

    @classmethod
    def from_row(cls, row: ScoringRunRow) -> ScoringRun:
        """The API view of a run."""
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            as_of=row.as_of,
            model_version=row.model_version,
            shard_count=row.shard_count,
            shards_done=row.shards_done,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error=row.error,
        )
