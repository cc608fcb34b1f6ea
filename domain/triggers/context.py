"""What every trigger needs during one run: the time, the config and the candidate query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, false, null, select
from sqlmodel import Session, col

from domain.customers.models import Customer
from domain.referrals.models import Offer
from domain.stages.vocabulary import Stage
from domain.suggestions.models import SuggestionStatus
from domain.triggers.audience import PreferredChannel, preferred_channel
from domain.triggers.config import TriggersConfig
from domain.triggers.errors import UnknownOffer
from domain.triggers.vocabulary import TriggerType
from domain.triggers.wording import clip


@dataclass(frozen=True)
class TriggerContext:
    """One trigger run: as of when, with which settings, optionally for some customers only."""

    session: Session
    as_of: datetime
    config: TriggersConfig
    customer_ids: Sequence[int] | None = None

    @cached_property
    def _preferred(self) -> PreferredChannel | None:
        return preferred_channel(self.session, self.config.channels, self.customer_ids)

    def base(self, *columns: Any) -> Select[Any]:
        """A select of `columns` over customers a trigger may pick: reachable and not lost.

        Reachable means they consented to one of the configured channels; lost customers
        are excluded from every program until they buy again.
        """
        preferred = self._preferred
        query = select(*columns).select_from(Customer)
        if preferred is None:
            return query.where(false())
        query = query.join(
            preferred.reach, preferred.reach.c.customer_id == col(Customer.id)
        ).where(col(Customer.stage) != Stage.LOST)
        if self.customer_ids is not None:
            query = query.where(col(Customer.id).in_(list(self.customer_ids)))
        return query

    @property
    def channel_id(self) -> ColumnElement[Any]:
        """The candidate's preferred consented channel (use within `base`)."""
        preferred = self._preferred
        return null() if preferred is None else preferred.channel_id

    def candidates(self, *columns: Any) -> Select[Any]:
        """`base` with the columns every suggestion row needs, plus `columns`."""
        return self.base(
            col(Customer.id).label("customer_id"),
            col(Customer.owner_id).label("staff_id"),
            col(Customer.stage).label("stage"),
            self.channel_id.label("channel_id"),
            *columns,
        )

    def rows(self, query: Select[Any]) -> Sequence[RowMapping]:
        """The candidate rows of a query built on `candidates`."""
        return self.session.execute(query).mappings().all()

    def priority(self, base: int, stage: str) -> int:
        """The base priority, raised for loyal (VIP) customers, at most 100."""
        boost = self.config.vip_priority_boost if stage == Stage.LOYAL else 0
        return min(100, base + boost)

    def offer_id(self, code: str | None) -> int | None:
        """The id of the active offer with this code; a configured code must exist."""
        if code is None:
            return None
        found = self.session.scalars(
            select(col(Offer.id)).where(col(Offer.code) == code, col(Offer.active).is_(True))
        ).first()
        if found is None:
            raise UnknownOffer(
                f"no active offer has the code {code!r} named in the triggers config"
            )
        return found

    def row(
        self,
        candidate: RowMapping,
        *,
        type: TriggerType,
        reason: str,
        reason_args: dict[str, Any],
        dedupe_key: str,
        base_priority: int,
        offer_id: int | None,
        expires_at: datetime,
    ) -> dict[str, Any]:
        """A suggestion row for a candidate, for its owner, created as of the run."""
        return {
            "customer_id": candidate["customer_id"],
            "staff_id": candidate["staff_id"],
            "type": str(type),
            "reason": clip(reason),
            # Keyed by the trigger type: what domain.triggers.reasons renders it with.
            "reason_key": str(type),
            "reason_args": reason_args,
            "offer_id": offer_id,
            "channel_id": candidate["channel_id"],
            "priority": self.priority(base_priority, candidate["stage"]),
            "status": str(SuggestionStatus.OPEN),
            "dedupe_key": dedupe_key[:200],
            "created_at": self.as_of,
            "expires_at": expires_at,
        }
