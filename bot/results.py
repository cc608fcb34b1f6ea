"""Typed views of the API's answers, parsed from GraphQL JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class StaffMember:
    """The staff member the bot acts for."""

    id: str
    name: str
    role: str
    language: str
    timezone: str

    @property
    def is_admin(self) -> bool:
        """Whether admin-only commands are open to them."""
        return self.role == "admin"

    @classmethod
    def parse(cls, data: dict[str, Any]) -> StaffMember:
        """From a `Staff` object."""
        return cls(
            id=str(data["id"]),
            name=data["name"],
            role=data["role"],
            language=data["language"],
            timezone=data["timezone"],
        )


@dataclass(frozen=True)
class Match:
    """A customer found by a search: enough to tell people apart."""

    id: str
    name: str | None
    email: str | None
    phone: str | None
    stage: str

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Match:
        """From a `Customer` object."""
        return cls(
            id=str(data["id"]),
            name=data.get("name"),
            email=data.get("email"),
            phone=data.get("phone"),
            stage=data["stage"],
        )


@dataclass(frozen=True)
class OrderLine:
    """One of a customer's latest orders."""

    ordered_at: datetime
    kind: str
    total_minor: int

    @classmethod
    def parse(cls, data: dict[str, Any]) -> OrderLine:
        """From an `Order` object."""
        return cls(datetime.fromisoformat(data["orderedAt"]), data["kind"], data["totalMinor"])


@dataclass(frozen=True)
class Consent:
    """The customer's answer for one channel."""

    channel: str
    granted: bool


@dataclass(frozen=True)
class ScoreView:
    """The latest scoring run's figures about a customer (any may be missing)."""

    rfm_segment: str | None = None
    p_alive: float | None = None
    predicted_clv_minor: int | None = None
    churn_risk: float | None = None
    next_order_date: date | None = None
    reasons: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> ScoreView | None:
        """From a `Score` object, or None."""
        if data is None:
            return None
        return cls(
            rfm_segment=data.get("rfmSegment"),
            p_alive=data.get("pAlive"),
            predicted_clv_minor=data.get("predictedClvMinor"),
            churn_risk=data.get("churnRisk"),
            next_order_date=_day(data.get("nextOrderDate")),
            reasons=tuple(data.get("reasons") or ()),
        )


@dataclass(frozen=True)
class Card:
    """Everything the customer card shows."""

    id: str
    name: str | None
    email: str | None
    phone: str | None
    stage: str
    stage_since: datetime
    order_count: int
    net_revenue_minor: int
    last_order_at: datetime | None
    owner: str | None
    score: ScoreView | None
    orders: tuple[OrderLine, ...]
    consents: tuple[Consent, ...]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Card:
        """From a `Customer` object queried with the CARD document."""
        return cls(
            id=str(data["id"]),
            name=data.get("name"),
            email=data.get("email"),
            phone=data.get("phone"),
            stage=data["stage"],
            stage_since=datetime.fromisoformat(data["stageSince"]),
            order_count=data["orderCount"],
            net_revenue_minor=data["netRevenueMinor"],
            last_order_at=_dt(data.get("lastOrderAt")),
            owner=(data.get("owner") or {}).get("name"),
            score=ScoreView.parse(data.get("score")),
            orders=tuple(OrderLine.parse(o) for o in data.get("orders") or ()),
            consents=parse_consents(data.get("consents")),
        )


def parse_consents(items: list[dict[str, Any]] | None) -> tuple[Consent, ...]:
    """Consents with a channel code, in the API's order."""
    return tuple(Consent(c["channel"], c["granted"]) for c in items or () if c.get("channel"))


@dataclass(frozen=True)
class WakeUpFacts:
    """What speaks for (or against) waking a customer."""

    id: str
    name: str | None
    stage: str
    last_order_at: datetime | None
    score: ScoreView | None
    consents: tuple[Consent, ...]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> WakeUpFacts:
        """From a `Customer` object queried with the REACTIVATION_PLAN document."""
        return cls(
            id=str(data["id"]),
            name=data.get("name"),
            stage=data["stage"],
            last_order_at=_dt(data.get("lastOrderAt")),
            score=ScoreView.parse(data.get("score")),
            consents=parse_consents(data.get("consents")),
        )


@dataclass(frozen=True)
class StageMove:
    """One stage change in a customer's history."""

    from_stage: str | None
    to_stage: str
    reason: str
    changed_at: datetime


@dataclass(frozen=True)
class History:
    """A customer's stage history and latest orders."""

    id: str
    name: str | None
    moves: tuple[StageMove, ...]
    orders: tuple[OrderLine, ...]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> History:
        """From a `Customer` object queried with the HISTORY document."""
        moves = tuple(
            StageMove(
                from_stage=m.get("fromStage"),
                to_stage=m["toStage"],
                reason=m["reason"],
                changed_at=datetime.fromisoformat(m["changedAt"]),
            )
            for m in data.get("stageHistory") or ()
        )
        orders = tuple(OrderLine.parse(o) for o in data.get("orders") or ())
        return cls(id=str(data["id"]), name=data.get("name"), moves=moves, orders=orders)


@dataclass(frozen=True)
class Product:
    """A product the customer is likely to buy next."""

    name: str
    score: float | None
    due_in_days: float | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Product:
        """From a `CrossSellItem` object."""
        return cls(
            name=data.get("name") or data.get("sku") or "?",
            score=data.get("score"),
            due_in_days=data.get("dueInDays"),
        )


