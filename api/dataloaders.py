"""Dataloaders, built per request: every list that meets a relation loads it in one query."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlmodel import Session
from strawberry.dataloader import DataLoader

from api.db import Db
from domain.channels.models import Channel
from domain.channels.queries import all_channels
from domain.clock import utcnow
from domain.customers.models import Consent, Customer
from domain.customers.queries import consents_of, customers_by_ids, latest_scores
from domain.events.models import Event
from domain.events.queries import recent_events
from domain.orders.models import Order, OrderLine
from domain.orders.queries import lines_of, recent_orders
from domain.referrals.models import Offer, Referral
from domain.referrals.queries import offers_by_ids, referrals_of
from domain.scoring.models import Score
from domain.staff.models import Staff
from domain.staff.queries import staff_by_ids
from domain.stages.models import StageChange
from domain.stages.queries import history
from domain.suggestions.models import Suggestion
from domain.suggestions.queries import open_for_customers

K = TypeVar("K")
V = TypeVar("V")
# (customer id, how many) keys: one query per distinct `first` asked for in a request.
Window = tuple[int, int]


def _loader(
    db: Db, fetch: Callable[[Session, list[K]], dict[K, V]], default: V
) -> DataLoader[K, V]:
    async def load(keys: list[K]) -> Sequence[V]:
        found = await db.run(lambda session: fetch(session, keys))
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


def _windowed(
    db: Db, fetch: Callable[[Session, list[int], int], dict[int, list[V]]]
) -> DataLoader[Window, list[V]]:
    async def load(keys: list[Window]) -> Sequence[list[V]]:
        by_size: dict[int, list[int]] = defaultdict(list)
        for customer_id, size in keys:
            by_size[size].append(customer_id)

        def fetch_all(session: Session) -> dict[Window, list[V]]:
            found: dict[Window, list[V]] = {}
            for size, ids in by_size.items():
                for customer_id, rows in fetch(session, ids, size).items():
                    found[(customer_id, size)] = rows
            return found

        found = await db.run(fetch_all)
        return [found.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """The request's dataloaders; sales callers see only their own suggestions."""

    def __init__(self, db: Db, suggestions_for_staff: int | None) -> None:
        self.db = db
        self.customer: DataLoader[int, Customer | None] = _loader(
            db, lambda s, ids: dict(customers_by_ids(session=s, ids=ids)), None
        )
        self.staff: DataLoader[int, Staff | None] = _loader(
            db, lambda s, ids: dict(staff_by_ids(session=s, ids=ids)), None
        )
        self.score: DataLoader[int, Score | None] = _loader(
            db, lambda s, ids: dict(latest_scores(session=s, customer_ids=ids)), None
        )
        self.offer: DataLoader[int, Offer | None] = _loader(
            db, lambda s, ids: dict(offers_by_ids(session=s, ids=ids)), None
        )
        empty_suggestions: list[Suggestion] = []
        self.open_suggestions: DataLoader[int, list[Suggestion]] = _loader(
            db,
            lambda s, ids: dict(
                open_for_customers(
                    session=s, customer_ids=ids, as_of=utcnow(), staff_id=suggestions_for_staff
                )
            ),
            empty_suggestions,
        )
        empty_history: list[StageChange] = []
        # One query per customer (in one thread hop): domain.stages has no batch history yet.
        self.stage_history: DataLoader[int, list[StageChange]] = _loader(
            db, lambda s, ids: {i: history(session=s, customer_id=i) for i in ids}, empty_history
        )
        empty_referrals: list[Referral] = []
        self.referrals: DataLoader[int, list[Referral]] = _loader(
            db, lambda s, ids: dict(referrals_of(session=s, referrer_ids=ids)), empty_referrals
        )
        empty_consents: list[Consent] = []
        self.consents: DataLoader[int, list[Consent]] = _loader(
            db, lambda s, ids: dict(consents_of(session=s, customer_ids=ids)), empty_consents
        )
        empty_lines: list[OrderLine] = []
        self.order_lines: DataLoader[int, list[OrderLine]] = _loader(
            db, lambda s, ids: dict(lines_of(session=s, order_ids=ids)), empty_lines
        )
        self.orders: DataLoader[Window, list[Order]] = _windowed(
            db, lambda s, ids, size: recent_orders(session=s, customer_ids=ids, per_customer=size)
        )
        self.events: DataLoader[Window, list[Event]] = _windowed(
            db, lambda s, ids, size: recent_events(session=s, customer_ids=ids, per_customer=size)
        )
        self._channels: dict[int, Channel] | None = None
        self._channels_lock = asyncio.Lock()

    async def channels(self) -> dict[int, Channel]:
        """Every channel by id, read once per request (a small table)."""
        async with self._channels_lock:
            if self._channels is None:
                self._channels = await self.db.run(lambda s: all_channels(session=s))
        return self._channels

    async def channel_code(self, channel_id: int | None) -> str | None:
        """The code of a channel id, if any."""
        if channel_id is None:
            return None
        channel = (await self.channels()).get(channel_id)
        return channel.code if channel else None
