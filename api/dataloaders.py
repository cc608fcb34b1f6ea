"""Dataloaders, built per request: every list that meets a relation loads it in one query."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TypeVar

from sqlmodel import Session
from strawberry.dataloader import DataLoader

from api.db import Db
from domain.catalog.models import Product
from domain.catalog.queries import products_by_ids
from domain.channels.models import Channel
from domain.channels.queries import all_channels
from domain.clock import utcnow
from domain.customers.models import Consent
from domain.customers.queries import (
    CustomerRecord,
    ScoreRecord,
    consents_of,
    customer_rows_by_ids,
    latest_scores,
)
from domain.events.models import Event
from domain.events.queries import recent_events
from domain.orders.models import Order, OrderLine
from domain.orders.queries import lines_of, recent_orders
from domain.referrals.models import Offer, Referral
from domain.referrals.queries import offers_by_ids, referrals_of
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
    """The request's dataloaders, built on first use; sales callers see their own suggestions."""

    def __init__(self, db: Db, suggestions_for_staff: int | None) -> None:
        self.db = db
        self.suggestions_for_staff = suggestions_for_staff
        self._channels: dict[int, Channel] | None = None
        self._channels_lock = asyncio.Lock()

    @cached_property
    def customer(self) -> DataLoader[int, CustomerRecord | None]:
        """Customers by id, as plain rows."""
        return _loader(self.db, lambda s, ids: dict(customer_rows_by_ids(session=s, ids=ids)), None)

    @cached_property
    def product(self) -> DataLoader[int, Product | None]:
        """Catalogue products by id (cross-sell items name only their product)."""
        return _loader(self.db, lambda s, ids: dict(products_by_ids(session=s, ids=ids)), None)

    @cached_property
    def staff(self) -> DataLoader[int, Staff | None]:
        """Staff members by id."""
        return _loader(self.db, lambda s, ids: dict(staff_by_ids(session=s, ids=ids)), None)

    @cached_property
    def score(self) -> DataLoader[int, ScoreRecord | None]:
        """Each customer's latest score, as a plain row."""
        return _loader(
            self.db, lambda s, ids: dict(latest_scores(session=s, customer_ids=ids)), None
        )

    @cached_property
    def offer(self) -> DataLoader[int, Offer | None]:
        """Referral offers by id."""
        return _loader(self.db, lambda s, ids: dict(offers_by_ids(session=s, ids=ids)), None)

    @cached_property
    def open_suggestions(self) -> DataLoader[int, list[Suggestion]]:
        """Each customer's open suggestions (for a sales caller: their own only)."""
        staff_id = self.suggestions_for_staff
        empty: list[Suggestion] = []
        return _loader(
            self.db,
            lambda s, ids: dict(
                open_for_customers(session=s, customer_ids=ids, as_of=utcnow(), staff_id=staff_id)
            ),
            empty,
        )

    @cached_property
    def stage_history(self) -> DataLoader[int, list[StageChange]]:
        """Each customer's stage changes."""
        empty: list[StageChange] = []
        # One query per customer (in one batch): domain.stages has no batch history yet.
        return _loader(
            self.db, lambda s, ids: {i: history(session=s, customer_id=i) for i in ids}, empty
        )

    @cached_property
    def referrals(self) -> DataLoader[int, list[Referral]]:
        """Referrals each customer sent."""
        empty: list[Referral] = []
        return _loader(
            self.db, lambda s, ids: dict(referrals_of(session=s, referrer_ids=ids)), empty
        )

    @cached_property
    def consents(self) -> DataLoader[int, list[Consent]]:
        """Each customer's consent answers."""
        empty: list[Consent] = []
        return _loader(
            self.db, lambda s, ids: dict(consents_of(session=s, customer_ids=ids)), empty
        )

    @cached_property
    def order_lines(self) -> DataLoader[int, list[OrderLine]]:
        """Each order's lines."""
        empty: list[OrderLine] = []
        return _loader(self.db, lambda s, ids: dict(lines_of(session=s, order_ids=ids)), empty)

    @cached_property
    def orders(self) -> DataLoader[Window, list[Order]]:
        """Each customer's latest orders, per window size."""
        return _windowed(
            self.db,
            lambda s, ids, size: recent_orders(session=s, customer_ids=ids, per_customer=size),
        )

    @cached_property
    def events(self) -> DataLoader[Window, list[Event]]:
        """Each customer's latest events, per window size."""
        return _windowed(
            self.db,
            lambda s, ids, size: recent_events(session=s, customer_ids=ids, per_customer=size),
        )

    def release(self) -> None:
        """Drop the loaders built so far, and with them the rows they cached.

        The request's objects refer to each other (context, loaders, futures), so without
        this its rows would wait for the cycle collector instead of being freed at once; on
        a page of 50 customers that collector cost about a tenth of the request.
        """
        for name, attribute in vars(Loaders).items():
            if isinstance(attribute, cached_property):
                self.__dict__.pop(name, None)
        self._channels = None

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
