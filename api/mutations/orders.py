"""recordOrder: store an order (or return) once per external id, with its follow-ups."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from sqlmodel import Session

from api.auth import Principal
from api.context import Info
from api.errors import Forbidden, NotFound, ValidationError
from api.mutations.notify import publish_after_commit, suggestion_notices
from api.mutations.runner import Outcome, Refused, run_mutation
from api.types.customer import Customer, Order, StageChange
from api.types.referral import Referral
from domain.clock import utcnow
from domain.customers.models import Customer as CustomerRow
from domain.orders.models import Order as OrderRow
from domain.orders.models import OrderKind, OrderStatus
from domain.orders.service import NewOrderLine, record_order
from domain.referrals.models import Referral as ReferralRow
from domain.stages.models import StageChange as StageChangeRow
from domain.suggestions.queries import suggestions_by_ids

if TYPE_CHECKING:
    from api.types.suggestion import Suggestion

strawberry.enum(OrderKind, name="OrderKind")
strawberry.enum(OrderStatus, name="OrderStatus")


@strawberry.input(description="A product line: a positive quantity and the price of one item.")
class OrderLineInput:
    sku: str
    quantity: int
    unit_price: Decimal = strawberry.field(description='exact, e.g. "19.99" (up to 4 decimals)')
    description: str | None = None
    category: str | None = None


@strawberry.input(description="An order of a customer given by id or external id.")
class OrderInput:
    external_id: str
    ordered_at: datetime
    lines: list[OrderLineInput]
    customer_id: strawberry.ID | None = None
    customer_external_id: str | None = None
    kind: OrderKind = strawberry.field(
        default=OrderKind.SALE, description="a return takes positive quantities, stored negative"
    )
    status: OrderStatus = OrderStatus.COMPLETED
    channel: str | None = strawberry.field(default=None, description="channel code")
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; the installation's currency when left out"
    )
    country: str | None = None


@strawberry.type(description="The order as stored, and what recording it set in motion.")
class OrderRecorded:
    order: Order
    customer: Customer
    created: bool = strawberry.field(
        description="false when the order was already stored, or on a retry"
    )
    stage_changes: list[StageChange]
    converted_referral: Referral | None = strawberry.field(
        description="the referral this first paid order converted, if any"
    )
    suggestion_ids: strawberry.Private[list[int]]

    @strawberry.field(description="Suggestions the order created (e.g. onboarding).")
    async def new_suggestions(
        self, info: Info
    ) -> list[Annotated[Suggestion, strawberry.lazy("api.types.suggestion")]]:
        from api.types.suggestion import Suggestion

        ids = self.suggestion_ids
        rows = await info.context.db.run(lambda s: suggestions_by_ids(session=s, ids=ids))
        return [Suggestion.from_row(rows[i]) for i in ids if i in rows]


RecordOrderResult = Annotated[
    OrderRecorded | ValidationError | NotFound | Forbidden, strawberry.union("RecordOrderResult")
]


def _customer_id(value: strawberry.ID | None) -> int | None:
    if value is None:
        return None
    if not str(value).isdigit():
        raise Refused(ValidationError(message="customerId must be a number", field="customerId"))
    return int(value)


def _payload(
    session: Session,
    order: OrderRow,
    created: bool,
    change_ids: list[int],
    referral_id: int | None,
    suggestion_ids: list[int],
) -> OrderRecorded:
    customer = session.get(CustomerRow, order.customer_id)
    assert customer is not None
    changes = [session.get(StageChangeRow, i) for i in change_ids]
    referral = session.get(ReferralRow, referral_id) if referral_id is not None else None
    return OrderRecorded(
        order=Order.from_row(order),
        customer=Customer.from_row(customer),
        created=created,
        stage_changes=[StageChange.from_row(row) for row in changes if row is not None],
        converted_referral=Referral.from_row(referral) if referral else None,
        suggestion_ids=suggestion_ids,
    )


def _rebuild(session: Session, data: dict[str, Any]) -> OrderRecorded:
    order = session.get(OrderRow, data["order_id"])
    assert order is not None
    return _payload(
        session,
        order,
        False,
        data["stage_change_ids"],
        data["referral_id"],
        data["suggestion_ids"],
    )


@strawberry.type
class OrderMutations:
    @strawberry.mutation(
        description="Record an order or a return; a repeat returns the stored one."
    )
    async def record_order(
        self, info: Info, input: OrderInput, idempotency_key: str | None = None
    ) -> RecordOrderResult:
        notices: list[dict[str, int]] = []
        fresh: list[OrderRecorded] = []

        def perform(session: Session, _: Principal) -> Outcome[OrderRecorded]:
            result = record_order(
                session=session,
                external_id=input.external_id,
                customer_id=_customer_id(input.customer_id),
                customer_external_id=input.customer_external_id,
                ordered_at=input.ordered_at,
                lines=[
                    NewOrderLine(
                        sku=line.sku,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        description=line.description,
                        category=line.category,
                    )
                    for line in input.lines
                ],
                kind=OrderKind(input.kind),
                status=OrderStatus(input.status),
                channel=input.channel,
                currency=input.currency,
                country=input.country,
                at=utcnow(),
            )
            order = result.order
            change_ids = [change.id for change in result.stage_changes if change.id is not None]
            referral_id = result.referral.referral.id if result.referral else None
            payload = _payload(
                session, order, result.created, change_ids, referral_id, result.new_suggestion_ids
            )
            notices.extend(suggestion_notices(session, result.new_suggestion_ids))
            fresh.append(payload)
            record = {
                "order_id": order.id,
                "stage_change_ids": change_ids,
                "referral_id": referral_id,
                "suggestion_ids": result.new_suggestion_ids,
            }
            return Outcome(payload, record, "order", order.id)

        result = await run_mutation(
            info,
            action="recordOrder",
            perform=perform,
            rebuild=_rebuild,
            idempotency_key=idempotency_key,
        )
        if fresh and result is fresh[0]:
            publish_after_commit(info, notices)
        return cast(RecordOrderResult, result)
