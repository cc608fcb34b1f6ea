"""upsertCustomer: create or update a customer by external id, with their consents."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, cast

import strawberry
from sqlmodel import Session

from api.auth import Principal
from api.context import Info
from api.errors import Forbidden, ValidationError
from api.mutations.runner import Outcome, Refused, run_mutation
from api.types.customer import Customer
from domain.clock import utcnow
from domain.customers.models import Customer as CustomerRow
from domain.customers.service import KEEP, Keep, upsert_customer


@strawberry.input(description="A customer's consent (or opt-out) for one channel.")
class ConsentInput:
    channel: str
    granted: bool


@strawberry.input(
    description="A customer by external id; fields left out stay as stored, null clears them."
)
class CustomerInput:
    external_id: str
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    birthday: date | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA time zone, e.g. Europe/Berlin"
    )
    country: str | None = strawberry.UNSET
    acquisition_channel: str | None = strawberry.field(
        default=strawberry.UNSET, description="channel code"
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="an active staff member's id"
    )
    consents: list[ConsentInput] | None = None
    consent_source: str = "api"


@strawberry.type(description="The customer as now stored.")
class CustomerUpserted:
    customer: Customer
    created: bool = strawberry.field(
        description="true when this call created the customer; false on an update or a retry"
    )


UpsertCustomerResult = Annotated[
    CustomerUpserted | ValidationError | Forbidden, strawberry.union("UpsertCustomerResult")
]


def _given(value: Any) -> Any:
    """The domain's KEEP for a field the caller left out."""
    return KEEP if value is strawberry.UNSET else value


def _owner(value: strawberry.ID | None) -> int | Keep | None:
    if value is strawberry.UNSET:
        return KEEP
    if value is None:
        return None
    if not str(value).isdigit():
        raise Refused(ValidationError(message="ownerId must be a number", field="ownerId"))
    return int(value)


def _rebuild(session: Session, data: dict[str, Any]) -> CustomerUpserted:
    row = session.get(CustomerRow, data["customer_id"])
    assert row is not None
    return CustomerUpserted(customer=Customer.from_row(row), created=False)


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Create or update a customer by external id.")
    async def upsert_customer(
        self, info: Info, input: CustomerInput, idempotency_key: str | None = None
    ) -> UpsertCustomerResult:
        def perform(session: Session, _: Principal) -> Outcome[CustomerUpserted]:
            consents: dict[str, bool] = {}
            for consent in input.consents or []:
                if consents.setdefault(consent.channel, consent.granted) != consent.granted:
                    raise Refused(
                        ValidationError(
                            message=f"consents name channel {consent.channel!r} twice",
                            field="consents",
                        )
                    )
            result = upsert_customer(
                session=session,
                external_id=input.external_id,
                name=_given(input.name),
                email=_given(input.email),
                phone=_given(input.phone),
                birthday=_given(input.birthday),
                language=_given(input.language),
                timezone=_given(input.timezone),
                country=_given(input.country),
                acquisition_channel=_given(input.acquisition_channel),
                owner_id=_owner(input.owner_id),
                consents=consents,
                consent_source=input.consent_source,
                at=utcnow(),
            )
            customer = result.customer
            upserted = CustomerUpserted(
                customer=Customer.from_row(customer), created=result.created
            )
            return Outcome(upserted, {"customer_id": customer.id}, "customer", customer.id)

        result = await run_mutation(
            info,
            action="upsertCustomer",
            perform=perform,
            rebuild=_rebuild,
            idempotency_key=idempotency_key,
        )
        return cast(UpsertCustomerResult, result)
