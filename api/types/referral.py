"""Offers, member-get-member referrals and their figures."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from api.types.scalars import Long
from domain.referrals.models import Offer as OfferRow
from domain.referrals.models import Referral as ReferralRow
from domain.referrals.results import ReferralStats as ReferralStatsRow

if TYPE_CHECKING:
    from api.types.customer import Customer


@strawberry.type(description="The terms of an offer a sales person can send.")
class Offer:
    id: strawberry.ID
    code: str
    name: str
    kind: str
    description: str
    referrer_reward_minor: Long
    referee_benefit: str
    valid_days: int
    max_uses: int
    active: bool

    @classmethod
    def from_row(cls, row: OfferRow) -> Offer:
        """The API view of an offer."""
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            name=row.name,
            kind=row.kind,
            description=row.description,
            referrer_reward_minor=Long(row.referrer_reward_minor),
            referee_benefit=row.referee_benefit,
            valid_days=row.valid_days,
            max_uses=row.max_uses,
            active=row.active,
        )


@strawberry.type(description="A referral offer sent to a referrer, with its code and link.")
class Referral:
    id: strawberry.ID
    code: str
    status: str
    share_url: str
    uses: int
    created_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    converted_at: datetime | None
    referrer_id: strawberry.Private[int]
    referee_id: strawberry.Private[int | None]
    offer_id: strawberry.Private[int]

    @strawberry.field
    async def referrer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("api.types.customer")] | None:
        """The customer who shares the code."""
        from api.types.customer import Customer

        row = await info.context.loaders.customer.load(self.referrer_id)
        return Customer.from_row(row) if row else None

    @strawberry.field
    async def referee(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("api.types.customer")] | None:
        """The first customer who redeemed the code, if any."""
        from api.types.customer import Customer

        if self.referee_id is None:
            return None
        row = await info.context.loaders.customer.load(self.referee_id)
        return Customer.from_row(row) if row else None

    @strawberry.field
    async def offer(self, info: Info) -> Offer | None:
        """The offer's terms."""
        row = await info.context.loaders.offer.load(self.offer_id)
        return Offer.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: ReferralRow) -> Referral:
        """The API view of a referral."""
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            status=row.status,
            share_url=row.share_url,
            uses=row.uses,
            created_at=row.created_at,
            expires_at=row.expires_at,
            redeemed_at=row.redeemed_at,
            converted_at=row.converted_at,
            referrer_id=row.referrer_id,
            referee_id=row.referee_id,
            offer_id=row.offer_id,
        )


@strawberry.type(description="Referral figures of one group (a referrer, a staff member or all).")
class ReferralStats:
    key: strawberry.ID | None
    sent: int
    redeemed: int
    converted: int
    reward_cost_minor: Long
    referee_revenue_minor: Long

    @classmethod
    def from_result(cls, row: ReferralStatsRow) -> ReferralStats:
        """The API view of a stats group."""
        return cls(
            key=strawberry.ID(str(row.key)) if row.key is not None else None,
            sent=row.sent,
            redeemed=row.redeemed,
            converted=row.converted,
            reward_cost_minor=Long(row.reward_cost_minor),
            referee_revenue_minor=Long(row.referee_revenue_minor),
        )
