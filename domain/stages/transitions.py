"""The one table of allowed stage transitions; nothing moves a customer outside it."""

from __future__ import annotations

from domain.stages.vocabulary import Stage

_BUYING = frozenset({Stage.FIRST_TIME_BUYER, Stage.REPEAT, Stage.LOYAL})

# Single orders, events and the passage of time move a customer one step at a time; an
# import that brings several orders at once (then `recompute_all`) may skip steps, e.g.
# lead → repeat, or prospect → sleeping for a customer whose whole history is old.
ALLOWED: dict[Stage, frozenset[Stage]] = {
    # engages; buys; an imported history
    Stage.PROSPECT: _BUYING | {Stage.LEAD, Stage.AT_RISK, Stage.SLEEPING},
    # buys; an imported history; long without engagement
    Stage.LEAD: _BUYING | {Stage.AT_RISK, Stage.SLEEPING},
    # buys again (straight to loyal when two orders earn it); slows down; falls asleep
    Stage.FIRST_TIME_BUYER: frozenset({Stage.REPEAT, Stage.LOYAL, Stage.AT_RISK, Stage.SLEEPING}),
    Stage.REPEAT: frozenset({Stage.LOYAL, Stage.AT_RISK, Stage.SLEEPING}),
    # a return can take a loyal customer back below the VIP threshold
    Stage.LOYAL: frozenset({Stage.REPEAT, Stage.AT_RISK, Stage.SLEEPING}),
    # buys → back; silence → sleeping
    Stage.AT_RISK: frozenset({Stage.REPEAT, Stage.LOYAL, Stage.SLEEPING}),
    # a buyer who buys → reactivated; a lead who engages → lead, who buys → their first
    # order; a buyer who engages → at risk (if configured); no answer to the reactivation
    # offer → lost
    Stage.SLEEPING: _BUYING | {Stage.LEAD, Stage.AT_RISK, Stage.REACTIVATED, Stage.LOST},
    # behaves like repeat: settles into repeat/loyal, or slows down again
    Stage.REACTIVATED: frozenset({Stage.REPEAT, Stage.LOYAL, Stage.AT_RISK, Stage.SLEEPING}),
    # only a purchase leaves lost (a lost lead's purchase is their first)
    Stage.LOST: _BUYING | {Stage.REACTIVATED},
}

TRANSITIONS: frozenset[tuple[Stage, Stage]] = frozenset(
    (previous, current) for previous, targets in ALLOWED.items() for current in targets
)


def is_allowed(previous: Stage | str, current: Stage | str) -> bool:
    """Whether the table allows moving from `previous` to `current`."""
    return (Stage(previous), Stage(current)) in TRANSITIONS
