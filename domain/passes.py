"""The periodic lifecycle pass: time-based stage decay, due expiries, closed windows, triggers.

Nobody sends an event when a customer falls asleep or a birthday comes near, so this pass
runs on a schedule (hourly by default) and after bulk loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from domain.reactivation.service import CloseResult, close_windows
from domain.stages.config import LifecycleConfig
from domain.stages.decay import DecayResult, decay_pass, recompute_all
from domain.suggestions.service import expire_due
from domain.triggers.service import TriggerRunResult, run_triggers


@dataclass(frozen=True)
class PassResult:
    """What one lifecycle pass changed."""

    stages: DecayResult
    suggestions_expired: int
    reactivation: CloseResult
    triggers: TriggerRunResult


def run_lifecycle_pass(
    *, session: Session, as_of: datetime, config: LifecycleConfig, full: bool = False
) -> PassResult:
    """Move stages with time, expire stale suggestions, close reactivation windows, fire triggers.

    `full` reclassifies every customer from their facts (after an import or demo data)
    instead of only those whose stage can decay.
    """
    stages = (recompute_all if full else decay_pass)(session=session, as_of=as_of, config=config)
    expired = expire_due(session=session, as_of=as_of)
    closed = close_windows(session=session, as_of=as_of, config=config.reactivation)
    triggers = run_triggers(session=session, as_of=as_of, config=config.triggers)
    return PassResult(
        stages=stages, suggestions_expired=expired, reactivation=closed, triggers=triggers
    )
