"""Failures of a trigger run, with messages fit for an admin."""

from __future__ import annotations


class TriggerError(Exception):
    """A trigger run that cannot be carried out."""


class UnknownOffer(TriggerError):
    """The config names an offer code that does not exist or is inactive."""
