"""Errors of the referral services: wrong input, not refusals (those are ReferralRefused)."""

from __future__ import annotations


class ReferralError(Exception):
    """Base of the referral errors."""


class UnknownOffer(ReferralError):
    """No offer has the given id."""

    def __init__(self, offer_id: int) -> None:
        super().__init__(f"no offer with id {offer_id}")
        self.offer_id = offer_id


class NotAReferralOffer(ReferralError):
    """The offer exists but is not a member-get-member offer."""

    def __init__(self, offer_id: int, kind: str) -> None:
        super().__init__(f"offer {offer_id} is a {kind} offer, not a referral offer")
        self.offer_id = offer_id


class IdempotencyKeyReused(ReferralError):
    """The idempotency key already belongs to a referral for another customer or offer."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different referral")
        self.key = key


class UnknownOrder(ReferralError):
    """No order of the given customer has the given id."""

    def __init__(self, order_id: int, customer_id: int) -> None:
        super().__init__(f"customer {customer_id} has no order with id {order_id}")
        self.order_id = order_id
