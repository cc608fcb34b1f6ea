"""Staff members and API tokens as the API shows them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.types.scalars import Long, long_or_none
from domain.staff.models import ApiToken as ApiTokenRow
from domain.staff.models import Staff as StaffRow


@strawberry.type(description="A person on the sales team.")
class Staff:
    id: strawberry.ID
    name: str
    email: str | None
    role: str
    telegram_user_id: Long | None
    language: str
    timezone: str
    active: bool

    @classmethod
    def from_row(cls, row: StaffRow) -> Staff:
        """The API view of a staff row."""
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            email=row.email,
            role=row.role,
            telegram_user_id=long_or_none(row.telegram_user_id),
            language=row.language,
            timezone=row.timezone,
            active=row.active,
        )


@strawberry.type(description="An API token; its value is shown only once, when created.")
class ApiToken:
    id: strawberry.ID
    name: str
    prefix: str
    role: str
    staff_id: strawberry.ID | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiTokenRow) -> ApiToken:
        """The API view of a token row (never its hash)."""
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            prefix=row.prefix,
            role=row.role,
            staff_id=strawberry.ID(str(row.staff_id)) if row.staff_id is not None else None,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )
