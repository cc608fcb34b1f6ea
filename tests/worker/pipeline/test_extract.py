"""One shard's history, read from SQLite and PostgreSQL into the same arrays."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.contact.models import ContactLog, ContactOutcome
from domain.orders.models import OrderKind, OrderStatus
from tests.factories import channel, make_customer, make_event, make_order, make_product
from worker.pipeline.catalog import load_catalog
from worker.pipeline.extract import load_shard, pack_shard, snapshot, unpack_shard

AS_OF = datetime(2024, 2, 1, tzinfo=UTC)
JAN_10_NOON = 19732.5  # days since 1970 of 2024-01-10T12:00Z


def _at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 1, day, hour, tzinfo=UTC)


def _business(session: Session) -> tuple[list[int], list[int]]:
    web, app, sms = (channel(session, code) for code in ("web", "app", "sms"))
    shoes = make_product(session)
    socks = make_product(session, active=False)
    ann = make_customer(session, acquisition_channel_id=web.id)
    bob = make_customer(session)
    cat = make_customer(session, acquisition_channel_id=sms.id)
    sale = make_order(session, ann, at=_at(10, 12), total_minor=1000, products=[shoes, socks])
    make_order(session, ann, at=_at(12), total_minor=-300, kind=OrderKind.RETURN)
    make_order(session, bob, at=_at(3), total_minor=800, status=OrderStatus.CANCELLED)
    make_order(session, bob, at=AS_OF, total_minor=900, products=[shoes])  # not before as-of
    make_event(session, ann, "visit", at=_at(5, 6), channel_id=web.id)
    make_event(session, bob, "signup", at=_at(6), channel_id=app.id)
    make_event(session, cat, "email_open", at=_at(7))
    assert cat.id is not None and sms.id is not None
    for outcome, day in ((ContactOutcome.SENT, 20), (ContactOutcome.BLOCKED, 21)):
        session.add(
            ContactLog(
                customer_id=cat.id, channel_id=sms.id, kind="campaign", outcome=outcome, at=_at(day)
            )
        )
    session.commit()
    ids = [c.id for c in (ann, bob, cat)]
    assert None not in ids and sale.id is not None
    return [int(i) for i in ids if i is not None], [int(sale.id)]


def test_a_shard_reads_as_flat_arrays_before_the_as_of_moment(
    engine: Engine, session: Session
) -> None:
    (ann, bob, cat), (sale,) = _business(session)
    with engine.connect() as connection:
        catalog = load_catalog(connection)
    with snapshot(engine) as connection:
        data = load_shard(connection, lo=ann, hi=cat, as_of=AS_OF, catalog=catalog)

    codes = catalog.channel_codes
    assert data.customer_ids.tolist() == [ann, bob, cat]
    assert data.acquisition.tolist() == [codes.index("web"), -1, codes.index("sms")]
    assert data.tx.customer.tolist() == [0, 0]
    assert np.allclose(data.tx.t, [JAN_10_NOON, JAN_10_NOON + 1.5], rtol=0, atol=1e-6)
    assert data.tx.amount.tolist() == [1000.0, -300.0]
    assert (data.lines.customer.tolist(), data.lines.order.tolist()) == ([0, 0], [sale, sale])
    assert (data.lines.item.tolist(), data.lines.n_items) == ([0, 1], 2)
    assert catalog.active.tolist() == [True, False]
    # Signups are not engagement; an event without a channel reaches no channel.
    assert data.events.customer.tolist() == [0, 2]
    assert data.touches.customer.tolist() == [0, 1, 2]
    assert [codes[c] for c in data.touches.channel.tolist()] == ["web", "app", "sms"]
    assert np.allclose(data.touches.t, [JAN_10_NOON - 5.25, JAN_10_NOON - 4.5, JAN_10_NOON + 9.5])


def test_a_shard_covers_only_its_id_range(engine: Engine, session: Session) -> None:
    (_, bob, cat), _ = _business(session)
    with engine.connect() as connection:
        catalog = load_catalog(connection)
    with snapshot(engine) as connection:
        data = load_shard(connection, lo=bob, hi=cat, as_of=AS_OF, catalog=catalog)

    assert data.customer_ids.tolist() == [bob, cat]
    assert (data.tx.t.size, data.lines.t.size) == (0, 0)
    assert data.events.customer.tolist() == [1]
    assert data.touches.customer.tolist() == [0, 1]


def test_a_packed_shard_comes_back_unchanged(engine: Engine, session: Session) -> None:
    (ann, _, cat), _ = _business(session)
    with engine.connect() as connection:
        catalog = load_catalog(connection)
    with snapshot(engine) as connection:
        data = load_shard(connection, lo=ann, hi=cat, as_of=AS_OF, catalog=catalog)

    again = unpack_shard(pack_shard(data))

    for name in ("customer_ids", "acquisition"):
        assert np.array_equal(getattr(again, name), getattr(data, name))
    for part in ("tx", "lines", "events", "touches"):
        before, after = getattr(data, part), getattr(again, part)
        for field in before.__dataclass_fields__:
            value = getattr(before, field)
            if isinstance(value, np.ndarray):
                assert np.array_equal(getattr(after, field), value)
                assert getattr(after, field).dtype == value.dtype
            else:
                assert getattr(after, field) == value
