"""Scoring runs and the per-customer scores they write."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Date, Float, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.clock import utcnow
from domain.columns import IdType, JsonType, UTCDateTime


class RunStatus(StrEnum):
    """Where a scoring run stands."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ScoringRun(SQLModel, table=True):
    """One scoring pass over every customer as of a date, with its fitted figures."""

    __tablename__ = "scoring_run"

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    status: str = Field(default=RunStatus.QUEUED, sa_type=String(12), index=True)
    as_of: date = Field(sa_type=Date)
    model_version: str = Field(sa_type=String(40))
    shard_count: int = Field(default=0)
    shards_done: int = Field(default=0)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)
    timings: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScoringShard(SQLModel, table=True):
    """One shard of a run: a contiguous range of customer ids, mapped by one job."""

    __tablename__ = "scoring_shard"
    __table_args__ = (UniqueConstraint("run_id", "shard_no"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    run_id: int = Field(foreign_key="scoring_run.id", sa_type=IdType, ondelete="CASCADE")
    shard_no: int
    customer_id_min: int = Field(sa_type=BigInteger)
    customer_id_max: int = Field(sa_type=BigInteger)
    phase: str = Field(default="features", sa_type=String(20))
    status: str = Field(default=RunStatus.QUEUED, sa_type=String(12))
    customers: int = Field(default=0)
    seconds: float | None = Field(default=None, sa_type=Float)
    error: str | None = Field(default=None, sa_type=Text)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Score(SQLModel, table=True):
    """What one run concluded about one customer."""

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("run_id", "customer_id"),
        Index("ix_score_customer_id_run_id", "customer_id", "run_id"),
        # A run's customers by predicted CLV: the most valuable first without a sort.
        Index(
            "ix_score_run_id_predicted_clv_minor", "run_id", "predicted_clv_minor", "customer_id"
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=IdType)
    run_id: int = Field(foreign_key="scoring_run.id", sa_type=IdType, ondelete="CASCADE")
    customer_id: int = Field(foreign_key="customer.id", sa_type=IdType)
    model_version: str = Field(sa_type=String(40))
    recency_days: int | None = None
    frequency: int | None = None
    monetary_minor: int | None = Field(default=None, sa_type=BigInteger)
    rfm_r: int | None = None
    rfm_f: int | None = None
    rfm_m: int | None = None
    rfm_segment: str | None = Field(default=None, sa_type=String(30))
    p_alive: float | None = Field(default=None, sa_type=Float)
    expected_purchases_90d: float | None = Field(default=None, sa_type=Float)
    predicted_clv_minor: int | None = Field(default=None, sa_type=BigInteger)
    churn_risk: float | None = Field(default=None, sa_type=Float)
    reactivation_propensity: float | None = Field(default=None, sa_type=Float)
    next_order_date: date | None = Field(default=None, sa_type=Date)
    # What the run found, put in words when read: see domain.scoring.reasons.
    reasons: list[dict[str, Any] | str] = Field(default_factory=list, sa_type=JsonType)
    cross_sell: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonType)
