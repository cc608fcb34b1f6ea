"""setConsent: record a customer's consent or opt-out for a channel."""

from __future__ import annotations

from typing import Annotated, Any, cast

import strawberry
from sqlmodel import Session

from api.auth import Principal
from api.context import Info
from api.errors import Forbidden, NotFound, ValidationError
from api.mutations.runner import Outcome, Refused, run_mutation
from api.types.customer import Consent
from domain.clock import utcnow
from domain.contact.service import set_consent
from domain.customers.models import Consent as ConsentRow


@strawberry.type(description="The consent as now recorded.")
class ConsentSet:
    customer_id: strawberry.ID
    consent: Consent


SetConsentResult = Annotated[
    ConsentSet | NotFound | ValidationError | Forbidden, strawberry.union("SetConsentResult")
]


def _payload(row: ConsentRow) -> ConsentSet:
    return ConsentSet(
        customer_id=strawberry.ID(str(row.customer_id)), consent=Consent.from_row(row)
    )


def _rebuild(session: Session, data: dict[str, Any]) -> ConsentSet:
    row = session.get(ConsentRow, data["consent_id"])
    assert row is not None
    return _payload(row)


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(description="Record a customer's consent (or opt-out) for a channel.")
    async def set_consent(
        self,
        info: Info,
        customer_id: strawberry.ID,
        channel: str,
        granted: bool,
        source: str = "api",
        idempotency_key: str | None = None,
    ) -> SetConsentResult:
        def perform(session: Session, _: Principal) -> Outcome[ConsentSet]:
            if not str(customer_id).isdigit():
                raise Refused(
                    ValidationError(message="customerId must be a number", field="customerId")
                )
            row = set_consent(
                session=session,
                customer_id=int(customer_id),
                channel_code=channel,
                granted=granted,
                source=source[:100],
                at=utcnow(),
            )
            return Outcome(
                _payload(row),
                {"consent_id": row.id},
                target_type="customer",
                target_id=row.customer_id,
            )

        result = await run_mutation(
            info,
            action="setConsent",
            perform=perform,
            rebuild=_rebuild,
            idempotency_key=idempotency_key,
        )
        return cast(SetConsentResult, result)
