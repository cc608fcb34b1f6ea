"""triggerReferralOffer / redeemReferral: member-get-member referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from sqlmodel import Session

from api.auth import Principal
from api.context import Info
from api.errors import (
    ConsentMissing,
    Forbidden,
    NotFound,
    Problem,
    ReferralNotEligible,
    ValidationError,
)
from api.mutations.runner import Outcome, Refused, problem_record, run_mutation
from api.types.customer import Customer
from api.types.referral import Referral
from domain.clock import utcnow
from domain.customers.models import Customer as CustomerRow
from domain.outbox.models import OutboxMessage
from domain.referrals.models import Referral as ReferralRow
from domain.referrals.redemption import redeem_referral
from domain.referrals.results import NewReferee, ReferralRefused, RefusalCode
from domain.referrals.service import trigger_referral_offer

CONSENT_CODES = {RefusalCode.NO_CONSENT, RefusalCode.OPTED_OUT}


@strawberry.type(description="A referral offer on its way to the customer.")
class ReferralOfferSent:
    referral: Referral
    deliver_at: datetime
    created: bool = strawberry.field(description="false when a retry returned the first offer")


@strawberry.type(description="A referee linked to their referrer.")
class ReferralRedeemed:
    referral: Referral
    referee: Customer
    new_customer: bool


TriggerReferralResult = Annotated[
    ReferralOfferSent
    | ReferralNotEligible
    | ConsentMissing
    | NotFound
    | ValidationError
    | Forbidden,
    strawberry.union("TriggerReferralResult"),
]
RedeemReferralResult = Annotated[
    ReferralRedeemed | ReferralNotEligible | NotFound | ValidationError | Forbidden,
    strawberry.union("RedeemReferralResult"),
]


@strawberry.input(description="Who redeems a code: an existing customer, or a new person.")
class RefereeInput:
    customer_id: strawberry.ID | None = None
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None


def refusal_problem(refusal: ReferralRefused, channel: str | None, code: str = "") -> Problem:
    """The typed answer for a referral refusal."""
    if refusal.reason_code is RefusalCode.UNKNOWN_CODE:
        return NotFound(message=refusal.reason, entity="referral", key=code)
    if refusal.reason_code in CONSENT_CODES and channel is not None:
        return ConsentMissing(
            message=refusal.reason, channel=channel, code=str(refusal.reason_code)
        )
    return ReferralNotEligible(
        message=refusal.reason,
        reason=refusal.reason,
        code=str(refusal.reason_code),
        retry_at=refusal.retry_at,
    )


def _sent(session: Session, data: dict[str, Any]) -> ReferralOfferSent:
    referral = session.get(ReferralRow, data["referral_id"])
    message = session.get(OutboxMessage, data["outbox_id"])
    assert referral is not None and message is not None
    return ReferralOfferSent(
        referral=Referral.from_row(referral),
        deliver_at=message.sent_at or message.next_attempt_at,
        created=False,
    )


def _redeemed(session: Session, data: dict[str, Any]) -> ReferralRedeemed:
    referral = session.get(ReferralRow, data["referral_id"])
    referee = session.get(CustomerRow, data["referee_id"])
    assert referral is not None and referee is not None
    return ReferralRedeemed(
        referral=Referral.from_row(referral),
        referee=Customer.from_row(referee),
        new_customer=bool(data["new_customer"]),
    )


def _number(value: strawberry.ID, field: str) -> int:
    if not str(value).isdigit():
        raise Refused(ValidationError(message=f"{field} must be a number", field=field))
    return int(value)


@strawberry.type
class ReferralMutations:
    @strawberry.mutation(description="Send a customer a member-get-member offer, once per key.")
    async def trigger_referral_offer(
        self,
        info: Info,
        customer_id: strawberry.ID,
        offer_id: strawberry.ID,
        channel: str,
        idempotency_key: str,
    ) -> TriggerReferralResult:
        def perform(session: Session, principal: Principal) -> Outcome[Any]:
            if not idempotency_key.strip():
                raise Refused(
                    ValidationError(message="idempotencyKey is empty", field="idempotencyKey")
                )
            result = trigger_referral_offer(
                session=session,
                customer_id=_number(customer_id, "customerId"),
                offer_id=_number(offer_id, "offerId"),
                staff_id=principal.staff_id,
                channel_code=channel,
                idempotency_key=idempotency_key.strip(),
                at=utcnow(),
            )
            if isinstance(result, ReferralRefused):
                problem = refusal_problem(result, channel)
                return Outcome(problem, problem_record(problem), "customer", int(customer_id))
            sent = ReferralOfferSent(
                referral=Referral.from_row(result.referral),
                deliver_at=result.deliver_at,
                created=result.created,
            )
            record = {"referral_id": result.referral.id, "outbox_id": result.message.id}
            return Outcome(sent, record, "referral", result.referral.id)

        result = await run_mutation(
            info,
            action="triggerReferralOffer",
            perform=perform,
            rebuild=_sent,
            idempotency_key=idempotency_key,
        )
        return cast(TriggerReferralResult, result)

    @strawberry.mutation(description="Redeem a referral code for an existing or a new customer.")
    async def redeem_referral(
        self,
        info: Info,
        code: str,
        customer: RefereeInput,
        idempotency_key: str | None = None,
    ) -> RedeemReferralResult:
        def perform(session: Session, _: Principal) -> Outcome[Any]:
            referee: int | NewReferee
            if customer.customer_id is not None:
                referee = _number(customer.customer_id, "customer.customerId")
            elif customer.email or customer.phone or customer.external_id:
                referee = NewReferee(
                    external_id=customer.external_id,
                    name=customer.name,
                    email=customer.email,
                    phone=customer.phone,
                )
            else:
                raise Refused(
                    ValidationError(
                        message="give the referee's customerId, email, phone or externalId",
                        field="customer",
                    )
                )
            result = redeem_referral(session=session, code=code, referee=referee, at=utcnow())
            if isinstance(result, ReferralRefused):
                problem = refusal_problem(result, None, code)
                return Outcome(problem, problem_record(problem))
            redeemed = ReferralRedeemed(
                referral=Referral.from_row(result.referral),
                referee=Customer.from_row(result.referee),
                new_customer=result.new_customer,
            )
            record = {
                "referral_id": result.referral.id,
                "referee_id": result.referee.id,
                "new_customer": result.new_customer,
            }
            return Outcome(redeemed, record, "referral", result.referral.id)

        result = await run_mutation(
            info,
            action="redeemReferral",
            perform=perform,
            rebuild=_redeemed,
            idempotency_key=idempotency_key,
        )
        return cast(RedeemReferralResult, result)
