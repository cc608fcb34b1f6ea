"""upsert_customer: create or update by external id, every field checked, consents recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from domain.customers.models import Consent, Customer
from domain.customers.service import (
    CustomerUnknown,
    ValidationFailed,
    resolve_customer,
    upsert_customer,
)
from domain.stages.models import StageChange
from tests.factories import channel, make_customer, make_staff

AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def test_a_new_customer_starts_as_a_prospect_with_a_created_stage_change(
    session: Session,
) -> None:
    owner = make_staff(session)
    result = upsert_customer(
        session=session,
        external_id=" shop-1 ",
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+44 20 7946-0958",
        birthday=date(1990, 12, 10),
        language="en-GB",
        timezone="Europe/London",
        country="United Kingdom",
        acquisition_channel="web",
        owner_id=owner.id,
        at=AT,
    )
    customer = result.customer
    assert result.created is True
    assert (
        customer.external_id,
        customer.name,
        customer.email,
        customer.phone,
        customer.birthday,
        customer.language,
        customer.timezone,
        customer.country,
        customer.acquisition_channel_id,
        customer.owner_id,
    ) == (
        "shop-1",
        "Ada Lovelace",
        "ada@example.com",
        "+442079460958",
        date(1990, 12, 10),
        "en-GB",
        "Europe/London",
        "United Kingdom",
        channel(session, "web").id,
        owner.id,
    )
    assert (customer.stage, customer.stage_since, customer.created_at) == ("prospect", AT, AT)
    change = session.scalars(select(StageChange)).one()
    assert (change.customer_id, change.from_stage, change.to_stage, change.reason) == (
        customer.id,
        None,
        "prospect",
        "created",
    )
    assert change.changed_at == AT


def test_upserting_again_updates_only_the_given_fields_and_keeps_the_stage(
    session: Session,
) -> None:
    first = upsert_customer(
        session=session, external_id="shop-2", name="Bo", email="bo@example.com", at=AT
    ).customer
    first.stage = "repeat"
    session.add(first)
    session.flush()

    again = upsert_customer(
        session=session, external_id="shop-2", phone="0301234567", email=None, at=LATER
    )

    assert again.created is False
    assert again.customer.id == first.id
    assert (again.customer.name, again.customer.email, again.customer.phone) == (
        "Bo",
        None,
        "0301234567",
    )
    assert (again.customer.stage, again.customer.created_at) == ("repeat", AT)
    assert session.scalar(select(func.count()).select_from(Customer)) == 1
    assert session.scalar(select(func.count()).select_from(StageChange)) == 1


def test_consents_are_recorded_per_channel_and_changed_on_a_later_upsert(
    session: Session,
) -> None:
    customer = upsert_customer(
        session=session,
        external_id="shop-3",
        consents={"email": True, "sms": False},
        consent_source="shop",
        at=AT,
    ).customer
    upsert_customer(session=session, external_id="shop-3", consents={"sms": True}, at=LATER)

    rows = session.scalars(select(Consent).where(col(Consent.customer_id) == customer.id))
    answers = {(row.channel_id, row.granted, row.source) for row in rows}
    assert answers == {
        (channel(session, "email").id, True, "shop"),
        (channel(session, "sms").id, True, "api"),
    }


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"external_id": "  "}, "external_id", "external_id must not be empty"),
        ({"email": "not-an-address"}, "email", "email 'not-an-address' is not an email address"),
        (
            {"phone": "12-34"},
            "phone",
            "phone '12-34' must be 6 to 15 digits (spaces, dashes, + allowed)",
        ),
        (
            {"phone": "call me 555 1234"},
            "phone",
            "phone 'call me 555 1234' must be 6 to 15 digits (spaces, dashes, + allowed)",
        ),
        (
            {"timezone": "Mars/Olympus"},
            "timezone",
            "timezone 'Mars/Olympus' is not an IANA time zone like Europe/Berlin",
        ),
        (
            {"acquisition_channel": "fax"},
            "acquisition_channel",
            "no channel with code 'fax'",
        ),
        ({"owner_id": 424242}, "owner_id", "no active staff member with id 424242"),
        (
            {"birthday": date(2027, 1, 1)},
            "birthday",
            "birthday 2027-01-01 is not between 1900 and today",
        ),
        (
            {"language": "english!"},
            "language",
            "language 'english!' is not a language tag like en-GB",
        ),
        (
            {"consents": {"email": True, "pigeon": True}},
            "consents",
            "no channel with code 'pigeon'",
        ),
        ({"name": "x" * 201}, "name", "name is longer than 200 characters"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_written(
    session: Session, values: dict[str, object], field: str, message: str
) -> None:
    arguments: dict[str, object] = {"external_id": "shop-4", **values}
    with pytest.raises(ValidationFailed) as refused:
        upsert_customer(session=session, at=AT, **arguments)  # type: ignore[arg-type]
    assert (refused.value.field, refused.value.message) == (field, message)
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_an_inactive_owner_is_refused(session: Session) -> None:
    gone = make_staff(session, active=False)
    with pytest.raises(ValidationFailed) as refused:
        upsert_customer(session=session, external_id="shop-5", owner_id=gone.id, at=AT)
    assert refused.value.field == "owner_id"


def test_resolve_customer_by_id_or_external_id(session: Session) -> None:
    customer = make_customer(session, external_id="ext-9")
    assert resolve_customer(session=session, customer_id=customer.id, external_id=None) is customer
    assert resolve_customer(session=session, customer_id=None, external_id=" ext-9") is customer
    with pytest.raises(CustomerUnknown, match="no customer with external id nope"):
        resolve_customer(session=session, customer_id=None, external_id="nope")
    with pytest.raises(CustomerUnknown, match="no customer with id 999999"):
        resolve_customer(session=session, customer_id=999999, external_id=None)
    with pytest.raises(ValidationFailed, match="give either"):
        resolve_customer(session=session, customer_id=customer.id, external_id="ext-9")
