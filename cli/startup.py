"""Checks long-running commands make before they start serving."""

from __future__ import annotations

from cli.output import fail
from domain.stages.config import LifecycleConfig, default_config
from domain.stages.errors import LifecycleConfigError


def require_valid_config() -> LifecycleConfig:
    """Load LIFECYCLE_CONFIG now, so a bad file stops the start with the offending key named."""
    try:
        return default_config()
    except LifecycleConfigError as exc:
        fail(str(exc))
