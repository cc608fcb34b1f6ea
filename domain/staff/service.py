"""Staff accounts, their Telegram link codes and API tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from domain.clock import utcnow
from domain.staff.errors import DuplicateStaff, InvalidLinkCode, InvalidToken, StaffNotFound
from domain.staff.models import ApiToken, Staff, StaffRole, TokenRole

TOKEN_PREFIX = "lc_"
LINK_CODE_TTL = timedelta(days=7)


def hash_secret(value: str) -> str:
    """SHA-256 hex digest; tokens carry 256 random bits, so no salt or stretching is needed."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class NewStaff:
    """A created staff member and the one-time code they send the bot as `/start CODE`."""

    staff: Staff
    link_code: str


@dataclass(frozen=True)
class NewToken:
    """A created token; the plain value is shown once and never stored."""

    token: ApiToken
    value: str


def add_staff(
    *,
    session: Session,
    name: str,
    role: StaffRole = StaffRole.SALES,
    email: str | None = None,
    telegram_user_id: int | None = None,
    language: str = "en",
    timezone: str = "UTC",
    now: datetime | None = None,
) -> NewStaff:
    """Create a staff member with a fresh Telegram link code."""
    name = name.strip()
    if not name:
        raise ValueError("name must not be empty")
    clauses: list[ColumnElement[bool]] = []
    if email:
        email = email.strip().lower()
        clauses.append(col(Staff.email) == email)
    if telegram_user_id is not None:
        clauses.append(col(Staff.telegram_user_id) == telegram_user_id)
    if clauses and session.exec(select(Staff.id).where(or_(*clauses))).first() is not None:
        raise DuplicateStaff("a staff member with that email or Telegram id already exists")
    staff = Staff(
        name=name,
        role=StaffRole(role),
        email=email,
        telegram_user_id=telegram_user_id,
        language=language,
        timezone=timezone,
    )
    session.add(staff)
    session.flush()
    return NewStaff(staff=staff, link_code=issue_link_code(session=session, staff=staff, now=now))


def issue_link_code(*, session: Session, staff: Staff, now: datetime | None = None) -> str:
    """A new one-time code for linking Telegram; any previous code stops working."""
    code = secrets.token_urlsafe(9)
    staff.link_code_hash = hash_secret(code)
    staff.link_code_expires_at = (now or utcnow()) + LINK_CODE_TTL
    session.add(staff)
    session.flush()
    return code


def link_telegram(
    *, session: Session, code: str, telegram_user_id: int, now: datetime | None = None
) -> Staff:
    """Attach a Telegram user id to the staff member holding this one-time code."""
    now = now or utcnow()
    staff = session.exec(select(Staff).where(Staff.link_code_hash == hash_secret(code))).first()
    if staff is None or not staff.active:
        raise InvalidLinkCode("this link code is not valid")
    if staff.link_code_expires_at is None or staff.link_code_expires_at < now:
        raise InvalidLinkCode("this link code has expired; ask an admin for a new one")
    taken = session.exec(
        select(Staff.id).where(Staff.telegram_user_id == telegram_user_id, Staff.id != staff.id)
    ).first()
    if taken is not None:
        raise DuplicateStaff("this Telegram account is already linked to another staff member")
    staff.telegram_user_id = telegram_user_id
    staff.link_code_hash = None
    staff.link_code_expires_at = None
    session.add(staff)
    session.flush()
    return staff


def get_staff(*, session: Session, staff_id: int) -> Staff:
    """The staff member with this id."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise StaffNotFound(f"no staff member with id {staff_id}")
    return staff


def find_by_telegram(*, session: Session, telegram_user_id: int) -> Staff | None:
    """The active staff member linked to this Telegram user, if any."""
    return session.exec(
        select(Staff).where(Staff.telegram_user_id == telegram_user_id, col(Staff.active).is_(True))
    ).first()


def create_token(
    *,
    session: Session,
    name: str,
    role: TokenRole,
    staff_id: int | None = None,
    expires_at: datetime | None = None,
) -> NewToken:
    """Create an API token; only its hash is stored."""
    role = TokenRole(role)
    if staff_id is not None:
        get_staff(session=session, staff_id=staff_id)
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=hash_secret(value),
        prefix=value[: len(TOKEN_PREFIX) + 6],
        role=role,
        staff_id=staff_id,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return NewToken(token=token, value=value)


def authenticate(*, session: Session, value: str, now: datetime | None = None) -> ApiToken:
    """The live token with this value, or InvalidToken."""
    now = now or utcnow()
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_secret(value))
    ).first()
    if token is None or token.revoked_at is not None:
        raise InvalidToken("unknown or revoked token")
    if token.expires_at is not None and token.expires_at <= now:
        raise InvalidToken("token expired")
    return token


def revoke_token(*, session: Session, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke a token; it stops working at once."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise InvalidToken(f"no token with id {token_id}")
    token.revoked_at = token.revoked_at or (now or utcnow())
    session.add(token)
    session.flush()
    return token
