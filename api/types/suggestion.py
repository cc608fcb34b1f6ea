"""Suggestions: who to contact, why, and with what offer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api.context import Info
from api.types.customer import Customer
from api.types.referral import Offer
from api.types.staff import Staff
from domain.suggestions.models import Suggestion as SuggestionRow
from domain.triggers.reasons import render


@strawberry.type(description="A reason to contact a customer, for the staff member who owns them.")
class Suggestion:
    id: strawberry.ID
    type: str
    priority: int
    status: str
    created_at: datetime
    expires_at: datetime | None
    resolved_at: datetime | None
    customer_id: strawberry.Private[int]
    staff_id: strawberry.Private[int | None]
    offer_id: strawberry.Private[int | None]
    channel_id: strawberry.Private[int | None]
    # The English written when it was raised, and what the trigger found (for other words).
    stored_reason: strawberry.Private[str]
    reason_key: strawberry.Private[str | None]
    reason_args: strawberry.Private[dict[str, Any] | None]

    @strawberry.field(
        description="Why, in `language` (en, es, ru, zh-Hans), days told from today; without "
        "`language`, the English written when it was raised."
    )
    def reason(self, language: str | None = None) -> str:
        if language is None:
            return self.stored_reason
        return render(self.reason_key, self.reason_args, self.stored_reason, language)

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        """The customer to contact."""
        row = await info.context.loaders.customer.load(self.customer_id)
        return Customer.from_row(row) if row else None

    @strawberry.field
    async def staff(self, info: Info) -> Staff | None:
        """The staff member the suggestion is for."""
        if self.staff_id is None:
            return None
        row = await info.context.loaders.staff.load(self.staff_id)
        return Staff.from_row(row) if row else None

    @strawberry.field
    async def offer(self, info: Info) -> Offer | None:
        """The offer to make, if any."""
        if self.offer_id is None:
            return None
        row = await info.context.loaders.offer.load(self.offer_id)
        return Offer.from_row(row) if row else None

    @strawberry.field
    async def channel(self, info: Info) -> str | None:
        """The channel to use, if the trigger chose one."""
        return await info.context.loaders.channel_code(self.channel_id)

    @classmethod
    def from_row(cls, row: SuggestionRow) -> Suggestion:
        """The API view of a suggestion row."""
        return cls(
            id=strawberry.ID(str(row.id)),
            type=row.type,
            stored_reason=row.reason,
            reason_key=row.reason_key,
            reason_args=row.reason_args,
            priority=row.priority,
            status=row.status,
            created_at=row.created_at,
            expires_at=row.expires_at,
            resolved_at=row.resolved_at,
            customer_id=row.customer_id,
            staff_id=row.staff_id,
            offer_id=row.offer_id,
            channel_id=row.channel_id,
        )
