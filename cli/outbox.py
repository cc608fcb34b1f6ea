"""`lifecycle outbox ...`: deliver queued messages, list them, bring dead ones back."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType

import typer
from rq.exceptions import InvalidJobOperation
from rq.job import Job, JobStatus

from cli.output import console, fail
from domain.clock import utcnow
from domain.db import unit_of_work
from domain.outbox.delivery import OutboxError, list_messages, retry_dead
from domain.outbox.models import OutboxMessage, OutboxStatus
from worker.jobs.delivery import deliver_pending
from worker.queue import DELIVERY, enqueue, queues_enabled

app = typer.Typer(
    help="The outbox: messages waiting to go out, and their delivery.", no_args_is_help=True
)

COUNTED = ("sent", "retried", "dead", "cancelled", "deferred")
# Job states in which an enqueued delivery has not finished yet.
UNFINISHED = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


@app.command("deliver")
def deliver(
    loop: bool = typer.Option(False, "--loop", help="keep delivering until interrupted"),
    interval: float = typer.Option(10.0, min=0.1, help="seconds between passes with --loop"),
    batch_size: int | None = typer.Option(None, min=1, help="messages per claim"),
    in_process: bool = typer.Option(
        False, "--in-process", help="deliver here even when REDIS_URL is set"
    ),
) -> None:
    """Send due messages: here without Redis (the embedded default), else as a delivery job."""
    here = in_process or not queues_enabled()
    if not loop:
        if here:
            console.print(_counts_line(deliver_pending(batch_size)), highlight=False)
        else:
            _enqueue(batch_size)
        return
    console.print(f"delivering every {interval:g}s; Ctrl-C stops", highlight=False)
    totals = dict.fromkeys(COUNTED, 0)
    job: Job | None = None
    with _stop_on_signal() as stop:
        while not stop.requested:
            if here:
                counts = deliver_pending(batch_size)
                for name in COUNTED:
                    totals[name] += counts[name]
                if any(counts.values()):
                    console.print(_counts_line(counts), highlight=False)
            elif not _running(job):
                job = _enqueue(batch_size)
            stop.sleep(interval)
    if here:
        console.print(f"stopped; in total {_counts_line(totals)}", highlight=False)


def _enqueue(batch_size: int | None) -> Job:
    job = enqueue(deliver_pending, batch_size, queue=DELIVERY)
    assert job is not None, "enqueue runs jobs in-process only without Redis"
    console.print(f"delivery job {job.id} enqueued on '{DELIVERY}'", highlight=False)
    return job


class _Stop:
    """Set by the first Ctrl-C or SIGTERM, so the pass under way finishes its messages."""

    requested = False

    def sleep(self, seconds: float) -> None:
        """Wait up to `seconds`, waking early once a stop is requested."""
        deadline = time.monotonic() + seconds
        while not self.requested and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


@contextmanager
def _stop_on_signal() -> Iterator[_Stop]:
    """A stop request set by a signal; a second signal acts as usual (interrupts at once)."""
    stop = _Stop()
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.requested = True
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    for sig in signals:
        signal.signal(sig, request_stop)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _running(job: Job | None) -> bool:
    """Whether the last enqueued delivery job is still waiting or running (so skip a pass)."""
    if job is None:
        return False
    try:
        return job.get_status(refresh=True) in UNFINISHED
    except InvalidJobOperation:  # its record expired: it finished long ago
        return False


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {counts[name]}" for name in COUNTED)


@app.command("list")
def list_command(
    status: OutboxStatus | None = typer.Option(None, help="only messages with this status"),
    limit: int = typer.Option(50, min=1, max=1000, help="newest first, at most this many"),
) -> None:
    """Show outbox messages (no addresses or bodies): status, attempts, last error."""
    with unit_of_work() as session:
        rows = list_messages(session=session, status=status, limit=limit)
    if not rows:
        console.print("no messages" + (f" with status {status}" if status else ""))
        return
    for row in rows:
        console.print(_row_line(row), highlight=False, soft_wrap=True)


def _row_line(row: OutboxMessage) -> str:
    who = "-"
    if row.customer_id is not None:
        who = f"customer {row.customer_id}"
    elif row.staff_id is not None:
        who = f"staff {row.staff_id}"
    when = f"sent {_time(row.sent_at)}" if row.sent_at else f"next {_time(row.next_attempt_at)}"
    parts = [f"#{row.id}", row.adapter, row.status, f"attempts {row.attempts}", when, who]
    parts.append(f"key {row.dedupe_key}")
    if row.last_error:
        parts.append(f"error: {row.last_error}")
    return "  ".join(parts)


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


@app.command("retry")
def retry(message_id: int = typer.Argument(..., help="id shown by `outbox list`")) -> None:
    """Move a dead message back to pending, with fresh attempts, due now."""
    try:
        with unit_of_work() as session:
            retry_dead(session=session, message_id=message_id, now=utcnow())
    except OutboxError as exc:
        fail(str(exc))
    console.print(f"outbox message #{message_id} is pending again", highlight=False)
