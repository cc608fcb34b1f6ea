"""Failures of suggestion services, with messages fit for a sales person."""

from __future__ import annotations


class SuggestionError(Exception):
    """A suggestion request that cannot be carried out."""


class SuggestionNotFound(SuggestionError):
    """No suggestion has the given id."""


class NotYourSuggestion(SuggestionError):
    """The staff member neither owns the customer nor is an admin."""


class SuggestionClosed(SuggestionError):
    """The suggestion was already accepted, dismissed or has expired."""
