"""Orders, returns and their lines. Money is integer minor units, never float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Numeric, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, UTCDateTime


class OrderKind(StrEnum):
    """A sale, or a return/credit note that gives money back (negative totals)."""

    SALE = "sale"
    RETURN = "return"


class OrderStatus(StrEnum):
    """Completed orders count as revenue; cancelled ones never do."""

    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Order(SQLModel, table=True):
    """One purchase (or return) by a customer, or by a guest when customer_id is empty."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_id_ordered_at", "customer_id", "ordered_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    external_id: str = Field(sa_type=String(100), unique=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", sa_type=IdType)
    channel_id: int | None = Field(default=None, foreign_key="channel.id", sa_type=IdType)
    ordered_at: datetime = Field(sa_type=UTCDateTime, index=True)
    kind: str = Field(default=OrderKind.SALE, sa_type=String(10))
    status: str = Field(default=OrderStatus.COMPLETED, sa_type=String(10))
    # A return's total is negative, so summing completed orders nets returns out.
    total_minor: int = Field(default=0, sa_type=BigInteger)
    currency: str = Field(default="USD", sa_type=String(3))
    country: str | None = Field(default=None, sa_type=String(80))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OrderLine(SQLModel, table=True):
    """A product line of an order; negative quantity on returns."""

    __tablename__ = "order_line"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    order_id: int = Field(foreign_key="orders.id", sa_type=IdType, ondelete="CASCADE")
    line_no: int
    product_id: int | None = Field(
        default=None, foreign_key="product.id", sa_type=IdType, index=True
    )
    sku: str = Field(sa_type=String(64))
    description: str | None = Field(default=None, sa_type=String(300))
    quantity: int
    # Source prices can carry sub-cent precision (e.g. 0.001 in Online Retail), kept exactly.
    unit_price: Decimal = Field(sa_type=Numeric(14, 4, asdecimal=True))
    line_total_minor: int = Field(sa_type=BigInteger)