@dataclass(frozen=True)
class OfferTerms:
    """An offer a sales person can make."""

    id: str
    name: str
    description: str
    referrer_reward_minor: int
    referee_benefit: str
    valid_days: int

    @classmethod
    def parse(cls, data: dict[str, Any]) -> OfferTerms:
        """From an `Offer` object."""
        return cls(
            id=str(data["id"]),
            name=data["name"],
            description=data.get("description") or "",
            referrer_reward_minor=data.get("referrerRewardMinor") or 0,
            referee_benefit=data.get("refereeBenefit") or "",
            valid_days=data.get("validDays") or 0,
        )


@dataclass(frozen=True)
class Candidate:
    """A sleeping customer worth waking."""

    customer_id: str
    name: str | None
    stage: str
    owner_id: str | None
    expected_value_minor: int
    reasons: tuple[str, ...]
    offer: str | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Candidate:
        """From a `ReactivationCandidate` object."""
        customer = data["customer"]
        return cls(
            customer_id=str(customer["id"]),
            name=customer.get("name"),
            stage=customer["stage"],
            owner_id=str(customer["owner"]["id"]) if customer.get("owner") else None,
            expected_value_minor=data["expectedValueMinor"],
            reasons=tuple(data.get("reasons") or ()),
            offer=(data.get("suggestedOffer") or {}).get("name"),
        )


@dataclass(frozen=True)
class SuggestionItem:
    """An open suggestion: who, why, with what."""

    id: str
    type: str
    reason: str
    priority: int
    customer_id: str | None
    customer_name: str | None
    offer: str | None
    channel: str | None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> SuggestionItem:
        """From a `Suggestion` object."""
        customer = data.get("customer") or {}
        return cls(
            id=str(data["id"]),
            type=data["type"],
            reason=data["reason"],
            priority=data["priority"],
            customer_id=str(customer["id"]) if customer.get("id") else None,
            customer_name=customer.get("name"),
            offer=(data.get("offer") or {}).get("name"),
            channel=data.get("channel"),
        )


@dataclass(frozen=True)
class ReferralSent:
    """A referral offer on its way."""

    created: bool
    code: str
    share_url: str
    expires_at: datetime
    deliver_at: datetime


@dataclass(frozen=True)
class ReferralRefused:
    """Why the referral offer was not sent: the API's code, words and retry time."""

    code: str
    message: str
    channel: str | None = None
    retry_at: datetime | None = None


def parse_referral(data: dict[str, Any]) -> ReferralSent | ReferralRefused:
    """A `TriggerReferralResult` as a sent offer or a refusal."""
    kind = data["__typename"]
    if kind == "ReferralOfferSent":
        referral = data["referral"]
        return ReferralSent(
            created=data["created"],
            code=referral["code"],
            share_url=referral["shareUrl"],
            expires_at=datetime.fromisoformat(referral["expiresAt"]),
            deliver_at=datetime.fromisoformat(data["deliverAt"]),
        )
    if kind == "ConsentMissing":
        return ReferralRefused(code=data["code"], message=data["message"], channel=data["channel"])
    if kind == "ReferralNotEligible":
        return ReferralRefused(
            code=data["code"], message=data["message"], retry_at=_dt(data.get("retryAt"))
        )
    return ReferralRefused(code=kind, message=data.get("message") or kind)


@dataclass(frozen=True)
class Funnel:
    """Customers per stage now, and this period's moves."""

    totals: tuple[tuple[str, int], ...]
    flows: tuple[tuple[str, str, int], ...]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Funnel:
        """From a `LifecycleFunnel` object."""
        return cls(
            totals=tuple((t["stage"], t["customers"]) for t in data["atEnd"]),
            flows=tuple((f["fromStage"], f["toStage"], f["customers"]) for f in data["flows"]),
        )


@dataclass(frozen=True)
class RunView:
    """A scoring run's progress."""

    id: str
    status: str
    shard_count: int
    shards_done: int
    error: str | None = None
    as_of: date | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """Whether the run has ended, well or not."""
        return self.status in {"succeeded", "failed"}

    @classmethod
    def parse(cls, data: dict[str, Any]) -> RunView:
        """From a `ScoringRun` object."""
        return cls(
            id=str(data["id"]),
            status=data["status"],
            shard_count=data.get("shardCount") or 0,
            shards_done=data.get("shardsDone") or 0,
            error=data.get("error"),
            as_of=_day(data.get("asOf")),
            finished_at=_dt(data.get("finishedAt")),
        )


@dataclass(frozen=True)
class QueueView:
    """Jobs of one queue by state."""

    name: str
    queued: int
    started: int
    failed: int
    scheduled: int


@dataclass(frozen=True)
class SystemView:
    """The latest runs, the job queues (empty when jobs run in-process) and the outbox."""

    runs: list[RunView]
    queues: list[QueueView]
    outbox_pending: int
    outbox_sending: int
    outbox_dead: int

    @classmethod
    def parse(cls, data: dict[str, Any]) -> SystemView:
        """From the Status query's data."""
        status = data["systemStatus"]
        return cls(
            runs=[RunView.parse(run) for run in data["scoringRuns"]],
            queues=[QueueView(**queue) for queue in status["queues"]],
            outbox_pending=status["outbox"]["pending"],
            outbox_sending=status["outbox"]["sending"],
            outbox_dead=status["outbox"]["dead"],
        )
