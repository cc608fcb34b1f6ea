"""Live notices a mutation leaves for after its commit: new suggestions for their staff member."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from sqlmodel import Session

from api.context import Info
from domain.suggestions.queries import suggestions_by_ids

logger = logging.getLogger(__name__)


def suggestion_notices(session: Session, suggestion_ids: Collection[int]) -> list[dict[str, int]]:
    """The notices subscribers expect for these suggestions (those meant for a staff member)."""
    if not suggestion_ids:
        return []
    rows = suggestions_by_ids(session=session, ids=suggestion_ids)
    return [
        {"suggestion_id": suggestion_id, "staff_id": row.staff_id}
        for suggestion_id, row in sorted(rows.items())
        if row.staff_id is not None
    ]


def publish_after_commit(info: Info, notices: list[dict[str, Any]]) -> None:
    """Publish the notices once the request's transaction has committed (never on rollback)."""
    if not notices:
        return
    broadcaster = info.context.resources.broadcaster

    async def publish() -> None:
        try:
            for notice in notices:
                await broadcaster.publish(notice)
        except Exception:
            # The writes stand; a live notice is a convenience, the suggestion is stored.
            logger.exception("could not publish %d suggestion notices", len(notices))

    info.context.after_commit.append(publish)
