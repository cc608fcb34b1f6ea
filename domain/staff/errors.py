"""Failures of staff and token services, with messages fit for a person."""

from __future__ import annotations


class StaffError(Exception):
    """A staff or token request that cannot be carried out."""


class StaffNotFound(StaffError):
    """No staff member matches."""


class DuplicateStaff(StaffError):
    """A staff member with that email or Telegram id already exists."""


class InvalidToken(StaffError):
    """A token that is unknown, revoked or expired."""


class InvalidLinkCode(StaffError):
    """A Telegram link code that is unknown, used or expired."""
