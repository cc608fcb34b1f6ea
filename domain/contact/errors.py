"""Errors of the contact policy: wrong input, not refusals (those are ContactDecisions)."""

from __future__ import annotations


class ContactError(Exception):
    """Base of the contact policy's errors."""


class UnknownChannel(ContactError):
    """No channel has the given code."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no channel with code {code!r}")
        self.code = code


class UnknownCustomer(ContactError):
    """No customer has the given id."""

    def __init__(self, customer_id: int) -> None:
        super().__init__(f"no customer with id {customer_id}")
        self.customer_id = customer_id


class UnknownTouchKind(ContactError):
    """The kind of touch is not in the policy's configured kinds."""

    def __init__(self, kind: str, known: list[str]) -> None:
        super().__init__(f"unknown touch kind {kind!r}; configured kinds: {', '.join(known)}")
        self.kind = kind
