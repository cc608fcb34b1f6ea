"""The history of stage changes: the stage at any past date is answerable from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from domain.columns import IdType, UTCDateTime


class StageChange(SQLModel, table=True):
    """A customer moved from one stage to another, and why."""

    __tablename__ = "stage_change"
    __table_args__ = (
        Index("ix_stage_change_customer_id_changed_at", "customer_id", "changed_at"),
        Index("ix_stage_change_changed_at", "changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    customer_id: int = Field(foreign_key="customer.id", sa_type=IdType)
    from_stage: str | None = Field(default=None, sa_type=String(20))
    to_stage: str = Field(sa_type=String(20))
    reason: str = Field(sa_type=String(300))
    changed_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class WrittenChange:
    """A stage change just written in bulk, as its row reads (without an ORM object each)."""

    id: int
    customer_id: int
    from_stage: str | None
    to_stage: str
    reason: str
    changed_at: datetime
