"""Queries about customers: look-up by key, filtered and ordered pages, cross-sell."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import strawberry
from sqlmodel import Session
from strawberry.types.nodes import SelectedField, Selection

from api.context import Info
from api.errors import NotFound, ValidationError
from api.execution import NOT_FETCHED
from api.pagination import decode_cursor, encode_cursor, page_size
from api.types.customer import CrossSellItem, Customer
from api.types.scalars import Long
from domain.customers.models import Customer as CustomerRow
from domain.customers.queries import (
    CustomerFilter,
    CustomerOrder,
    CustomerRecord,
    ScoreRecord,
    count_customers,
    customer_page,
    find_customer,
    latest_scores,
)
from domain.stages.vocabulary import Stage

strawberry.enum(CustomerOrder, name="CustomerOrderField")


@strawberry.enum(description="Sort direction.")
class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="Conditions a listed customer meets; empty fields do not filter.")
class CustomerFilterInput:
    stages: list[Stage] | None = None
    rfm_segments: list[str] | None = None
    owner_id: strawberry.ID | None = None
    acquisition_channel: str | None = strawberry.field(default=None, description="channel code")
    min_predicted_clv_minor: Long | None = None
    search: str | None = strawberry.field(
        default=None, description="external id, part of the name, start of email or phone"
    )


@strawberry.input(description="What a page of customers is sorted by; ties go by id.")
class CustomerOrderInput:
    field: CustomerOrder = CustomerOrder.ID
    direction: Direction = Direction.ASC


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def _edge_cursor(root: CustomerEdge) -> str:
    # Encoded only when asked for: most clients page on pageInfo.endCursor alone.
    return root.encoded_cursor()


@strawberry.type
class CustomerEdge:
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: Customer
    order: strawberry.Private[str]
    sort_value: strawberry.Private[Any]

    def encoded_cursor(self) -> str:
        """The opaque cursor of this edge."""
        return encode_cursor(self.order, self.sort_value, self.node.key)


@strawberry.type(description="A page of customers (Relay-style cursor connection).")
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    filters: strawberry.Private[CustomerFilter]

    @strawberry.field(description="How many customers meet the filter (costs a count query).")
    async def total_count(self, info: Info) -> int:
        filters = self.filters
        return await info.context.db.run(lambda s: count_customers(session=s, filters=filters))


CustomerLookup = Annotated[
    Customer | NotFound | ValidationError, strawberry.union("CustomerLookup")
]


def _selects(selections: list[Selection], path: tuple[str, ...]) -> bool:
    """Whether the selections reach the field at `path` (through fragments too)."""
    name, rest = path[0], path[1:]
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name and (not rest or _selects(selection.selections, rest)):
                return True
        elif _selects(selection.selections, path):
            return True
    return False


async def _filters(
    info: Info, given: CustomerFilterInput | None
) -> CustomerFilter | ValidationError:
    if given is None:
        return CustomerFilter()
    channel_id = None
    if given.acquisition_channel is not None:
        codes = {c.code: i for i, c in (await info.context.loaders.channels()).items()}
        if given.acquisition_channel not in codes:
            return ValidationError(
                message=f"no channel with code {given.acquisition_channel!r}",
                field="acquisitionChannel",
            )
        channel_id = codes[given.acquisition_channel]
    return CustomerFilter(
        stages=[str(stage) for stage in given.stages or []],
        rfm_segments=list(given.rfm_segments or []),
        owner_id=int(given.owner_id) if given.owner_id is not None else None,
        acquisition_channel_id=channel_id,
        min_predicted_clv_minor=given.min_predicted_clv_minor,
        search=given.search,
    )


@strawberry.type
class CustomerQueries:
    @strawberry.field(description="One customer by exactly one of id, external id, email, phone.")
    async def customer(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        external_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> CustomerLookup:
        keys = {"id": id, "externalId": external_id, "email": email, "phone": phone}
        given = {name: value for name, value in keys.items() if value is not None}
        if len(given) != 1:
            return ValidationError(
                message="give exactly one of id, externalId, email or phone", field="id"
            )
        ((name, value),) = given.items()
        if name == "id" and not str(value).isdigit():
            return ValidationError(message="id must be a number", field="id")
        row: CustomerRow | CustomerRecord | None
        if name == "id":
            row = await info.context.loaders.customer.load(int(value))
        else:
            row = await info.context.db.run(
                lambda s: find_customer(
                    session=s, external_id=external_id, email=email, phone=phone
                )
            )
        if row is None:
            return NotFound(
                message=f"no customer with {name} {value}", entity="customer", key=str(value)
            )
        return Customer.from_row(row)

    @strawberry.field(description="Customers meeting a filter, one page at a time.")
    async def customers(
        self,
        info: Info,
        filter: CustomerFilterInput | None = None,
        order_by: CustomerOrderInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Annotated[CustomerConnection | ValidationError, strawberry.union("CustomerPage")]:
        size = page_size(info.context.settings, first)
        filters = await _filters(info, filter)
        if isinstance(filters, ValidationError):
            return filters
        ordering = order_by or CustomerOrderInput()
        order = CustomerOrder(ordering.field)
        descending = ordering.direction is Direction.DESC
        position: tuple[Any, int] | None = None
        if after is not None:
            position = decode_cursor(after, f"{order}:{ordering.direction}")
        # Scores asked for come with the page, so each node answers its score at once.
        with_scores = any(
            _selects(field.selections, ("edges", "node", "score"))
            for field in info.selected_fields
            if isinstance(field, SelectedField)
        )

        def load(
            session: Session,
        ) -> tuple[list[tuple[CustomerRecord, Any]], dict[int, ScoreRecord] | None]:
            rows = customer_page(
                session=session,
                filters=filters,
                order=order,
                descending=descending,
                after=position,
                limit=size + 1,
            )
            if not with_scores:
                return rows, None
            ids = [row.id for row, _ in rows[:size]]
            return rows, latest_scores(session=session, customer_ids=ids)

        rows, scores = await info.context.db.run(load)
        cursor_order = f"{order}:{ordering.direction}"
        edges = [
            CustomerEdge(
                node=Customer.from_row(
                    row, scores.get(row.id) if scores is not None else NOT_FETCHED
                ),
                order=cursor_order,
                sort_value=value,
            )
            for row, value in rows[:size]
        ]
        for row, _ in rows[:size]:
            info.context.loaders.customer.prime(row.id, row)
        return CustomerConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size,
                end_cursor=edges[-1].encoded_cursor() if edges else None,
            ),
            filters=filters,
        )

    @strawberry.field(
        description="Products a customer is likely to buy next, from the latest score."
    )
    async def cross_sell(self, info: Info, customer_id: strawberry.ID) -> list[CrossSellItem]:
        if not str(customer_id).isdigit():
            return []
        row = await info.context.loaders.score.load(int(customer_id))
        return [CrossSellItem.from_json(item) for item in row.cross_sell] if row else []
