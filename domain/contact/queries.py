"""Loading the contact policy's facts set-wise: a few queries per batch of customers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from datetime import datetime
from itertools import islice

from sqlalchemy import select
from sqlmodel import Session, col

from domain.channels.models import Channel
from domain.contact.config import ContactPolicyConfig
from domain.contact.errors import UnknownChannel
from domain.contact.models import ContactLog, ContactOutcome
from domain.contact.policy import ChannelFacts, ConsentFacts, CustomerFacts, SentTouch
from domain.customers.models import Consent, Customer

# Keeps IN lists well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 2000


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    iterator = iter(sorted(set(ids)))
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def channel_facts(session: Session, code: str) -> ChannelFacts:
    """The channel with this code, or UnknownChannel."""
    row = session.scalars(select(Channel).where(col(Channel.code) == code)).first()
    if row is None or row.id is None:
        raise UnknownChannel(code)
    return ChannelFacts(id=row.id, code=row.code, name=row.name, contactable=row.contactable)


def all_channel_facts(session: Session) -> dict[str, ChannelFacts]:
    """Every channel by code (a small table)."""
    return {
        row.code: ChannelFacts(id=row.id, code=row.code, name=row.name, contactable=row.contactable)
        for row in session.scalars(select(Channel))
        if row.id is not None
    }


def customer_facts(
    session: Session,
    customer_ids: Collection[int],
    *,
    at: datetime,
    config: ContactPolicyConfig,
) -> dict[int, CustomerFacts]:
    """Customers with their consents and marketing touches recent enough to matter at `at`.

    Touches booked after `at` (a message held back by quiet hours) are included: they
    still count toward the cap and collide.
    """
    since = at - max(config.cap_window, config.collision_window)
    consents: dict[int, dict[int, ConsentFacts]] = defaultdict(dict)
    touches: dict[int, list[SentTouch]] = defaultdict(list)
    people: list[tuple[int, str | None, str, str | None, str | None, str | None]] = []
    for chunk in _chunks(customer_ids):
        people.extend(
            session.execute(
                select(
                    col(Customer.id),
                    col(Customer.name),
                    col(Customer.stage),
                    col(Customer.timezone),
                    col(Customer.email),
                    col(Customer.phone),
                ).where(col(Customer.id).in_(chunk))
            )
        )
        for customer_id, channel_id, granted, changed_at in session.execute(
            select(
                col(Consent.customer_id),
                col(Consent.channel_id),
                col(Consent.granted),
                col(Consent.updated_at),
            ).where(col(Consent.customer_id).in_(chunk))
        ):
            consents[customer_id][channel_id] = ConsentFacts(granted, changed_at)
        for customer_id, touch_at, kind, priority in session.execute(
            select(
                col(ContactLog.customer_id),
                col(ContactLog.at),
                col(ContactLog.kind),
                col(ContactLog.priority),
            )
            .where(col(ContactLog.customer_id).in_(chunk))
            .where(col(ContactLog.outcome) == ContactOutcome.SENT)
            .where(col(ContactLog.kind).in_(config.marketing_kinds))
            .where(col(ContactLog.at) > since)
        ):
            touches[customer_id].append(SentTouch(touch_at, kind, priority))
    return {
        customer_id: CustomerFacts(
            id=customer_id,
            name=name,
            stage=stage,
            timezone=timezone,
            email=email,
            phone=phone,
            consents=consents[customer_id],
            touches=tuple(sorted(touches[customer_id], key=lambda t: t.at)),
        )
        for customer_id, name, stage, timezone, email, phone in people
    }
