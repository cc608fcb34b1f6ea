"""`lifecycle outbox deliver | list | retry`, in-process and through a real RQ worker on Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner, Result

from cli.outbox import app
from domain.db import get_engine
from domain.outbox.models import OutboxMessage, OutboxStatus
from domain.settings import get_settings
from tests.domain.outbox.factories import NOON, make_message
from tests.worker.delivery.conftest import SmtpServer
from worker.delivery.settings import get_delivery_settings
from worker.queue import DELIVERY, get_queue, redis_connection

REPO = Path(__file__).resolve().parents[3]
# A Redis database of these tests' own, emptied before and after.
REDIS_URL = "redis://127.0.0.1:6379/12"


def _clear_caches() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    for cached in (get_settings, get_engine, get_delivery_settings, redis_connection):
        cached.cache_clear()


@pytest.fixture
def environment(
    engine: Engine, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The command's environment: the test database, the local SMTP server, no Redis."""
    values = {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "REDIS_URL": "",
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_FROM": "news@shop.example",
        "TELEGRAM_TOKEN": "",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    _clear_caches()
    yield values
    _clear_caches()


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _row(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.expire_all()
    row = session.get(OutboxMessage, message.id)
    assert row is not None
    return row


def test_deliver_sends_due_messages_and_prints_the_counts(
    environment: dict[str, str], session: Session, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse.add("gone@example.com")
    make_message(session, adapter="email", recipient="ann@example.com")
    make_message(session, adapter="email", recipient="gone@example.com")
    make_message(session, adapter="log")
    make_message(session, adapter="telegram")  # no token: stays in the outbox
    session.commit()

    result = _invoke("deliver")

    assert result.exit_code == 0, result.output
    assert result.stdout == "sent 2, retried 1, dead 0, cancelled 0, deferred 0\n"
    assert [to for to, _ in smtp_server.received] == [["ann@example.com"]]


def test_list_shows_dead_messages_with_their_error_and_no_address(
    environment: dict[str, str], session: Session
) -> None:
    dead = make_message(
        session,
        adapter="email",
        recipient="gone@example.com",
        status=OutboxStatus.DEAD,
        attempts=5,
        dedupe_key="referral:17:1",
        last_error="smtp 550 5.1.1: recipient refused",
    )
    make_message(session, status=OutboxStatus.SENT, sent_at=NOON)
    session.commit()

    dead_only = _invoke("list", "--status", "dead")
    everything = _invoke("list")

    assert dead_only.exit_code == 0, dead_only.output
    assert dead_only.stdout == (
        f"#{dead.id}  email  dead  attempts 5  next 2026-11-25 12:00:00  -  key referral:17:1"
        "  error: smtp 550 5.1.1: recipient refused\n"
    )
    assert "gone@example.com" not in everything.stdout
    assert len(everything.stdout.splitlines()) == 2
    assert _invoke("list", "--status", "cancelled").stdout == "no messages with status cancelled\n"


def test_retry_moves_a_dead_message_back_and_refuses_others(
    environment: dict[str, str], session: Session
) -> None:
    dead = make_message(session, status=OutboxStatus.DEAD, attempts=5)
    sent = make_message(session, status=OutboxStatus.SENT)
    session.commit()

    retried = _invoke("retry", str(dead.id))
    refused = _invoke("retry", str(sent.id))

    assert (retried.exit_code, retried.stdout) == (
        0,
        f"outbox message #{dead.id} is pending again\n",
    )
    assert refused.exit_code == 2
    assert f"outbox message {sent.id} is sent; only dead messages are retried" in refused.output
    row = _row(session, dead)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)


@pytest.fixture
def redis_db() -> Iterator[Redis]:
    """This module's own Redis database, empty."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    yield redis
    redis.flushdb()
    redis.close()


def test_with_redis_deliver_enqueues_a_job_that_a_worker_runs(
    environment: dict[str, str],
    session: Session,
    smtp_server: SmtpServer,
    redis_db: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    get_settings.cache_clear()
    message = make_message(session, adapter="email", recipient="ann@example.com")
    session.commit()

    result = _invoke("deliver")
    queue = get_queue(DELIVERY, connection=redis_db)
    [job_id] = queue.job_ids
    waiting = _row(session, message).status
    SimpleWorker([queue], connection=redis_db).work(burst=True)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"delivery job {job_id} enqueued on 'delivery'\n"
    assert waiting == OutboxStatus.PENDING
    assert queue.fetch_job(job_id).return_value() == {  # type: ignore[union-attr]
        "sent": 1,
        "retried": 0,
        "dead": 0,
        "cancelled": 0,
        "deferred": 0,
    }
    assert _row(session, message).status == OutboxStatus.SENT
    assert [to for to, _ in smtp_server.received] == [["ann@example.com"]]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["int", "term"])
def test_deliver_loop_keeps_sending_until_told_to_stop(
    environment: dict[str, str],
    session: Session,
    smtp_server: SmtpServer,
    stop_signal: signal.Signals,
) -> None:
    make_message(session, adapter="log")
    session.commit()
    command = "from cli.outbox import app; app()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "deliver", "--loop", "--interval", "0.2"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline(), process.stdout.readline()]
    make_message(session, adapter="email", recipient="late@example.com")
    session.commit()
    lines.append(process.stdout.readline())
    process.send_signal(stop_signal)
    rest = process.communicate(timeout=30)[0]

    assert process.returncode == 0
    assert lines == [
        "delivering every 0.2s; Ctrl-C stops\n",
        "sent 1, retried 0, dead 0, cancelled 0, deferred 0\n",
        "sent 1, retried 0, dead 0, cancelled 0, deferred 0\n",
    ]
    assert rest == "stopped; in total sent 2, retried 0, dead 0, cancelled 0, deferred 0\n"
    assert [to for to, _ in smtp_server.received] == [["late@example.com"]]
