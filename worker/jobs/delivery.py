"""RQ job `outbox.deliver`: send every due outbox message through the configured adapters."""

from __future__ import annotations

from dataclasses import asdict

from domain.db import get_engine
from domain.outbox.delivery import deliver_all
from worker.delivery.registry import open_adapters
from worker.delivery.settings import get_delivery_settings


def deliver_pending(batch_size: int | None = None) -> dict[str, int]:
    """Deliver due messages in batches of `batch_size`; return the counts per outcome.

    Safe to run in several workers at once: each claims its own rows.
    """
    settings = get_delivery_settings()
    with open_adapters(settings) as adapters:
        counts = deliver_all(
            engine=get_engine(),
            adapters=adapters,
            batch_size=batch_size or settings.outbox_batch_size,
            config=settings.delivery_config(),
        )
    return asdict(counts)
