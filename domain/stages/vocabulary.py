"""The lifecycle stages a customer moves through (see DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where a customer stands in their relationship with the business."""

    PROSPECT = "prospect"
    LEAD = "lead"
    FIRST_TIME_BUYER = "first_time_buyer"
    REPEAT = "repeat"
    LOYAL = "loyal"
    AT_RISK = "at_risk"
    SLEEPING = "sleeping"
    REACTIVATED = "reactivated"
    LOST = "lost"

    @property
    def label(self) -> str:
        """A short human name for the stage."""
        return STAGE_LABELS[self]


STAGE_LABELS: dict[Stage, str] = {
    Stage.PROSPECT: "Prospect",
    Stage.LEAD: "Lead (activated)",
    Stage.FIRST_TIME_BUYER: "First-time buyer",
    Stage.REPEAT: "Repeat",
    Stage.LOYAL: "Loyal / VIP",
    Stage.AT_RISK: "At risk",
    Stage.SLEEPING: "Sleeping",
    Stage.REACTIVATED: "Reactivated",
    Stage.LOST: "Lost",
}
