"""addStaff / createApiToken: admin-only management of people and API access; linkTelegram:
the bot attaching a staff member's Telegram account with their one-time code."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from sqlmodel import Session

from api.auth import Principal, Role
from api.context import Info
from api.errors import Conflict, Forbidden, NotFound, ValidationError
from api.mutations.runner import Outcome, Refused, run_mutation
from api.types.scalars import Long
from api.types.staff import ApiToken, Staff
from domain.clock import as_utc
from domain.staff.errors import DuplicateStaff, InvalidLinkCode
from domain.staff.models import ApiToken as ApiTokenRow
from domain.staff.models import Staff as StaffRow
from domain.staff.models import StaffRole, TokenRole
from domain.staff.service import add_staff, create_token, link_telegram

strawberry.enum(StaffRole, name="StaffRole")
strawberry.enum(TokenRole, name="TokenRole")


@strawberry.input
class AddStaffInput:
    name: str
    role: StaffRole = StaffRole.SALES
    email: str | None = None
    telegram_user_id: Long | None = None
    language: str = "en"
    timezone: str = "UTC"


@strawberry.type(description="A new staff member and the one-time code they send the bot.")
class StaffAdded:
    staff: Staff
    link_code: str | None = strawberry.field(
        description="shown once; null when a retry returns the first result"
    )


@strawberry.type(description="A new API token; its value is shown only once.")
class ApiTokenCreated:
    token: ApiToken
    value: str | None = strawberry.field(
        description="the bearer token, shown once; null when a retry returns the first result"
    )


@strawberry.type(description="The staff member now linked to the Telegram account.")
class TelegramLinked:
    staff: Staff


AddStaffResult = Annotated[
    StaffAdded | ValidationError | Forbidden, strawberry.union("AddStaffResult")
]
CreateApiTokenResult = Annotated[
    ApiTokenCreated | ValidationError | NotFound | Forbidden,
    strawberry.union("CreateApiTokenResult"),
]

LinkTelegramResult = Annotated[
    TelegramLinked | ValidationError | Conflict | Forbidden,
    strawberry.union("LinkTelegramResult"),
]


def _staff_again(session: Session, data: dict[str, Any]) -> StaffAdded:
    row = session.get(StaffRow, data["staff_id"])
    assert row is not None
    return StaffAdded(staff=Staff.from_row(row), link_code=None)


def _token_again(session: Session, data: dict[str, Any]) -> ApiTokenCreated:
    row = session.get(ApiTokenRow, data["token_id"])
    assert row is not None
    return ApiTokenCreated(token=ApiToken.from_row(row), value=None)


def _linked_again(session: Session, data: dict[str, Any]) -> TelegramLinked:
    row = session.get(StaffRow, data["staff_id"])
    assert row is not None
    return TelegramLinked(staff=Staff.from_row(row))


@strawberry.type
class StaffMutations:
    @strawberry.mutation(description="Add a staff member (admin only).")
    async def add_staff(
        self, info: Info, input: AddStaffInput, idempotency_key: str | None = None
    ) -> AddStaffResult:
        def perform(session: Session, _: Principal) -> Outcome[StaffAdded]:
            if not input.name.strip():
                raise Refused(ValidationError(message="name must not be empty", field="name"))
            new = add_staff(
                session=session,
                name=input.name,
                role=StaffRole(input.role),
                email=input.email,
                telegram_user_id=input.telegram_user_id,
                language=input.language,
                timezone=input.timezone,
            )
            added = StaffAdded(staff=Staff.from_row(new.staff), link_code=new.link_code)
            return Outcome(added, {"staff_id": new.staff.id}, "staff", new.staff.id)

        result = await run_mutation(
            info,
            action="addStaff",
            perform=perform,
            rebuild=_staff_again,
            idempotency_key=idempotency_key,
            role=Role.ADMIN,
        )
        return cast(AddStaffResult, result)

    @strawberry.mutation(description="Create an API token (admin only); its value is shown once.")
    async def create_api_token(
        self,
        info: Info,
        name: str,
        role: TokenRole,
        staff_id: strawberry.ID | None = None,
        expires_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> CreateApiTokenResult:
        def perform(session: Session, _: Principal) -> Outcome[ApiTokenCreated]:
            if staff_id is not None and not str(staff_id).isdigit():
                raise Refused(ValidationError(message="staffId must be a number", field="staffId"))
            new = create_token(
                session=session,
                name=name.strip() or f"{role} token",
                role=TokenRole(role),
                staff_id=int(staff_id) if staff_id is not None else None,
                expires_at=as_utc(expires_at) if expires_at else None,
            )
            created = ApiTokenCreated(token=ApiToken.from_row(new.token), value=new.value)
            return Outcome(created, {"token_id": new.token.id}, "api_token", new.token.id)

        result = await run_mutation(
            info,
            action="createApiToken",
            perform=perform,
            rebuild=_token_again,
            idempotency_key=idempotency_key,
            role=Role.ADMIN,
        )
        return cast(CreateApiTokenResult, result)

    @strawberry.mutation(
        description="Link a Telegram account with a staff member's one-time code (`/start CODE`). "
        "For bot tokens (no act-as header needed: the person is not linked yet) and admins."
    )
    async def link_telegram(
        self,
        info: Info,
        code: str,
        telegram_user_id: Long,
        idempotency_key: str | None = None,
    ) -> LinkTelegramResult:
        def perform(session: Session, principal: Principal) -> Outcome[TelegramLinked]:
            if principal.token_role is not TokenRole.BOT and not principal.at_least(Role.ADMIN):
                raise Refused(
                    Forbidden(
                        message="linking Telegram needs a bot or an admin token",
                        required_role=str(Role.ADMIN),
                    )
                )
            try:
                staff = link_telegram(
                    session=session, code=code.strip(), telegram_user_id=int(telegram_user_id)
                )
            except InvalidLinkCode as exc:
                raise Refused(ValidationError(message=str(exc), field="code")) from exc
            except DuplicateStaff as exc:
                raise Refused(Conflict(message=str(exc))) from exc
            linked = TelegramLinked(staff=Staff.from_row(staff))
            return Outcome(linked, {"staff_id": staff.id}, "staff", staff.id)

        # A bot token without an act-as header is a READ caller; perform checks the token.
        result = await run_mutation(
            info,
            action="linkTelegram",
            perform=perform,
            rebuild=_linked_again,
            idempotency_key=idempotency_key,
            role=Role.READ,
        )
        return cast(LinkTelegramResult, result)
