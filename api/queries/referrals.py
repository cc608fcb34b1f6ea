"""Queries about referrals: a code, offers, and referral analytics."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import strawberry

from api.context import Info
from api.types.referral import Offer, Referral, ReferralStats
from domain.clock import as_utc, utcnow
from domain.referrals.queries import active_offers, referral_by_code
from domain.referrals.stats import referral_stats


@strawberry.enum(description="How referral figures are grouped.")
class ReferralGrouping(StrEnum):
    TOTAL = "total"
    REFERRER = "referrer"
    STAFF = "staff"


@strawberry.type
class ReferralQueries:
    @strawberry.field(description="The referral behind a code, if any.")
    async def referral(self, info: Info, code: str) -> Referral | None:
        row = await info.context.db.run(lambda s: referral_by_code(session=s, code=code))
        return Referral.from_row(row) if row else None

    @strawberry.field(
        description="Active offers, optionally of one kind (referral, reactivation, ...)."
    )
    async def offers(self, info: Info, kind: str | None = None) -> list[Offer]:
        rows = await info.context.db.run(lambda s: active_offers(session=s, kind=kind))
        return [Offer.from_row(row) for row in rows]

    @strawberry.field(description="Referral figures for [from, to): default the last 30 days.")
    async def referral_stats(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        group_by: ReferralGrouping = ReferralGrouping.TOTAL,
    ) -> list[ReferralStats]:
        end = as_utc(to) if to else utcnow()
        start = as_utc(from_) if from_ else end - timedelta(days=30)
        by = None if group_by is ReferralGrouping.TOTAL else group_by.value
        rows = await info.context.db.run(
            lambda s: referral_stats(session=s, start=start, end=end, by=by)  # type: ignore[arg-type]
        )
        return [ReferralStats.from_result(row) for row in rows]
