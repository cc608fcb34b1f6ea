"""Side effects of stage changes: other engines register hooks for `(previous, current)` pairs.

A hook receives the moved customers as a SELECT of `(customer_id, changed_at, reason)`,
one row after a single change and up to millions after a decay pass, so it must work
set-wise (e.g. `INSERT ... SELECT` suggestions for the valuable ones who fell asleep).
Hooks run inside the caller's transaction, after the stage change is flushed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select
from sqlmodel import Session

from domain.stages.errors import StageError
from domain.stages.transitions import is_allowed
from domain.stages.vocabulary import Stage


@dataclass(frozen=True)
class Moved:
    """Customers who just moved from `previous` to `current`."""

    previous: Stage
    current: Stage
    # Columns: customer_id, changed_at, reason.
    rows: Select[int, datetime, str]


StageHook = Callable[[Session, Moved], None]

_hooks: list[tuple[Stage | None, Stage | None, StageHook]] = []


def register(
    hook: StageHook, *, previous: Stage | None = None, current: Stage | None = None
) -> Callable[[], None]:
    """Call `hook` whenever customers move `previous` → `current` (None matches any stage).

    Returns a function that unregisters the hook.
    """
    if previous is not None and current is not None and not is_allowed(previous, current):
        raise StageError(f"no hook can fire on {previous} → {current}: not an allowed transition")
    entry = (previous, current, hook)
    _hooks.append(entry)

    def unregister() -> None:
        if entry in _hooks:
            _hooks.remove(entry)

    return unregister


def hooks_for(previous: Stage, current: Stage) -> list[StageHook]:
    """The hooks registered for this pair, in registration order."""
    return [
        hook
        for hook_previous, hook_current, hook in _hooks
        if hook_previous in (None, previous) and hook_current in (None, current)
    ]


def run_hooks(session: Session, moved: Moved) -> None:
    """Run every hook registered for the pair of `moved`."""
    for hook in hooks_for(moved.previous, moved.current):
        hook(session, moved)
