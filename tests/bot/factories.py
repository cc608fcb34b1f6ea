"""Rows the bot tests talk about: a bot token, linked staff, a customer worth a full card."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from domain.db import unit_of_work
from domain.staff.models import StaffRole, TokenRole
from domain.staff.service import add_staff, create_token
from tests.api.factories import make_offer, make_run, make_score, make_suggestion
from tests.factories import days_ago, grant_consent, make_customer, make_order


def bot_token(engine: Engine) -> str:
    """A committed API token with the bot role."""
    with unit_of_work(engine) as session:
        return create_token(session=session, name="telegram bot", role=TokenRole.BOT).value


def linked_staff(
    engine: Engine,
    telegram_user_id: int | None,
    *,
    name: str = "Ann Seller",
    role: StaffRole = StaffRole.SALES,
    language: str = "en",
) -> tuple[int, str]:
    """A staff member linked to a Telegram user; returns their id and a fresh link code."""
    with unit_of_work(engine) as session:
        new = add_staff(
            session=session,
            name=name,
            role=role,
            telegram_user_id=telegram_user_id,
            language=language,
        )
        assert new.staff.id is not None
        return new.staff.id, new.link_code


def vip_customer(engine: Engine, owner_id: int, **overrides: Any) -> int:
    """A scored VIP with two orders, email consent granted and SMS consent refused."""
    with unit_of_work(engine) as session:
        values: dict[str, Any] = {
            "name": "Maria Lopez",
            "email": "maria@example.com",
            "phone": "+15550001111",
            "stage": "loyal",
            "stage_since": days_ago(40),
            "owner_id": owner_id,
            "order_count": 2,
            "net_revenue_minor": 25_000,
            "last_order_at": days_ago(5),
        }
        values.update(overrides)
        customer = make_customer(session, **values)
        make_order(session, customer, at=days_ago(30), total_minor=10_000)
        make_order(session, customer, at=days_ago(5), total_minor=15_000)
        grant_consent(session, customer, "email")
        grant_consent(session, customer, "sms", granted=False)
        run = make_run(session)
        make_score(
            session,
            run,
            customer,
            rfm_segment="Champions",
            p_alive=0.92,
            predicted_clv_minor=123_450,
            next_order_date=date(2026, 12, 5),
            reasons=["bought 2 times in 30 days", "spends twice the average", "opens every email"],
        )
        assert customer.id is not None
        return customer.id


def referral_offer(engine: Engine) -> int:
    """An active member-get-member offer."""
    with unit_of_work(engine) as session:
        offer = make_offer(
            session,
            name="Give 10, get 10",
            description="Share your link: friends save 10 on their first order.",
        )
        assert offer.id is not None
        return offer.id


def open_suggestion(engine: Engine, customer_id: int, staff_id: int, **overrides: Any) -> int:
    """An open suggestion about the customer for the staff member."""
    with unit_of_work(engine) as session:
        from domain.customers.models import Customer

        customer = session.get(Customer, customer_id)
        assert customer is not None
        row = make_suggestion(session, customer, staff_id, **overrides)
        assert row.id is not None
        return row.id
