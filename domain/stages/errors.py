"""Errors of the stage machine and its config, with messages fit for an admin."""

from __future__ import annotations

from datetime import datetime


class StageError(Exception):
    """Base of the stage machine's errors."""


class LifecycleConfigError(StageError):
    """The lifecycle config file is missing, unreadable or invalid; the message names the key."""


class TransitionNotAllowed(StageError):
    """The requested stage change is not in the transition table."""

    def __init__(self, customer_id: int | None, previous: str, current: str) -> None:
        who = f"customer {customer_id}: " if customer_id is not None else ""
        super().__init__(f"{who}{previous} → {current} is not an allowed stage transition")
        self.customer_id = customer_id
        self.previous = previous
        self.current = current


class HistoryOutOfOrder(StageError):
    """A stage change dated before the customer's current stage began."""

    def __init__(self, customer_id: int, at: datetime, since: datetime) -> None:
        super().__init__(
            f"customer {customer_id}: a change at {at.isoformat()} would precede the current "
            f"stage, held since {since.isoformat()}"
        )
        self.customer_id = customer_id


class CustomerNotFound(StageError):
    """No customer has the given id."""

    def __init__(self, customer_id: int) -> None:
        super().__init__(f"no customer with id {customer_id}")
        self.customer_id = customer_id
