"""Every table, imported in one place so the metadata (and alembic) sees them all."""

from domain.audit.models import AuditEntry
from domain.catalog.models import Product
from domain.channels.models import Channel
from domain.contact.models import ContactLog
from domain.customers.models import Consent, Customer
from domain.db import metadata
from domain.events.models import Event
from domain.orders.models import Order, OrderLine
from domain.outbox.models import OutboxMessage
from domain.reactivation.models import ReactivationAttempt
from domain.referrals.models import Offer, Referral, ReferralRedemption
from domain.scoring.models import Score, ScoringRun, ScoringShard
from domain.staff.models import ApiToken, Staff
from domain.stages.models import StageChange
from domain.suggestions.models import Suggestion

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Channel",
    "Consent",
    "ContactLog",
    "Customer",
    "Event",
    "Offer",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Product",
    "ReactivationAttempt",
    "Referral",
    "ReferralRedemption",
    "Score",
    "ScoringRun",
    "ScoringShard",
    "Staff",
    "StageChange",
    "Suggestion",
    "metadata",
]
