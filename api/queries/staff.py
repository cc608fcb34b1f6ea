"""Who the caller is: the staff member a token (or the bot) acts for."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.types.staff import Staff


@strawberry.type
class StaffQueries:
    @strawberry.field(description="The staff member the caller acts for; null for none.")
    async def me(self, info: Info) -> Staff | None:
        staff_id = info.context.principal.staff_id
        if staff_id is None:
            return None
        row = await info.context.loaders.staff.load(staff_id)
        return Staff.from_row(row) if row else None
