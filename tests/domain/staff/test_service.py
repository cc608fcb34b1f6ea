"""Staff accounts, Telegram link codes and hashed API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from domain.staff.errors import DuplicateStaff, InvalidLinkCode, InvalidToken
from domain.staff.models import ApiToken, StaffRole, TokenRole
from domain.staff.service import (
    add_staff,
    authenticate,
    create_token,
    find_by_telegram,
    link_telegram,
    revoke_token,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_token_is_stored_only_as_a_hash_and_authenticates(session: Session) -> None:
    new = create_token(session=session, name="dashboard", role=TokenRole.READ)
    stored = session.scalars(select(ApiToken)).one()
    assert new.value.startswith("lc_")
    assert new.value not in {stored.token_hash, stored.prefix, stored.name}
    assert len(stored.token_hash) == 64
    assert authenticate(session=session, value=new.value).id == stored.id


def test_revoked_and_expired_tokens_are_refused(session: Session) -> None:
    revoked = create_token(session=session, name="old", role=TokenRole.ADMIN)
    revoke_token(session=session, token_id=revoked.token.id or 0, now=NOW)
    expired = create_token(
        session=session, name="tmp", role=TokenRole.READ, expires_at=NOW - timedelta(seconds=1)
    )
    with pytest.raises(InvalidToken, match="revoked"):
        authenticate(session=session, value=revoked.value, now=NOW)
    with pytest.raises(InvalidToken, match="expired"):
        authenticate(session=session, value=expired.value, now=NOW)
    with pytest.raises(InvalidToken):
        authenticate(session=session, value="lc_guess", now=NOW)


def test_link_code_links_telegram_once(session: Session) -> None:
    new = add_staff(session=session, name="Ana", email="Ana@Example.com", now=NOW)
    staff = link_telegram(session=session, code=new.link_code, telegram_user_id=4242, now=NOW)
    assert staff.email == "ana@example.com"
    assert find_by_telegram(session=session, telegram_user_id=4242) == staff
    with pytest.raises(InvalidLinkCode):
        link_telegram(session=session, code=new.link_code, telegram_user_id=4243, now=NOW)


def test_expired_link_code_is_refused(session: Session) -> None:
    new = add_staff(session=session, name="Bo", role=StaffRole.ADMIN, now=NOW)
    with pytest.raises(InvalidLinkCode, match="expired"):
        link_telegram(
            session=session, code=new.link_code, telegram_user_id=1, now=NOW + timedelta(days=8)
        )


def test_duplicate_staff_email_is_refused(session: Session) -> None:
    add_staff(session=session, name="Cy", email="cy@example.com")
    with pytest.raises(DuplicateStaff):
        add_staff(session=session, name="Cy again", email="CY@example.com")


def test_inactive_staff_is_not_found_by_telegram(session: Session) -> None:
    new = add_staff(session=session, name="Di", telegram_user_id=77)
    new.staff.active = False
    session.flush()
    assert find_by_telegram(session=session, telegram_user_id=77) is None
