"""Products the business sells."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel

from domain.columns import IdType


class Product(SQLModel, table=True):
    """A sellable item; prices are integer minor units of the configured currency."""

    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    sku: str = Field(sa_type=String(64), unique=True)
    name: str = Field(sa_type=String(300))
    category: str | None = Field(default=None, sa_type=String(100), index=True)
    price_minor: int | None = Field(default=None, sa_type=BigInteger)
    active: bool = Field(default=True)
