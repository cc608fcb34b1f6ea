"""enqueueScoringRun: an admin starts a scoring run; its jobs start once the run is committed.

The run and its shards are created in the request's transaction. After the commit a
background thread launches it: with REDIS_URL set that enqueues the run's RQ jobs and
returns; without Redis (the embedded default) the thread runs every phase itself, so the
request does not wait for the scoring. A run interrupted by the API process stopping stays
`running` and can be resumed. Either way a launch that fails is recorded on the run, which
callers follow through `scoringRun(id)`.
"""

from __future__ import annotations

import logging
import threading
from datetime import date
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.auth import Principal, Role
from api.context import Info
from api.errors import Conflict, Forbidden, ValidationError
from api.mutations.runner import Outcome, Refused, run_mutation
from api.types.scoring import ScoringRun
from domain.clock import utcnow
from domain.db import unit_of_work
from domain.scoring.models import RunStatus
from domain.scoring.models import ScoringRun as ScoringRunRow
from domain.scoring.service import create_run, record_failure, require_run

logger = logging.getLogger(__name__)
THREAD_PREFIX = "scoring-run-"


@strawberry.type(description="A scoring run created and handed to the workers.")
class ScoringRunQueued:
    run: ScoringRun


EnqueueScoringRunResult = Annotated[
    ScoringRunQueued | ValidationError | Conflict | Forbidden,
    strawberry.union("EnqueueScoringRunResult"),
]


def launch_in_background(run_id: int, engine: Engine) -> threading.Thread:
    """Launch a committed run from a daemon thread; a failure is recorded on the run."""
    thread = threading.Thread(
        target=_launch, args=(run_id, engine), name=f"{THREAD_PREFIX}{run_id}", daemon=True
    )
    thread.start()
    return thread


def _launch(run_id: int, engine: Engine) -> None:
    # Imported here: the scoring pipeline pulls in numpy, scipy and scikit-learn, which an API
    # process needs only once it launches a run.
    from worker import runs

    try:
        runs.launch(runs.full_plan(run_id, engine=engine), engine=engine)
    except Exception as exc:
        logger.exception("scoring run %s could not be launched or failed", run_id)
        with unit_of_work(engine) as session:
            # A failed phase has already recorded itself; only a failed launch is left to say.
            if require_run(session=session, run_id=run_id, lock=True).status != RunStatus.FAILED:
                record_failure(
                    session=session, run_id=run_id, error=runs.describe(exc), phase="launch"
                )


def _busy(session: Session, as_of: date) -> ScoringRunRow | None:
    """A run for the same date that is still queued or running, if any."""
    return session.exec(
        select(ScoringRunRow)
        .where(
            col(ScoringRunRow.as_of) == as_of,
            col(ScoringRunRow.status).in_([RunStatus.QUEUED, RunStatus.RUNNING]),
        )
        .order_by(col(ScoringRunRow.id))
    ).first()


def _rebuild(session: Session, data: dict[str, Any]) -> ScoringRunQueued:
    row = session.get(ScoringRunRow, data["run_id"])
    assert row is not None
    return ScoringRunQueued(run=ScoringRun.from_row(row))


@strawberry.type
class ScoringMutations:
    @strawberry.mutation(
        description="Score every customer as of a date (default today, UTC); admin only. "
        "Follow the run with scoringRun(id)."
    )
    async def enqueue_scoring_run(
        self, info: Info, as_of: date | None = None, idempotency_key: str | None = None
    ) -> EnqueueScoringRunResult:
        fresh: list[tuple[ScoringRunQueued, int]] = []

        def perform(session: Session, _: Principal) -> Outcome[ScoringRunQueued]:
            from worker.pipeline.phases import MODEL_VERSION
            from worker.runs import DEFAULT_SHARD_SIZE

            today = utcnow().date()
            day = as_of or today
            if day > today:
                raise Refused(ValidationError(message=f"asOf {day} is in the future", field="asOf"))
            busy = _busy(session, day)
            if busy is not None:
                raise Refused(
                    Conflict(message=f"scoring run {busy.id} for {day} is already {busy.status}")
                )
            run = create_run(
                session=session,
                as_of=day,
                model_version=MODEL_VERSION,
                shard_size=DEFAULT_SHARD_SIZE,
                params={"seed": 0},
            )
            assert run.id is not None
            queued = ScoringRunQueued(run=ScoringRun.from_row(run))
            fresh.append((queued, run.id))
            return Outcome(queued, {"run_id": run.id}, "scoring_run", run.id)

        result = await run_mutation(
            info,
            action="enqueueScoringRun",
            perform=perform,
            rebuild=_rebuild,
            idempotency_key=idempotency_key,
            role=Role.ADMIN,
        )
        if fresh and result is fresh[0][0]:
            run_id, engine = fresh[0][1], info.context.resources.engine

            async def launch() -> None:
                launch_in_background(run_id, engine)

            info.context.after_commit.append(launch)
        return cast(EnqueueScoringRunResult, result)
