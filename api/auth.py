"""Who is calling: bearer API tokens, the bot acting for a staff member, and roles."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from domain.staff.errors import InvalidToken
from domain.staff.models import Staff, StaffRole, TokenRole
from domain.staff.service import authenticate, find_by_telegram

ACT_AS_HEADER = "x-act-as-telegram-user"


class Role(StrEnum):
    """What a caller may do, after the token and any act-as header are taken into account."""

    READ = "read"
    SALES = "sales"
    ADMIN = "admin"


RANK = {Role.READ: 0, Role.SALES: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    """The caller: their token, the staff member acting (if any) and the effective role."""

    token_id: int
    token_role: TokenRole
    role: Role
    staff_id: int | None

    def at_least(self, role: Role) -> bool:
        """Whether the caller holds this role or a higher one."""
        return RANK[self.role] >= RANK[role]


class AuthError(Exception):
    """The request carries no usable credentials; answered with HTTP 401 or 403."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bearer_value(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer ...` header, or AuthError."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError(401, "missing bearer token: send 'Authorization: Bearer <token>'")
    return value.strip()


def _staff_role(staff: Staff) -> Role:
    return Role.ADMIN if staff.role == StaffRole.ADMIN else Role.SALES


def resolve_principal(*, session: Session, token_value: str, act_as: str | None) -> Principal:
    """Check the token (and, for bot tokens, the staff member it acts for)."""
    try:
        token = authenticate(session=session, value=token_value)
    except InvalidToken as exc:
        raise AuthError(401, f"invalid token: {exc}") from exc
    assert token.id is not None
    role = TokenRole(token.role)
    if role is TokenRole.BOT:
        if not act_as:
            return Principal(token_id=token.id, token_role=role, role=Role.READ, staff_id=None)
        try:
            telegram_user_id = int(act_as)
        except ValueError as exc:
            raise AuthError(403, f"{ACT_AS_HEADER} must be a Telegram user id") from exc
        staff = find_by_telegram(session=session, telegram_user_id=telegram_user_id)
        if staff is None:
            raise AuthError(403, "no active staff member is linked to this Telegram user")
        return Principal(
            token_id=token.id, token_role=role, role=_staff_role(staff), staff_id=staff.id
        )
    if act_as:
        raise AuthError(403, f"only bot tokens may send {ACT_AS_HEADER}")
    if token.staff_id is not None:
        staff = session.get(Staff, token.staff_id)
        if staff is None or not staff.active:
            raise AuthError(403, "the staff member of this token is no longer active")
    return Principal(
        token_id=token.id, token_role=role, role=Role(role.value), staff_id=token.staff_id
    )


class PrincipalCache:
    """Verified principals for a few seconds, so hot tokens skip the look-up.

    A revoked token therefore keeps working for at most `seconds`; 0 turns the cache off.
    """

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    @staticmethod
    def key(token_value: str, act_as: str | None) -> str:
        """A key that does not keep the token itself in memory."""
        return hashlib.sha256(f"{token_value}\n{act_as or ''}".encode()).hexdigest()

    def get(self, key: str) -> Principal | None:
        """The cached principal, if still fresh."""
        if self.seconds <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        """Remember a verified principal."""
        if self.seconds <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.seconds, principal)
