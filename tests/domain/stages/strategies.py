"""Hypothesis strategies for stage-machine histories: configs, happenings and decay passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from domain.events.models import EventType
from domain.orders.models import OrderKind, OrderStatus
from domain.stages.config import PRESETS, EngagementResponse, StagesConfig, load_config
from domain.stages.replay import Engaged, Happening, MarkedLost, Ordered

START = datetime(2023, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Decay:
    """A decay pass runs."""

    at: datetime


Step = Happening | Decay


@st.composite
def configs(draw: st.DrawFn) -> StagesConfig:
    """A preset, varied: engagement answered with `stay`, P(alive) ignored, VIP made easy."""
    stages = load_config(draw(st.sampled_from(PRESETS))).stages
    sleeping = stages.sleeping.model_copy(
        update={
            "on_engagement": draw(st.sampled_from(list(EngagementResponse))),
            "p_alive_below": draw(st.sampled_from([0.0, stages.sleeping.p_alive_below, 0.9])),
        }
    )
    loyal = stages.loyal
    if draw(st.booleans()):
        loyal = loyal.model_copy(update={"min_orders": 2, "min_net_revenue_minor": 1000})
    return stages.model_copy(update={"sleeping": sleeping, "loyal": loyal})


def _order(at: datetime) -> st.SearchStrategy[Ordered]:
    sale = st.builds(
        Ordered,
        at=st.just(at),
        total_minor=st.integers(100, 400_000),
        kind=st.just(OrderKind.SALE),
        status=st.sampled_from([OrderStatus.COMPLETED] * 4 + [OrderStatus.CANCELLED]),
    )
    refund = st.builds(
        Ordered,
        at=st.just(at),
        total_minor=st.integers(-200_000, -100),
        kind=st.just(OrderKind.RETURN),
        status=st.just(OrderStatus.COMPLETED),
    )
    return st.one_of(sale, sale, sale, refund)


def _step(at: datetime) -> st.SearchStrategy[Step]:
    event_types = [*(str(kind) for kind in EventType), "webinar_attended"]
    return st.one_of(
        _order(at),
        st.builds(Engaged, at=st.just(at), event_type=st.sampled_from(event_types)),
        st.just(Decay(at)),
        st.just(MarkedLost(at, "no answer to the reactivation offer")),
    )


@st.composite
def timelines(
    draw: st.DrawFn, *, max_steps: int = 14, strictly_increasing: bool = False
) -> list[Step]:
    """Steps in time order, days to years apart (sometimes at the same second)."""
    count = draw(st.integers(1, max_steps))
    at = START
    steps: list[Step] = []
    smallest = 1 if strictly_increasing else 0
    for _ in range(count):
        gap = draw(
            st.one_of(
                st.integers(smallest, 3 * 86_400),
                st.integers(smallest, 40 * 86_400),
                st.integers(smallest, 200 * 86_400),
                st.integers(smallest, 900 * 86_400),
            )
        )
        at += timedelta(seconds=gap, microseconds=draw(st.integers(0, 999_999)))
        steps.append(draw(_step(at)))
    return steps


def p_alive_scores() -> st.SearchStrategy[tuple[float, timedelta] | None]:
    """No score, or a P(alive) scored some days after the start of the timeline."""
    return st.one_of(
        st.none(),
        st.tuples(st.floats(0.0, 1.0), st.integers(0, 1500).map(lambda days: timedelta(days=days))),
    )
