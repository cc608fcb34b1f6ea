"""Failures of the reactivation flow, with messages fit for an admin."""

from __future__ import annotations


class ReactivationError(Exception):
    """A reactivation request that cannot be carried out."""


class UnusableOffer(ReactivationError):
    """The offer does not exist, is inactive or is not a reactivation offer."""
