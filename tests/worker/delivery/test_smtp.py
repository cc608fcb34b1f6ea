"""Email through a real local SMTP server (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.outbox.delivery import DeliveryConfig, DeliveryCounts, Outgoing, deliver_due
from domain.outbox.models import OutboxMessage, OutboxStatus
from tests.domain.outbox.factories import NOON, make_message
from tests.worker.delivery.conftest import SmtpServer, free_port
from worker.delivery.smtp import SmtpAdapter, message_id

CONFIG = DeliveryConfig(max_attempts=3, backoff_base=timedelta(minutes=1), jitter=0.0)


def _adapter(server: SmtpServer) -> SmtpAdapter:
    return SmtpAdapter(host=server.host, port=server.port, sender="Shop <news@shop.example>")


def _run(engine: Engine, server: SmtpServer, at: datetime = NOON) -> DeliveryCounts:
    return deliver_due(
        engine=engine,
        adapters={"email": _adapter(server)},
        config=CONFIG,
        clock=lambda: at,
        rng=random.Random(0),
    )


def _row(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert row is not None
    return row


def test_the_email_arrives_with_subject_body_recipient_and_message_id(
    engine: Engine, session: Session, smtp_server: SmtpServer
) -> None:
    message = make_message(
        session,
        adapter="email",
        recipient="ann@example.com",
        subject="Your gift: 10% off",
        body="Hello Ann,\nyour code is GIFT10.\n",
        dedupe_key="referral:17:2026-11-25",
    )
    session.commit()

    counts = _run(engine, smtp_server)

    [(envelope_to, mail)] = smtp_server.received
    expected_id = message_id("referral:17:2026-11-25", "shop.example")
    assert counts == DeliveryCounts(sent=1)
    assert envelope_to == ["ann@example.com"]
    assert (mail["To"], mail["From"], mail["Subject"], mail["Message-ID"]) == (
        "ann@example.com",
        "Shop <news@shop.example>",
        "Your gift: 10% off",
        expected_id,
    )
    # SMTP carries lines ending in CRLF.
    assert mail.get_content() == "Hello Ann,\r\nyour code is GIFT10.\r\n"
    row = _row(session, message)
    assert (row.status, row.provider_message_id) == (OutboxStatus.SENT, expected_id)


def test_the_message_id_is_a_stable_function_of_the_dedupe_key() -> None:
    first = message_id("referral:17:2026-11-25", "shop.example")

    assert first == message_id("referral:17:2026-11-25", "shop.example")
    assert first != message_id("referral:17:2026-11-26", "shop.example")
    local, _, domain = first.strip("<>").partition("@")
    assert (len(local), set(local) <= set("0123456789abcdef"), domain) == (32, True, "shop.example")


def test_a_refusing_server_means_retries_with_backoff_then_dead(
    engine: Engine, session: Session, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse.add("gone@example.com")
    message = make_message(session, adapter="email", recipient="gone@example.com")
    session.commit()

    runs = [
        _run(engine, smtp_server, at=NOON),
        _run(engine, smtp_server, at=NOON + timedelta(minutes=1)),
        _run(engine, smtp_server, at=NOON + timedelta(minutes=3)),
    ]

    row = _row(session, message)
    assert runs == [DeliveryCounts(retried=1), DeliveryCounts(retried=1), DeliveryCounts(dead=1)]
    assert smtp_server.received == []
    # The server's reply quotes the address; the stored error keeps only the codes.
    assert (row.status, row.attempts, row.last_error) == (
        OutboxStatus.DEAD,
        3,
        "smtp 550 5.1.1: recipient refused",
    )


def test_no_server_listening_is_a_retryable_connection_failure(
    engine: Engine, session: Session
) -> None:
    message = make_message(session, adapter="email")
    session.commit()
    nobody = SmtpServer("127.0.0.1", free_port())

    counts = _run(engine, nobody)

    row = _row(session, message)
    assert counts == DeliveryCounts(retried=1)
    assert (row.status, row.last_error, row.next_attempt_at) == (
        OutboxStatus.PENDING,
        "smtp connection failed: ConnectionRefusedError",
        NOON + timedelta(minutes=1),
    )


def test_the_message_id_domain_defaults_to_the_senders_domain() -> None:
    outgoing = Outgoing(
        id=1,
        adapter="email",
        recipient="a@b.example",
        subject="s",
        body="b",
        dedupe_key="k",
        attempt=1,
    )

    plain = SmtpAdapter(host="127.0.0.1", port=25, sender="news@shop.example").build(outgoing)
    chosen = SmtpAdapter(
        host="127.0.0.1", port=25, sender="news@shop.example", message_id_domain="mail.example"
    ).build(outgoing)

    assert plain["Message-ID"] == message_id("k", "shop.example")
    assert chosen["Message-ID"] == message_id("k", "mail.example")
