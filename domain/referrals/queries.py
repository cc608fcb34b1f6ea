"""Read-only look-ups of referrals and offers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlmodel import Session, col, select

from domain.referrals.models import Offer, Referral


def referral_by_code(*, session: Session, code: str) -> Referral | None:
    """The referral with this code, if any."""
    return session.exec(select(Referral).where(col(Referral.code) == code.strip())).first()


def referrals_of(*, session: Session, referrer_ids: Collection[int]) -> dict[int, list[Referral]]:
    """The referrals each of these customers was sent, newest first."""
    found: dict[int, list[Referral]] = defaultdict(list)
    statement = (
        select(Referral)
        .where(col(Referral.referrer_id).in_(sorted(set(referrer_ids))))
        .order_by(col(Referral.referrer_id), col(Referral.id).desc())
    )
    for referral in session.exec(statement):
        found[referral.referrer_id].append(referral)
    return found


def offers_by_ids(*, session: Session, ids: Collection[int]) -> dict[int, Offer]:
    """The offers with these ids, by id."""
    rows = session.exec(select(Offer).where(col(Offer.id).in_(sorted(set(ids)))))
    return {row.id: row for row in rows if row.id is not None}


def active_offers(*, session: Session, kind: str | None = None) -> list[Offer]:
    """The offers still active, optionally of one kind, by id."""
    statement = select(Offer).where(col(Offer.active).is_(True))
    if kind is not None:
        statement = statement.where(col(Offer.kind) == kind)
    return list(session.exec(statement.order_by(col(Offer.id))))
