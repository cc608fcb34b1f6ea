"""A delivery process killed with SIGKILL loses nothing and never resends what it confirmed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.clock import utcnow
from domain.outbox.delivery import DeliveryConfig, DeliveryCounts, deliver_due
from domain.outbox.models import OutboxMessage, OutboxStatus
from tests.domain.outbox.factories import make_message
from tests.worker.delivery.conftest import SmtpServer
from worker.delivery.smtp import SmtpAdapter, message_id

REPO = Path(__file__).resolve().parents[3]
SENDER = Path(__file__).with_name("sender_process.py")
LEASE = DeliveryConfig().lease


def _queue_two(session: Session) -> tuple[OutboxMessage, OutboxMessage]:
    due = utcnow() - LEASE
    first = make_message(session, adapter="email", next_attempt_at=due, dedupe_key="crash:1")
    second = make_message(session, adapter="email", next_attempt_at=due, dedupe_key="crash:2")
    session.commit()
    return first, second


def _kill_sender_at(
    stage: str, dedupe_key: str, engine: Engine, smtp: SmtpServer, tmp_path: Path
) -> None:
    """Start a real delivery process, wait until it reaches `stage`, then SIGKILL it."""
    marker = tmp_path / "reached"
    url = engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, str(SENDER), url, str(smtp.port), stage, dedupe_key, str(marker)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.communicate()[0].decode(errors="replace")
            pytest.fail(f"the sender never reached {stage}:\n{output}")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


def _state(session: Session, *messages: OutboxMessage) -> list[tuple[str, int]]:
    session.expire_all()
    rows = [session.get(OutboxMessage, m.id) for m in messages]
    return [(row.status, row.attempts) for row in rows if row is not None]


def _received_ids(smtp: SmtpServer) -> list[str]:
    return [str(mail["Message-ID"]) for _, mail in smtp.received]


def _resume(engine: Engine, smtp: SmtpServer, after_lease: bool) -> DeliveryCounts:
    """A new delivery run, now or once the dead sender's lease ran out."""
    at = utcnow() + (LEASE + timedelta(seconds=30) if after_lease else timedelta(0))
    adapter = SmtpAdapter(host=smtp.host, port=smtp.port, sender="news@shop.example")
    return deliver_due(engine=engine, adapters={"email": adapter}, clock=lambda: at)


def test_killed_between_claim_and_send_the_message_goes_out_once_after_the_lease(
    engine: Engine, session: Session, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    first, second = _queue_two(session)
    first_id, second_id = (message_id(k, "shop.example") for k in ("crash:1", "crash:2"))

    _kill_sender_at("before-send", "crash:2", engine, smtp_server, tmp_path)
    after_kill = (_state(session, first, second), _received_ids(smtp_server))
    during_lease = _resume(engine, smtp_server, after_lease=False)
    after_lease = _resume(engine, smtp_server, after_lease=True)

    assert after_kill == ([("sent", 1), ("sending", 1)], [first_id])
    assert during_lease == DeliveryCounts()  # the dead sender's lease still holds the row
    assert after_lease == DeliveryCounts(sent=1)
    assert _received_ids(smtp_server) == [first_id, second_id]  # each exactly once
    assert _state(session, first, second) == [
        (OutboxStatus.SENT, 1),
        (OutboxStatus.SENT, 2),
    ]


def test_killed_between_send_and_confirm_only_the_unconfirmed_message_is_sent_again(
    engine: Engine, session: Session, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    first, second = _queue_two(session)
    first_id, second_id = (message_id(k, "shop.example") for k in ("crash:1", "crash:2"))

    _kill_sender_at("after-send", "crash:2", engine, smtp_server, tmp_path)
    after_kill = (_state(session, first, second), _received_ids(smtp_server))
    after_lease = _resume(engine, smtp_server, after_lease=True)

    assert after_kill == ([("sent", 1), ("sending", 1)], [first_id, second_id])
    assert after_lease == DeliveryCounts(sent=1)
    # At least once: the unconfirmed message goes out again with the same Message-ID, so the
    # mailbox can fold the copies; the confirmed one is never sent twice.
    assert _received_ids(smtp_server) == [first_id, second_id, second_id]
    assert _state(session, first, second) == [
        (OutboxStatus.SENT, 1),
        (OutboxStatus.SENT, 2),
    ]
