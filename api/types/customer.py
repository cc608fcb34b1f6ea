"""Customers and what hangs off them: scores, stage history, orders, events, consents."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from api.context import Info
from api.execution import NOT_FETCHED, PREFETCHED, NotFetched
from api.pagination import page_size
from api.types.scalars import Long, long_or_none
from api.types.staff import Staff
from domain.catalog.models import Product as ProductRow
from domain.customers.models import Consent as ConsentRow
from domain.customers.models import Customer as CustomerRow
from domain.customers.queries import CustomerRecord, ScoreRecord
from domain.events.models import Event as EventRow
from domain.orders.models import Order as OrderRow
from domain.orders.models import OrderLine as OrderLineRow
from domain.scoring.models import Score as ScoreRow
from domain.scoring.reasons import render_all
from domain.stages.models import StageChange as StageChangeRow
from domain.stages.models import WrittenChange
from domain.stages.vocabulary import Stage

if TYPE_CHECKING:
    from api.types.referral import Referral
    from api.types.suggestion import Suggestion

strawberry.enum(Stage, name="Stage", description="Lifecycle stages.")


REASONS_DESCRIPTION = (
    "Why, most important first, in `language` (en, es, ru, zh-Hans; else English)."
)


def _id(value: int | None) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="One suggested product, from the latest score's cross-sell list.")
class CrossSellItem:
    product_id: strawberry.ID | None
    score: float | None
    due_in_days: float | None
    text: str | None
    # What the item itself says; a scoring run stores only the product id, so the rest
    # comes from the catalogue.
    stored_sku: strawberry.Private[str | None]
    stored_name: strawberry.Private[str | None]

    async def _product(self, info: Info) -> ProductRow | None:
        if self.product_id is None:
            return None
        return await info.context.loaders.product.load(int(self.product_id))

    @strawberry.field(description="The product's SKU.")
    async def sku(self, info: Info) -> str | None:
        if self.stored_sku is not None:
            return self.stored_sku
        product = await self._product(info)
        return product.sku if product else None

    @strawberry.field(description="The product's name.")
    async def name(self, info: Info) -> str | None:
        if self.stored_name is not None:
            return self.stored_name
        product = await self._product(info)
        return product.name if product else None

    @strawberry.field(description="The product's category.")
    async def category(self, info: Info) -> str | None:
        product = await self._product(info)
        return product.category if product else None

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> CrossSellItem:
        """One entry of Score.cross_sell."""
        product_id = item.get("product_id")
        return cls(
            product_id=_id(product_id) if product_id is not None else None,
            score=item.get("score"),
            due_in_days=item.get("due_in_days"),
            text=item.get("text"),
            stored_sku=item.get("sku"),
            stored_name=item.get("name"),
        )


@strawberry.type(description="What the latest scoring run concluded about a customer.")
class Score:
    run_id: strawberry.ID
    model_version: str
    recency_days: int | None
    frequency: int | None
    monetary_minor: Long | None
    rfm_r: int | None
    rfm_f: int | None
    rfm_m: int | None
    rfm_segment: str | None
    p_alive: float | None
    expected_purchases_90d: float | None
    predicted_clv_minor: Long | None
    churn_risk: float | None
    reactivation_propensity: float | None
    next_order_date: date | None
    # Kept as read: reasons are put in words, items built, only when asked for.
    stored_reasons: strawberry.Private[list[Any]]
    cross_sell_json: strawberry.Private[list[dict[str, Any]]]

    @strawberry.field(description=REASONS_DESCRIPTION)
    def reasons(self, language: str | None = None) -> list[str]:
        return render_all(self.stored_reasons, language)

    @strawberry.field(description="Products the customer is likely to buy next, best first.")
    def cross_sell(self) -> list[CrossSellItem]:
        return [CrossSellItem.from_json(item) for item in self.cross_sell_json]

    @classmethod
    def from_row(cls, row: ScoreRow | ScoreRecord) -> Score:
        """The API view of a score (an ORM object or a plain row)."""
        return cls(
            run_id=_id(row.run_id),
            model_version=row.model_version,
            recency_days=row.recency_days,
            frequency=row.frequency,
            monetary_minor=long_or_none(row.monetary_minor),
            rfm_r=row.rfm_r,
            rfm_f=row.rfm_f,
            rfm_m=row.rfm_m,
            rfm_segment=row.rfm_segment,
            p_alive=row.p_alive,
            expected_purchases_90d=row.expected_purchases_90d,
            predicted_clv_minor=long_or_none(row.predicted_clv_minor),
            churn_risk=row.churn_risk,
            reactivation_propensity=row.reactivation_propensity,
            next_order_date=row.next_order_date,
            stored_reasons=row.reasons or [],
            cross_sell_json=row.cross_sell or [],
        )


@strawberry.type(description="A move from one lifecycle stage to another, and why.")
class StageChange:
    customer_id: strawberry.ID
    from_stage: Stage | None
    to_stage: Stage
    reason: str
    changed_at: datetime

    @classmethod
    def from_row(cls, row: StageChangeRow | WrittenChange) -> StageChange:
        """The API view of a stage change."""
        return cls(
            customer_id=_id(row.customer_id),
            from_stage=Stage(row.from_stage) if row.from_stage else None,
            to_stage=Stage(row.to_stage),
            reason=row.reason,
            changed_at=row.changed_at,
        )


@strawberry.type(description="A product line of an order.")
class OrderLine:
    line_no: int
    sku: str
    description: str | None
    quantity: int
    unit_price: Decimal
    line_total_minor: Long

    @classmethod
    def from_row(cls, row: OrderLineRow) -> OrderLine:
        """The API view of an order line."""
        return cls(
            line_no=row.line_no,
            sku=row.sku,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            line_total_minor=Long(row.line_total_minor),
        )


@strawberry.type(description="A purchase, or a return (negative total).")
class Order:
    id: strawberry.ID
    external_id: str
    ordered_at: datetime
    kind: str
    status: str
    total_minor: Long
    currency: str
    channel_id: strawberry.Private[int | None]

    @strawberry.field
    async def channel(self, info: Info) -> str | None:
        """The code of the channel the order came through."""
        return await info.context.loaders.channel_code(self.channel_id)

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        """The order's product lines."""
        rows = await info.context.loaders.order_lines.load(int(self.id))
        return [OrderLine.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: OrderRow) -> Order:
        """The API view of an order."""
        return cls(
            id=_id(row.id),
            external_id=row.external_id,
            ordered_at=row.ordered_at,
            kind=row.kind,
            status=row.status,
            total_minor=Long(row.total_minor),
            currency=row.currency,
            channel_id=row.channel_id,
        )


