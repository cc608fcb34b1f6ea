"""The log adapter: one structured line per message, nothing that identifies the person."""

from __future__ import annotations

import logging

import pytest

from domain.outbox.delivery import Outgoing, Receipt
from worker.delivery.log import LogAdapter, key_hash


def test_a_logged_message_counts_as_delivered_and_names_no_person(
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = Outgoing(
        id=42,
        adapter="log",
        recipient="+15550001234",
        subject="Ann, come back",
        body="Dear Ann Example, 20% off",
        dedupe_key="reactivation:17:2026-11-25",
        attempt=2,
        payload={"channel": "sms", "kind": "reactivation", "offer_code": "BACK20"},
        customer_id=17,
    )

    with caplog.at_level(logging.INFO, logger="lifecycle.outbox.log"):
        receipt = LogAdapter().send(message)

    [record] = caplog.records
    fields = {
        name: getattr(record, name)
        for name in ("event", "outbox_id", "channel", "kind", "attempt", "key", "body_chars")
    }
    assert receipt == Receipt(f"log:{key_hash('reactivation:17:2026-11-25')}")
    assert fields == {
        "event": "outbox.delivered",
        "outbox_id": 42,
        "channel": "sms",
        "kind": "reactivation",
        "attempt": 2,
        "key": key_hash("reactivation:17:2026-11-25"),
        "body_chars": 25,
    }
    everything = str(record.__dict__)
    for personal in ("+15550001234", "Ann", "reactivation:17"):
        assert personal not in everything
