"""Creating and updating customers from outside (a shop, a CRM, the API), validated field by
field, plus what the order and event services share: customer references and input errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.channels.models import Channel
from domain.clock import as_utc
from domain.contact.service import set_consent
from domain.customers.models import Customer
from domain.imports.values import zone
from domain.staff.models import Staff
from domain.stages.models import StageChange
from domain.stages.vocabulary import Stage

# Clocks of the systems that send us data drift a little; beyond this a time is refused.
CLOCK_SKEW = timedelta(minutes=5)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE_CHARACTERS = re.compile(r"\+?[0-9 ()./-]+")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")
# E.164 allows at most 15 digits; fewer than 6 is no reachable number anywhere.
PHONE_DIGITS = (6, 15)
OLDEST_BIRTHDAY = date(1900, 1, 1)
CREATED_REASON = "created"


class ValidationFailed(Exception):
    """An input value is not acceptable; `field` names it (snake_case, `lines[2].sku`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class CustomerUnknown(LookupError):
    """No customer has the given id or external id."""

    def __init__(self, key: str, *, by: str) -> None:
        super().__init__(f"no customer with {by} {key}")
        self.key = key
        self.by = by


class Keep(Enum):
    """The marker of a field to leave as it is (None clears it)."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True)
class UpsertResult:
    """The customer as now stored, and whether this call created them."""

    customer: Customer
    created: bool


def upsert_customer(
    *,
    session: Session,
    external_id: str,
    at: datetime,
    name: str | Keep | None = KEEP,
    email: str | Keep | None = KEEP,
    phone: str | Keep | None = KEEP,
    birthday: date | Keep | None = KEEP,
    language: str | Keep | None = KEEP,
    timezone: str | Keep | None = KEEP,
    country: str | Keep | None = KEEP,
    acquisition_channel: str | Keep | None = KEEP,
    owner_id: int | Keep | None = KEEP,
    consents: Mapping[str, bool] | None = None,
    consent_source: str = "api",
) -> UpsertResult:
    """Create the customer with this external id, or update the fields given (KEEP leaves a
    field alone, None or "" clears it); consents are per channel code.

    Every value is checked before anything is written; the first bad one raises
    ValidationFailed naming its field. A new customer starts as a prospect, with the
    stage change that says so.
    """
    at = as_utc(at)
    key = _text(external_id, "external_id", 100)
    if key is None:
        raise ValidationFailed("external_id", "external_id must not be empty")
    values = _values(
        session,
        at,
        {
            "name": name,
            "email": email,
            "phone": phone,
            "birthday": birthday,
            "language": language,
            "timezone": timezone,
            "country": country,
            "acquisition_channel": acquisition_channel,
            "owner_id": owner_id,
        },
    )
    _check_consent_channels(session, consents or {})
    customer = _by_external_id(session, key)
    created = False
    if customer is None:
        customer = _create(session, key, values, at)
        created = customer is not None
    if customer is None:
        # Created by a concurrent call between our look-up and our insert: update it instead.
        customer = _by_external_id(session, key)
        assert customer is not None
    if not created:
        for column, value in values.items():
            setattr(customer, column, value)
        session.add(customer)
        session.flush()
    assert customer.id is not None
    for code, granted in sorted((consents or {}).items()):
        set_consent(
            session=session,
            customer_id=customer.id,
            channel_code=code,
            granted=granted,
            source=consent_source[:100],
            at=at,
        )
    return UpsertResult(customer=customer, created=created)


def resolve_customer(
    *, session: Session, customer_id: int | None, external_id: str | None
) -> Customer:
    """The customer given by exactly one of id and external id; CustomerUnknown if none has it."""
    if (customer_id is None) == (external_id is None):
        raise ValidationFailed("customer", "give either the customer's id or external id")
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise CustomerUnknown(str(customer_id), by="id")
        return customer
    assert external_id is not None
    found = _by_external_id(session, external_id.strip())
    if found is None:
        raise CustomerUnknown(external_id.strip(), by="external id")
    return found


def check_not_future(value: datetime, *, at: datetime, field: str) -> datetime:
    """The time as aware UTC; ValidationFailed when later than `at` beyond the clock skew."""
    moment = as_utc(value)
    if moment > as_utc(at) + CLOCK_SKEW:
        raise ValidationFailed(field, f"{field} {moment.isoformat()} is in the future")
    return moment


def _by_external_id(session: Session, external_id: str) -> Customer | None:
    return session.exec(select(Customer).where(col(Customer.external_id) == external_id)).first()


def _create(session: Session, key: str, values: dict[str, Any], at: datetime) -> Customer | None:
    """Insert a new prospect and its first stage change; None if the key was taken meanwhile."""
    customer = Customer(
        external_id=key, created_at=at, stage=Stage.PROSPECT, stage_since=at, **values
    )
    try:
        with session.begin_nested():
            session.add(customer)
    except IntegrityError:
        return None
    assert customer.id is not None
    session.add(
        StageChange(
            customer_id=customer.id,
            from_stage=None,
            to_stage=Stage.PROSPECT,
            reason=CREATED_REASON,
            changed_at=at,
        )
    )
    session.flush()
    return customer


def _values(session: Session, at: datetime, given: dict[str, Any]) -> dict[str, Any]:
    """The column values of the given (not KEEP) fields, each checked."""
    checks: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: _text(v, "name", 200),
        "email": _email,
        "phone": _phone,
        "birthday": lambda v: _birthday(v, at),
        "language": _language,
        "timezone": _timezone,
        "country": lambda v: _text(v, "country", 80),
        "acquisition_channel": lambda v: _channel_id(session, v),
        "owner_id": lambda v: _owner_id(session, v),
    }
    columns = {"acquisition_channel": "acquisition_channel_id"}
    return {
        columns.get(field, field): None if value is None else checks[field](value)
        for field, value in given.items()
        if value is not KEEP
    }


def _text(value: str, field: str, max_length: int) -> str | None:
    text = value.strip()
    if len(text) > max_length:
        raise ValidationFailed(field, f"{field} is longer than {max_length} characters")
    return text or None


def _email(value: str) -> str | None:
    text = _text(value, "email", 320)
    if text is not None and not EMAIL.fullmatch(text):
        raise ValidationFailed("email", f"email {text!r} is not an email address")
    return text


def _phone(value: str) -> str | None:
    """Digits only, keeping a leading + (international form)."""
    text = value.strip()
    if not text:
        return None
    digits = re.sub(r"\D", "", text)
    low, high = PHONE_DIGITS
    if not PHONE_CHARACTERS.fullmatch(text) or not low <= len(digits) <= high:
        raise ValidationFailed(
            "phone", f"phone {text!r} must be {low} to {high} digits (spaces, dashes, + allowed)"
        )
    return ("+" if text.startswith("+") else "") + digits


def _birthday(value: date, at: datetime) -> date:
    if not OLDEST_BIRTHDAY <= value <= at.date():
        raise ValidationFailed(
            "birthday", f"birthday {value.isoformat()} is not between 1900 and today"
        )
    return value


def _language(value: str) -> str | None:
    text = _text(value, "language", 10)
    if text is not None and not LANGUAGE.fullmatch(text):
        raise ValidationFailed("language", f"language {text!r} is not a language tag like en-GB")
    return text


def _timezone(value: str) -> str | None:
    text = _text(value, "timezone", 64)
    if text is None:
        return None
    try:
        zone(text)
    except ValueError:
        raise ValidationFailed(
            "timezone", f"timezone {text!r} is not an IANA time zone like Europe/Berlin"
        ) from None
    return text


def _channel_id(session: Session, code: str) -> int | None:
    text = code.strip()
    if not text:
        return None
    channel_id = session.exec(select(Channel.id).where(col(Channel.code) == text)).first()
    if channel_id is None:
        raise ValidationFailed("acquisition_channel", f"no channel with code {text!r}")
    return channel_id


def _owner_id(session: Session, staff_id: int) -> int:
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise ValidationFailed("owner_id", f"no active staff member with id {staff_id}")
    return staff_id


def _check_consent_channels(session: Session, consents: Mapping[str, bool]) -> None:
    if not consents:
        return
    known = set(session.exec(select(Channel.code)))
    unknown = sorted(set(consents) - known)
    if unknown:
        raise ValidationFailed("consents", f"no channel with code {unknown[0]!r}")
