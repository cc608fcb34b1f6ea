"""The admin's view of the machinery: job queues and the outbox backlog."""

from __future__ import annotations

import strawberry
from starlette.concurrency import run_in_threadpool

from api.auth import Role
from api.context import Info
from api.errors import ExpectedError
from domain.outbox.queries import status_counts
from worker.queue import queue_depths


@strawberry.type(description="Jobs of one RQ queue by state.")
class QueueDepth:
    name: str
    queued: int
    started: int
    failed: int
    scheduled: int


@strawberry.type(description="Outbox messages by delivery state.")
class OutboxCounts:
    pending: int
    sending: int
    sent: int
    dead: int
    cancelled: int


@strawberry.type(description="Queue depths (empty when jobs run in-process) and the outbox.")
class SystemStatus:
    queues: list[QueueDepth]
    outbox: OutboxCounts


@strawberry.type
class StatusQueries:
    @strawberry.field(description="Job queues and the outbox backlog (admin only).")
    async def system_status(self, info: Info) -> SystemStatus:
        if not info.context.principal.at_least(Role.ADMIN):
            raise ExpectedError("the system status needs the admin role", "FORBIDDEN")
        counts = await info.context.db.run(lambda s: status_counts(session=s))
        depths = await run_in_threadpool(queue_depths)
        return SystemStatus(
            queues=[
                QueueDepth(
                    name=d.name,
                    queued=d.queued,
                    started=d.started,
                    failed=d.failed,
                    scheduled=d.scheduled,
                )
                for d in depths
            ],
            outbox=OutboxCounts(**{str(status): n for status, n in counts.items()}),
        )
