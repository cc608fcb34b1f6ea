"""RQ job `lifecycle.pass`: the hourly stage decay, expiries, reactivation windows and triggers."""

from __future__ import annotations

from datetime import datetime

from domain.clock import as_utc, utcnow
from domain.db import unit_of_work
from domain.passes import run_lifecycle_pass
from domain.stages.config import default_config
from worker.jobs.digests import send_alerts
from worker.queue import DELIVERY, enqueue


def lifecycle_pass(as_of: str | None = None) -> dict[str, int]:
    """Run one lifecycle pass as of an ISO time (default now) in one transaction; return counts.

    Safe to retry: stage moves only apply to customers still in the stage they were decided
    from, and suggestions are keyed by dedupe keys, so a rerun adds nothing.
    """
    moment = as_utc(datetime.fromisoformat(as_of)) if as_of else utcnow()
    with unit_of_work() as session:
        result = run_lifecycle_pass(session=session, as_of=moment, config=default_config())
    if result.triggers.alert_ids:
        # After the commit, so the alert job finds the suggestions it announces.
        enqueue(send_alerts, list(result.triggers.alert_ids), queue=DELIVERY)
    return {
        "stage_changes": result.stages.changed,
        "suggestions_expired": result.suggestions_expired,
        "reactivation_responded": result.reactivation.responded,
        "reactivation_lost": result.reactivation.lost,
        "suggestions_created": sum(result.triggers.created.values()),
        "alerts": len(result.triggers.alert_ids),
    }
