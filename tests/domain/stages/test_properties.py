"""Properties of the pure stage rules over random histories (no database)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.stages.config import StagesConfig
from domain.stages.replay import Change, Track, absorb, replay, settle
from domain.stages.rules import Facts, Position
from domain.stages.transitions import TRANSITIONS
from domain.stages.vocabulary import Stage
from tests.domain.stages.strategies import START, Decay, Step, configs, p_alive_scores, timelines


def _start(score: tuple[float, timedelta] | None) -> Track:
    if score is None:
        return Track(Position(Stage.PROSPECT, START), Facts())
    p_alive, after = score
    return Track(Position(Stage.PROSPECT, START), Facts(p_alive=p_alive, p_alive_at=START + after))


def _incremental(
    steps: list[Step], start: Track, config: StagesConfig
) -> tuple[Track, list[Change]]:
    """Happenings through the fast path, with decay passes wherever the steps put them."""
    track, changes = start, []
    for step in steps:
        if isinstance(step, Decay):
            track, change = settle(track, as_of=step.at, config=config)
            changes += [change] if change else []
        else:
            track, moved = absorb(track, step, config=config)
            changes += moved
    return track, changes


@settings(max_examples=150, deadline=None)
@given(config=configs(), steps=timelines(), score=p_alive_scores())
def test_no_history_moves_a_customer_outside_the_transition_table(
    config: StagesConfig, steps: list[Step], score: tuple[float, timedelta] | None
) -> None:
    # settle raises TransitionNotAllowed if the rules ever propose a move outside the table.
    _, changes = _incremental(steps, _start(score), config)
    assert all((change.previous, change.current) in TRANSITIONS for change in changes)
    for earlier, later in pairwise(changes):
        assert earlier.current == later.previous
        assert earlier.at <= later.at


@settings(max_examples=150, deadline=None)
@given(
    config=configs(),
    steps=timelines(),
    score=p_alive_scores(),
    extra=st.integers(0, 800).map(lambda days: timedelta(days=days)),
)
def test_replaying_without_decay_passes_ends_where_the_incremental_path_does(
    config: StagesConfig,
    steps: list[Step],
    score: tuple[float, timedelta] | None,
    extra: timedelta,
) -> None:
    as_of = steps[-1].at + extra
    incremental, _ = _incremental([*steps, Decay(as_of)], _start(score), config)
    happenings = [step for step in steps if not isinstance(step, Decay)]
    replayed, _ = replay(happenings, start=_start(score), as_of=as_of, config=config)
    assert replayed.position.stage == incremental.position.stage
    assert replayed.facts == incremental.facts


@settings(max_examples=75, deadline=None)
@given(config=configs(), steps=timelines(), score=p_alive_scores())
def test_a_second_decay_pass_at_the_same_moment_changes_nothing(
    config: StagesConfig, steps: list[Step], score: tuple[float, timedelta] | None
) -> None:
    track, _ = _incremental(steps, _start(score), config)
    as_of = steps[-1].at + timedelta(days=1)
    track, _ = settle(track, as_of=as_of, config=config)
    assert settle(track, as_of=as_of, config=config) == (track, None)
