"""How every mutation runs: role check, idempotent replay, savepoint, typed refusals, audit."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.auth import Principal, Role
from api.context import Info
from api.errors import (
    Conflict,
    ConsentMissing,
    Forbidden,
    NotFound,
    Problem,
    ReferralNotEligible,
    ValidationError,
)
from domain.audit.service import find_replay, record
from domain.contact.errors import UnknownChannel, UnknownCustomer, UnknownTouchKind
from domain.customers.service import CustomerUnknown, ValidationFailed
from domain.referrals.errors import (
    IdempotencyKeyReused,
    NotAReferralOffer,
    UnknownOffer,
    UnknownOrder,
)
from domain.staff.errors import DuplicateStaff, StaffNotFound
from domain.stages.errors import CustomerNotFound
from domain.suggestions.errors import NotYourSuggestion, SuggestionClosed, SuggestionNotFound

R = TypeVar("R")

PROBLEM_TYPES: dict[str, type[Problem]] = {
    cls.__name__: cls
    for cls in (NotFound, ValidationError, Forbidden, Conflict, ReferralNotEligible, ConsentMissing)
}


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """A mutation's answer, and what the audit log keeps of it to replay it."""

    result: R
    record: dict[str, Any] = field(default_factory=dict)
    target_type: str | None = None
    target_id: int | None = None


class Refused(Exception):
    """Raised inside a mutation to undo its writes and answer with a typed refusal."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def problem_record(problem: Problem) -> dict[str, Any]:
    """A refusal as JSON, to answer a retry with the same refusal."""
    values = {k: v for k, v in vars(problem).items() if not k.startswith("_")}
    for name, value in values.items():
        if hasattr(value, "isoformat"):
            values[name] = value.isoformat()
    return {"type": type(problem).__name__, **values}


def problem_from_record(data: dict[str, Any]) -> Problem:
    """The refusal a record stands for."""
    from datetime import datetime

    cls = PROBLEM_TYPES[data["type"]]
    values = {k: v for k, v in data.items() if k != "type"}
    if isinstance(values.get("retry_at"), str):
        values["retry_at"] = datetime.fromisoformat(values["retry_at"])
    return cls(**values)


def camel(field: str) -> str:
    """A domain field name as the API spells it: `lines[2].unit_price` → `lines[2].unitPrice`."""
    return re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), field)


def expected_problem(exc: Exception) -> Problem | None:
    """The typed refusal for a domain error the caller can act on, or None if unexpected."""
    message = str(exc)
    if isinstance(exc, ValidationFailed):
        return ValidationError(message=exc.message, field=camel(exc.field))
    if isinstance(exc, CustomerUnknown):
        return NotFound(message=message, entity="customer", key=exc.key)
    if isinstance(exc, (UnknownCustomer, CustomerNotFound)):
        return NotFound(message=message, entity="customer", key=str(exc.customer_id))
    if isinstance(exc, UnknownOffer):
        return NotFound(message=message, entity="offer", key=str(exc.offer_id))
    if isinstance(exc, UnknownOrder):
        return NotFound(message=message, entity="order", key=str(exc.order_id))
    if isinstance(exc, StaffNotFound):
        return NotFound(message=message, entity="staff", key="")
    if isinstance(exc, SuggestionNotFound):
        return NotFound(message=message, entity="suggestion", key="")
    if isinstance(exc, NotYourSuggestion):
        return Forbidden(message=message)
    if isinstance(exc, SuggestionClosed):
        return Conflict(message=message)
    if isinstance(exc, UnknownChannel):
        return ValidationError(message=message, field="channel")
    if isinstance(exc, UnknownTouchKind):
        return ValidationError(message=message, field="kind")
    if isinstance(exc, NotAReferralOffer):
        return ValidationError(message=message, field="offerId")
    if isinstance(exc, IdempotencyKeyReused):
        return ValidationError(message=message, field="idempotencyKey")
    if isinstance(exc, DuplicateStaff):
        return ValidationError(message=message, field="email")
    return None


def forbidden(principal: Principal, role: Role, staff_needed: bool) -> Forbidden | None:
    """Why the caller may not run a mutation needing `role` (and a staff member), if so."""
    if not principal.at_least(role):
        return Forbidden(
            message=f"this needs the {role} role; the caller has {principal.role}",
            required_role=str(role),
        )
    if staff_needed and principal.staff_id is None:
        return Forbidden(message="this token acts for no staff member", required_role=str(role))
    return None


async def run_mutation(
    info: Info,
    *,
    action: str,
    perform: Callable[[Session, Principal], Outcome[R]],
    rebuild: Callable[[Session, dict[str, Any]], R],
    idempotency_key: str | None = None,
    role: Role = Role.SALES,
    staff_needed: bool = False,
) -> R | Problem:
    """Run a mutation's domain call once per idempotency key, audited, inside a savepoint.

    A retry with a key already used by this token answers what the first call answered
    and changes nothing. Expected domain errors become typed refusals; their writes are
    undone but the refusal is audited. Commit happens once, at the end of the request.
    """
    context = info.context
    principal = context.principal
    key = idempotency_key.strip() if idempotency_key else None

    def replay(session: Session, data: dict[str, Any]) -> R | Problem:
        return (
            problem_from_record(data)
            if data.get("type") in PROBLEM_TYPES
            else rebuild(session, data)
        )

    def execute(session: Session) -> R | Problem:
        if key:
            entry = find_replay(
                session=session, token_id=principal.token_id, action=action, idempotency_key=key
            )
            if entry is not None:
                return replay(session, entry.result)
        savepoint = session.begin_nested()
        outcome: Outcome[Any]
        refusal = forbidden(principal, role, staff_needed)
        if refusal is not None:
            outcome = Outcome(refusal, problem_record(refusal))
        else:
            try:
                outcome = perform(session, principal)
            except Exception as exc:
                problem = exc.problem if isinstance(exc, Refused) else expected_problem(exc)
                if problem is None:
                    raise
                # Undo whatever the failed call wrote; the refusal itself is still audited.
                savepoint.rollback()
                savepoint = session.begin_nested()
                outcome = Outcome(problem, problem_record(problem))
        try:
            record(
                session=session,
                token_id=principal.token_id,
                staff_id=principal.staff_id,
                role=str(principal.role),
                action=action,
                idempotency_key=key,
                target_type=outcome.target_type,
                target_id=outcome.target_id,
                outcome="ok"
                if not isinstance(outcome.result, Problem)
                else type(outcome.result).__name__,
                result=outcome.record,
                request_id=context.request_id,
            )
            savepoint.commit()
        except IntegrityError:
            # A concurrent call with the same key committed first: answer as it did.
            savepoint.rollback()
            assert key is not None
            entry = find_replay(
                session=session, token_id=principal.token_id, action=action, idempotency_key=key
            )
            if entry is None:
                raise
            return replay(session, entry.result)
        return outcome.result

    context.state("operation", action)
    return await context.db.run(execute)
