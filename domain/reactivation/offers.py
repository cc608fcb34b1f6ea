"""The offer sleeping customers receive: the default one, or one an admin chose."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from domain.reactivation.errors import UnusableOffer
from domain.referrals.models import Offer, OfferKind

DEFAULT_OFFER_CODE = "WELCOME-BACK"


def ensure_default_offer(*, session: Session) -> Offer:
    """The default reactivation offer, created on first use."""
    offer = session.scalars(select(Offer).where(col(Offer.code) == DEFAULT_OFFER_CODE)).first()
    if offer is None:
        offer = Offer(
            code=DEFAULT_OFFER_CODE,
            name="Welcome back: 15% off your next order",
            kind=OfferKind.REACTIVATION,
            description="An exclusive 15% discount for customers we have not seen for a while.",
            valid_days=14,
        )
        session.add(offer)
        session.flush()
    return offer


def reactivation_offer(*, session: Session, offer_id: int) -> Offer:
    """The offer with this id, if it is an active reactivation offer."""
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise UnusableOffer(f"offer {offer_id} does not exist")
    if offer.kind != OfferKind.REACTIVATION:
        raise UnusableOffer(f"offer {offer.code} is a {offer.kind} offer, not a reactivation one")
    if not offer.active:
        raise UnusableOffer(f"offer {offer.code} is inactive")
    return offer