@strawberry.type(description="Something a customer did: an open, a click, a visit, a cart.")
class Event:
    id: strawberry.ID
    type: str
    occurred_at: datetime
    properties: JSON
    channel_id: strawberry.Private[int | None]

    @strawberry.field
    async def channel(self, info: Info) -> str | None:
        """The code of the channel the event happened on."""
        return await info.context.loaders.channel_code(self.channel_id)

    @classmethod
    def from_row(cls, row: EventRow) -> Event:
        """The API view of an event."""
        return cls(
            id=_id(row.id),
            type=row.type,
            occurred_at=row.occurred_at,
            properties=JSON(row.properties),
            channel_id=row.channel_id,
        )


@strawberry.type(description="A customer's answer to being contacted on one channel.")
class Consent:
    granted: bool
    source: str | None
    updated_at: datetime
    channel_id: strawberry.Private[int]

    @strawberry.field
    async def channel(self, info: Info) -> str | None:
        """The channel's code."""
        return await info.context.loaders.channel_code(self.channel_id)

    @classmethod
    def from_row(cls, row: ConsentRow) -> Consent:
        """The API view of a consent."""
        return cls(
            granted=row.granted,
            source=row.source,
            updated_at=row.updated_at,
            channel_id=row.channel_id,
        )


@strawberry.type(description="A person or company the business sells to.")
class Customer:
    id: strawberry.ID
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    birthday: date | None
    language: str | None
    timezone: str | None
    country: str | None
    referral_code: str | None
    created_at: datetime
    stage: Stage
    stage_since: datetime
    first_order_at: datetime | None
    last_order_at: datetime | None
    order_count: int
    net_revenue_minor: Long
    last_engaged_at: datetime | None
    owner_id: strawberry.Private[int | None]
    acquisition_channel_id: strawberry.Private[int | None]
    # The latest score when it came with the row (a page reads its scores with its rows).
    fetched_score: strawberry.Private[Score | NotFetched | None] = NOT_FETCHED

    @property
    def key(self) -> int:
        """The customer's id as an int, for loaders."""
        return int(self.id)

    @strawberry.field(description="The code of the channel the customer arrived through.")
    async def acquisition_channel(self, info: Info) -> str | None:
        return await info.context.loaders.channel_code(self.acquisition_channel_id)

    @strawberry.field(description="The sales person who owns the customer.")
    async def owner(self, info: Info) -> Staff | None:
        if self.owner_id is None:
            return None
        row = await info.context.loaders.staff.load(self.owner_id)
        return Staff.from_row(row) if row else None

    # Answered from `fetched_score` without this resolver when the score came with the row:
    # a coroutine and a dataloader round per customer cost a page more than its scores.
    @strawberry.field(
        description="The latest successful scoring run's figures and reasons.",
        metadata={PREFETCHED: "fetched_score"},
    )
    async def score(self, info: Info) -> Score | None:
        if self.fetched_score is not NOT_FETCHED:
            return self.fetched_score
        row = await info.context.loaders.score.load(self.key)
        return Score.from_row(row) if row else None

    @strawberry.field(description="Open suggestions (for sales callers: only their own).")
    async def open_suggestions(
        self, info: Info
    ) -> list[Annotated[Suggestion, strawberry.lazy("api.types.suggestion")]]:
        from api.types.suggestion import Suggestion

        rows = await info.context.loaders.open_suggestions.load(self.key)
        return [Suggestion.from_row(row) for row in rows]

    @strawberry.field(description="Every stage change, oldest first.")
    async def stage_history(self, info: Info) -> list[StageChange]:
        rows = await info.context.loaders.stage_history.load(self.key)
        return [StageChange.from_row(row) for row in rows]

    @strawberry.field(description="The latest orders, newest first.")
    async def orders(self, info: Info, first: int = 10) -> list[Order]:
        size = page_size(info.context.settings, first)
        rows = await info.context.loaders.orders.load((self.key, size))
        return [Order.from_row(row) for row in rows]

    @strawberry.field(description="The latest events, newest first.")
    async def events(self, info: Info, first: int = 20) -> list[Event]:
        size = page_size(info.context.settings, first)
        rows = await info.context.loaders.events.load((self.key, size))
        return [Event.from_row(row) for row in rows]

    @strawberry.field(description="Referral offers this customer was sent, newest first.")
    async def referrals(
        self, info: Info
    ) -> list[Annotated[Referral, strawberry.lazy("api.types.referral")]]:
        from api.types.referral import Referral

        rows = await info.context.loaders.referrals.load(self.key)
        return [Referral.from_row(row) for row in rows]

    @strawberry.field(description="Consent answers per channel.")
    async def consents(self, info: Info) -> list[Consent]:
        rows = await info.context.loaders.consents.load(self.key)
        return [Consent.from_row(row) for row in rows]

    @classmethod
    def from_row(
        cls,
        row: CustomerRow | CustomerRecord,
        score: ScoreRow | ScoreRecord | NotFetched | None = NOT_FETCHED,
    ) -> Customer:
        """The API view of a customer (an ORM object or a plain row), and its score if read."""
        return cls(
            id=_id(row.id),
            external_id=row.external_id,
            name=row.name,
            email=row.email,
            phone=row.phone,
            birthday=row.birthday,
            language=row.language,
            timezone=row.timezone,
            country=row.country,
            referral_code=row.referral_code,
            created_at=row.created_at,
            stage=Stage(row.stage),
            stage_since=row.stage_since,
            first_order_at=row.first_order_at,
            last_order_at=row.last_order_at,
            order_count=row.order_count,
            net_revenue_minor=Long(row.net_revenue_minor),
            last_engaged_at=row.last_engaged_at,
            owner_id=row.owner_id,
            acquisition_channel_id=row.acquisition_channel_id,
            fetched_score=score if score is NOT_FETCHED or score is None else Score.from_row(score),
        )
