"""Delivering the outbox: claim due rows, send them through adapters, record what happened.

At least once, never silently lost: a sender claims due rows (status `sending`, a lease written
into next_attempt_at) and commits before any adapter sends; it marks a row `sent` in another
transaction after the adapter confirmed. A sender killed in between leaves the row `sending`;
once the lease runs out another sender claims it again. So a message whose send was confirmed
is never sent again, and one whose confirmation was lost may go out twice: the dedupe key
travels with it so the channel (or the recipient's client) can recognise the repeat.

Each step is its own short transaction, on purpose: holding one open across a network call
would keep rows locked (and SQLite's single writer busy) for as long as the slowest server.
Transports live outside the domain; they are passed in as `Adapter`s keyed by the row's
`adapter` column. Reasons stored in last_error and logged come from adapters and from this
module only, and never hold an address, a body or a secret.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, cast

from sqlalchemy import Table, and_, case, or_, update
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, select

from domain.clock import as_utc, utcnow
from domain.contact.errors import ContactError
from domain.contact.models import ContactLog, ContactOutcome
from domain.contact.policy import TIMED_REASONS
from domain.contact.service import check
from domain.db import is_postgres, unit_of_work
from domain.outbox.models import OutboxMessage, OutboxStatus
from domain.staff.models import Staff

logger = logging.getLogger("lifecycle.outbox")

OUTBOX = cast(Table, OutboxMessage.__table__)  # type: ignore[attr-defined]
# The channel whose consent a customer message needs when its payload names none.
ADAPTER_CHANNELS = {"email": "email", "telegram": "messaging"}


@dataclass(frozen=True)
class DeliveryConfig:
    """How hard to try: attempts before dead-letter, backoff between them, the claim lease."""

    max_attempts: int = 5
    lease: timedelta = timedelta(minutes=5)
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_max: timedelta = timedelta(hours=6)
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.lease <= timedelta(0) or self.backoff_base <= timedelta(0):
            raise ValueError("lease and backoff_base must be positive")
        if self.backoff_max < self.backoff_base:
            raise ValueError("backoff_max must not be shorter than backoff_base")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be a fraction in [0, 1)")


@dataclass(frozen=True)
class Outgoing:
    """A claimed message as an adapter sees it: plain values, no database session."""

    id: int
    adapter: str
    recipient: str
    subject: str
    body: str
    dedupe_key: str
    attempt: int
    payload: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    staff_id: int | None = None


@dataclass(frozen=True)
class Receipt:
    """What the transport said when it accepted a message."""

    provider_message_id: str | None = None


class Adapter(Protocol):
    """A transport: sends one message or raises DeliveryFailure."""

    def send(self, message: Outgoing) -> Receipt:
        """Hand the message to the channel and return its receipt."""
        ...


class DeliveryFailure(Exception):
    """A send that did not happen; `reason` is stored and logged, so it names no person."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class RateLimited(DeliveryFailure):
    """The channel asked us to wait; not the message's fault, so it costs no attempt."""

    def __init__(self, reason: str, *, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class OutboxError(Exception):
    """An admin request on the outbox that cannot be carried out."""


class MessageNotFound(OutboxError):
    """No outbox row has the given id."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"no outbox message with id {message_id}")
        self.message_id = message_id


class NotDead(OutboxError):
    """Only dead messages can be moved back to pending."""

    def __init__(self, message_id: int, status: str) -> None:
        super().__init__(f"outbox message {message_id} is {status}; only dead messages are retried")
        self.message_id = message_id
        self.status = status


class Outcome(StrEnum):
    """What one delivery attempt ended in."""

    SENT = "sent"
    RETRIED = "retried"
    DEAD = "dead"
    CANCELLED = "cancelled"
    DEFERRED = "deferred"


@dataclass
class DeliveryCounts:
    """How a delivery run ended, per outcome."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    deferred: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one more message with this outcome."""
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def __iadd__(self, other: DeliveryCounts) -> DeliveryCounts:
        for outcome in Outcome:
            setattr(self, outcome.value, getattr(self, outcome.value) + getattr(other, outcome))
        return self

    @property
    def total(self) -> int:
        """Messages handled, whatever the outcome."""
        return self.sent + self.retried + self.dead + self.cancelled + self.deferred


@dataclass(frozen=True)
class Hold:
    """Why a claimed customer message must not go out: for good, or until retry_at."""

    code: str
    detail: str
    retry_at: datetime | None = None


def backoff(attempt: int, config: DeliveryConfig, rng: random.Random) -> timedelta:
    """The wait after failed attempt number `attempt`: doubling from the base, capped, jittered.

    The jitter spreads retries of messages that failed together (a server restart) so they
    do not all come back in the same second.
    """
    doubled = config.backoff_base * (2 ** min(attempt - 1, 32))
    delay = min(doubled, config.backoff_max)
    return delay * (1 + rng.uniform(-config.jitter, config.jitter))


def bury_expired(
    *, session: Session, adapters: Collection[str], now: datetime, config: DeliveryConfig
) -> int:
    """Dead-letter rows whose senders died `max_attempts` times before confirming."""
    result = _execute(
        session,
        update(OUTBOX)
        .where(
            OUTBOX.c.status == OutboxStatus.SENDING,
            OUTBOX.c.next_attempt_at <= as_utc(now),
            OUTBOX.c.attempts >= config.max_attempts,
            OUTBOX.c.adapter.in_(list(adapters)),
        )
        .values(
            status=OutboxStatus.DEAD,
            last_error=f"no sender confirmed it in {config.max_attempts} attempts (lease expired)",
        ),
    )
    return int(result.rowcount)


def claim_due(
    *,
    session: Session,
    adapters: Collection[str],
    now: datetime,
    limit: int,
    config: DeliveryConfig,
) -> list[Outgoing]:
    """Take up to `limit` due rows for these adapters: status sending, leased, one more attempt.

    Due means pending with next_attempt_at reached, or sending with its lease run out (its
    sender died). One UPDATE ... RETURNING does it: on PostgreSQL its row choice is
    `FOR UPDATE SKIP LOCKED`, so concurrent senders take disjoint rows without waiting; on
    SQLite the UPDATE takes the single writer lock until commit, so a second sender waits
    and then sees the rows already taken.
    """
    now = as_utc(now)
    expired = and_(OUTBOX.c.status == OutboxStatus.SENDING, OUTBOX.c.attempts < config.max_attempts)
    due = (
        select(OUTBOX.c.id)
        .where(
            or_(OUTBOX.c.status == OutboxStatus.PENDING, expired),
            OUTBOX.c.next_attempt_at <= now,
            OUTBOX.c.adapter.in_(list(adapters)),
        )
        .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # PostgreSQL: a CTE that locks rows runs exactly once, so skipped rows stay skipped.
    # SQLite: a statement starting with UPDATE (not WITH) is what makes Python's sqlite3 open
    # the transaction, and with it the single writer lock, before the statement runs.
    chosen = select(due.cte("due").c.id) if is_postgres(session) else due
    statement = (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(chosen))
        .values(
            status=OutboxStatus.SENDING,
            attempts=OUTBOX.c.attempts + 1,
            next_attempt_at=now + config.lease,
            # A row taken over from a dead sender says so until this attempt ends.
            last_error=case(
                (
                    OUTBOX.c.status == OutboxStatus.SENDING,
                    "previous sender stopped (lease expired)",
                ),
                else_=OUTBOX.c.last_error,
            ),
        )
        .returning(
            OUTBOX.c.id,
            OUTBOX.c.adapter,
            OUTBOX.c.recipient,
            OUTBOX.c.subject,
            OUTBOX.c.body,
            OUTBOX.c.dedupe_key,
            OUTBOX.c.attempts,
            OUTBOX.c.payload,
            OUTBOX.c.customer_id,
            OUTBOX.c.staff_id,
        )
    )
    claimed = [
        Outgoing(
            id=row.id,
            adapter=row.adapter,
            recipient=row.recipient,
            subject=row.subject,
            body=row.body,
            dedupe_key=row.dedupe_key,
            attempt=row.attempts,
            payload=dict(row.payload or {}),
            customer_id=row.customer_id,
            staff_id=row.staff_id,
        )
        for row in session.execute(statement)
    ]
    return sorted(claimed, key=lambda message: message.id)


def prepare(*, session: Session, message: Outgoing, at: datetime) -> Outgoing | Hold:
    """Re-check a claimed message just before it goes out.

    A customer message passes the contact policy as a transactional touch (consent, address,
    contactable channel, not quiet hours or caps: those were applied when it was queued, and
    its own contact-log row would count against the cap). A staff message over Telegram goes
    to the staff member's current Telegram id.
    """
    if message.customer_id is not None:
        return _customer_check(session, message, at)
    if message.staff_id is not None and message.adapter == "telegram":
        staff = session.get(Staff, message.staff_id)
        if staff is not None and not staff.active:
            return Hold("staff_inactive", "the staff member is no longer active")
        if staff is None or staff.telegram_user_id is None:
            raise DeliveryFailure("staff member has no linked Telegram account", permanent=True)
        return replace(message, recipient=str(staff.telegram_user_id))
    return message


def _customer_check(session: Session, message: Outgoing, at: datetime) -> Outgoing | Hold:
    assert message.customer_id is not None
    channel = message.payload.get("channel") or ADAPTER_CHANNELS.get(message.adapter)
    if not channel:
        return Hold("no_channel", "the message names no channel whose consent it needs")
    try:
        decision = check(
            session=session,
            customer_id=message.customer_id,
            channel_code=str(channel),
            at=at,
            kind="transactional",
        )
    except ContactError as exc:
        # UnknownChannel -> unknown_channel: the error's name is the reason code.
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
        return Hold(code, str(exc))
    if decision.allowed:
        return message
    timed = decision.reason_code in TIMED_REASONS
    return Hold(decision.reason_code.value, decision.reason, decision.retry_at if timed else None)


def mark_sent(*, session: Session, message: Outgoing, receipt: Receipt, at: datetime) -> bool:
    """Record a confirmed send; a row another sender already confirmed is left as it is.

    Not fenced by the attempt: if this sender's lease ran out and another took the row,
    the message still went out, and `sent` is the truth.
    """
    result = _execute(
        session,
        update(OUTBOX)
        .where(OUTBOX.c.id == message.id, OUTBOX.c.status != OutboxStatus.SENT)
        .values(
            status=OutboxStatus.SENT,
            sent_at=as_utc(at),
            provider_message_id=receipt.provider_message_id,
            last_error=None,
        ),
    )
    return result.rowcount == 1


def mark_failed(
    *,
    session: Session,
    message: Outgoing,
    failure: DeliveryFailure,
    now: datetime,
    config: DeliveryConfig,
    rng: random.Random,
) -> Outcome:
    """Schedule the next attempt with backoff, or dead-letter after the last one.

    Fenced by the attempt number, so a sender whose lease ran out cannot overwrite the state
    written by the sender that took the row over.
    """
    dead = failure.permanent or message.attempt >= config.max_attempts
    values: dict[str, Any] = {"last_error": _error_text(failure.reason)}
    if dead:
        values["status"] = OutboxStatus.DEAD
    else:
        values["status"] = OutboxStatus.PENDING
        values["next_attempt_at"] = as_utc(now) + backoff(message.attempt, config, rng)
    changed = _update_claimed(session, message, values)
    outcome = Outcome.DEAD if dead else Outcome.RETRIED
    if changed:
        reason = values["last_error"]
        logger.warning(
            "outbox message %s attempt %s %s: %s", message.id, message.attempt, outcome, reason
        )
    return outcome


def release(*, session: Session, message: Outgoing, until: datetime, reason: str) -> bool:
    """Put a claimed row back to pending until `until`, giving its attempt back."""
    values = {
        "status": OutboxStatus.PENDING,
        "attempts": message.attempt - 1,
        "next_attempt_at": as_utc(until),
        "last_error": _error_text(reason),
    }
    return _update_claimed(session, message, values)


def hold_back(*, session: Session, message: Outgoing, held: Hold) -> Outcome:
    """Defer a held-back message to when the policy allows it, or cancel it.

    A cancelled message's contact-log touch becomes `blocked` with the reason, so the log
    tells what really happened and the touch no longer counts against the cap.
    """
    if held.retry_at is not None:
        release(session=session, message=message, until=held.retry_at, reason=held.code)
        return Outcome.DEFERRED
    cancelled = _update_claimed(
        session,
        message,
        {"status": OutboxStatus.CANCELLED, "last_error": f"not sent: {held.code}"},
    )
    if cancelled:
        _execute(
            session,
            update(ContactLog)
            .where(
                col(ContactLog.outbox_id) == message.id,
                col(ContactLog.outcome) == ContactOutcome.SENT,
            )
            .values(
                outcome=ContactOutcome.BLOCKED,
                reason=f"not delivered: {held.detail}"[:300],
                reason_code=held.code[:30],
            )
            .execution_options(synchronize_session=False),
        )
        logger.info("outbox message %s cancelled: %s", message.id, held.code)
    return Outcome.CANCELLED


def _update_claimed(session: Session, message: Outgoing, values: dict[str, Any]) -> bool:
    result = _execute(
        session,
        update(OUTBOX)
        .where(
            OUTBOX.c.id == message.id,
            OUTBOX.c.status == OutboxStatus.SENDING,
            OUTBOX.c.attempts == message.attempt,
        )
        .values(**values),
    )
    return result.rowcount == 1


def _execute(session: Session, statement: Any) -> CursorResult[Any]:
    return cast(CursorResult[Any], session.execute(statement))


def _error_text(reason: str) -> str:
    return reason[:500]


def deliver_due(
    *,
    engine: Engine,
    adapters: Mapping[str, Adapter],
    batch_size: int = 100,
    config: DeliveryConfig | None = None,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> DeliveryCounts:
    """Claim one batch of due messages for these adapters and deliver each; commit per step."""
    config = config or DeliveryConfig()
    rng = rng or random.Random()
    counts = DeliveryCounts()
    with unit_of_work(engine) as session:
        now = clock()
        counts.dead += bury_expired(session=session, adapters=adapters, now=now, config=config)
        claimed = claim_due(
            session=session, adapters=adapters, now=now, limit=batch_size, config=config
        )
    # An adapter that asked us to wait gets no more messages from this batch: they go back
    # to pending until the wait is over, without losing an attempt.
    paused: dict[str, tuple[datetime, str]] = {}
    for message in claimed:
        if message.adapter not in paused:
            outcome = _deliver_one(engine, adapters[message.adapter], message, config, clock, rng)
            if not isinstance(outcome, RateLimited):
                counts.add(outcome)
                continue
            wait = timedelta(seconds=outcome.retry_after)
            paused[message.adapter] = (clock() + wait, outcome.reason)
        until, reason = paused[message.adapter]
        with unit_of_work(engine) as session:
            release(session=session, message=message, until=until, reason=reason)
        counts.add(Outcome.DEFERRED)
    return counts


def _deliver_one(
    engine: Engine,
    adapter: Adapter,
    message: Outgoing,
    config: DeliveryConfig,
    clock: Callable[[], datetime],
    rng: random.Random,
) -> Outcome | RateLimited:
    # Database errors propagate: the row keeps its lease and is retried after it, without
    # spending an attempt on an outage that is not the message's fault.
    try:
        with unit_of_work(engine) as session:
            ready = prepare(session=session, message=message, at=clock())
    except DeliveryFailure as failure:
        return _failed(engine, message, failure, config, clock, rng)
    if isinstance(ready, Hold):
        with unit_of_work(engine) as session:
            return hold_back(session=session, message=message, held=ready)
    try:
        receipt = adapter.send(ready)
    except RateLimited as limited:
        return limited
    except DeliveryFailure as failure:
        return _failed(engine, message, failure, config, clock, rng)
    except Exception as exc:
        # Only the type: an exception's text may quote an address or a server's reply.
        unexpected = DeliveryFailure(f"{message.adapter} adapter error: {type(exc).__name__}")
        return _failed(engine, message, unexpected, config, clock, rng)
    with unit_of_work(engine) as session:
        mark_sent(session=session, message=message, receipt=receipt, at=clock())
    return Outcome.SENT


def _failed(
    engine: Engine,
    message: Outgoing,
    failure: DeliveryFailure,
    config: DeliveryConfig,
    clock: Callable[[], datetime],
    rng: random.Random,
) -> Outcome:
    with unit_of_work(engine) as session:
        return mark_failed(
            session=session, message=message, failure=failure, now=clock(), config=config, rng=rng
        )


def deliver_all(
    *,
    engine: Engine,
    adapters: Mapping[str, Adapter],
    batch_size: int = 100,
    config: DeliveryConfig | None = None,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> DeliveryCounts:
    """Deliver batch after batch until a batch comes back short of `batch_size`.

    It ends: every handled row is either final or scheduled after the moment it was claimed.
    """
    counts = DeliveryCounts()
    while True:
        batch = deliver_due(
            engine=engine,
            adapters=adapters,
            batch_size=batch_size,
            config=config,
            clock=clock,
            rng=rng,
        )
        counts += batch
        if batch.total < batch_size:
            return counts


def list_messages(
    *, session: Session, status: OutboxStatus | str | None = None, limit: int = 50
) -> list[OutboxMessage]:
    """The newest outbox rows, optionally only those with one status (e.g. dead)."""
    query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
    if status is not None:
        query = query.where(col(OutboxMessage.status) == OutboxStatus(status))
    return list(session.exec(query))


def retry_dead(*, session: Session, message_id: int, now: datetime) -> OutboxMessage:
    """Move a dead message back to pending with fresh attempts, due at `now`."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise MessageNotFound(message_id)
    if message.status != OutboxStatus.DEAD:
        raise NotDead(message_id, message.status)
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = as_utc(now)
    session.add(message)
    session.flush()
    return message
