"""Dashboard queries: what is stored, acquisition channels, the audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.auth import Role
from api.context import Info
from api.errors import ExpectedError
from api.pagination import page_size
from api.types.reports import ChannelFiguresRow, Stats
from domain.audit.models import AuditEntry as AuditRow
from domain.audit.service import entries
from domain.channels.queries import channel_report
from domain.stats import store_stats


@strawberry.type(description="One mutation carried out (or refused) through the API.")
class AuditEntry:
    id: strawberry.ID
    at: datetime
    token_id: strawberry.ID | None
    staff_id: strawberry.ID | None
    role: str
    action: str
    idempotency_key: str | None
    target_type: str | None
    target_id: strawberry.ID | None
    outcome: str

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        """The API view of an audit entry."""

        def as_id(value: int | None) -> strawberry.ID | None:
            return strawberry.ID(str(value)) if value is not None else None

        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            token_id=as_id(row.token_id),
            staff_id=as_id(row.staff_id),
            role=row.role,
            action=row.action,
            idempotency_key=row.idempotency_key,
            target_type=row.target_type,
            target_id=as_id(row.target_id),
            outcome=row.outcome,
        )


@strawberry.type
class ReportQueries:
    @strawberry.field(description="Counts of what is stored, net revenue and customers per stage.")
    async def stats(self, info: Info) -> Stats:
        settings = info.context.resources.domain_settings
        result = await info.context.db.run(
            lambda s: store_stats(
                session=s, currency=settings.currency, exponent=settings.currency_exponent
            )
        )
        return Stats.from_result(result)

    @strawberry.field(description="How customers from each acquisition channel turned out.")
    async def channel_report(self, info: Info) -> list[ChannelFiguresRow]:
        rows = await info.context.db.run(lambda s: channel_report(session=s))
        loaders = info.context.loaders
        return [
            ChannelFiguresRow.from_result(row, await loaders.channel_code(row.channel_id))
            for row in rows
        ]

    @strawberry.field(description="The latest audit entries, newest first (admin only).")
    async def audit_log(self, info: Info, first: int | None = None) -> list[AuditEntry]:
        if not info.context.principal.at_least(Role.ADMIN):
            raise ExpectedError("the audit log needs the admin role", "FORBIDDEN")
        size = page_size(info.context.settings, first)
        rows = await info.context.db.run(lambda s: entries(session=s, limit=size))
        return [AuditEntry.from_row(row) for row in rows]
