"""Importing Lifecycle's customers layout: details, owner, acquisition channel, consents."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.imports.errors import LayoutMismatch
from domain.imports.runner import ImportKind, run_import
from domain.imports.store import CHANNEL, CONSENT, CUSTOMER
from tests.domain.imports.factories import (
    CUSTOMER_HEADER,
    customer_row,
    read_rejects,
    write_csv,
)
from tests.domain.imports.helpers import customers, table_counts
from tests.factories import channel, make_staff


def consents(engine: Engine) -> dict[tuple[str, str], tuple[bool, str | None]]:
    """{(customer external id, channel code): (granted, source)}."""
    statement = (
        select(CUSTOMER.c.external_id, CHANNEL.c.code, CONSENT.c.granted, CONSENT.c.source)
        .join(CUSTOMER, CUSTOMER.c.id == CONSENT.c.customer_id)
        .join(CHANNEL, CHANNEL.c.id == CONSENT.c.channel_id)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement)
        return {(ext, code): (granted, source) for ext, code, granted, source in rows}


def test_customers_load_with_details_owner_channel_and_consents(
    engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as session:
        owner_id = make_staff(session, email="ana@shop.example").id
        session.commit()
    path = write_csv(
        tmp_path / "customers.csv",
        [*CUSTOMER_HEADER, "consent"],
        [
            customer_row(
                "C1",
                name="Ana Lima",
                email="ana@example.com",
                phone="+5511999990000",
                birthday="1990-04-02",
                language="pt-BR",
                timezone="America/Sao_Paulo",
                country="Brazil",
                acquisition_channel="web",
                owner_email="ANA@shop.example",
                consent_email="yes",
                consent_sms="no",
            ),
            customer_row("C2", consent_email="", consent="email; messaging"),
        ],
    )

    summary = run_import(ImportKind.CUSTOMERS, path, engine=engine)

    assert (summary.rows_read, summary.rows_loaded, summary.rejected) == (2, 2, 0)
    assert dict(summary.created) == {"customers": 2, "consents": 4}
    ana = customers(engine)["C1"]
    assert (ana.name, ana.email, ana.phone, ana.birthday) == (
        "Ana Lima",
        "ana@example.com",
        "+5511999990000",
        date(1990, 4, 2),
    )
    assert (ana.language, ana.timezone, ana.country, ana.owner_id) == (
        "pt-BR",
        "America/Sao_Paulo",
        "Brazil",
        owner_id,
    )
    with Session(engine) as session:
        assert ana.acquisition_channel_id == channel(session, "web").id
    source = "import:customers.csv"
    assert consents(engine) == {
        ("C1", "email"): (True, source),
        ("C1", "sms"): (False, source),
        ("C2", "email"): (True, source),
        ("C2", "messaging"): (True, source),
    }


def test_bad_customer_rows_are_rejected_and_the_others_load(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "customers.csv",
        [*CUSTOMER_HEADER, "consent"],
        [
            customer_row("C1"),
            customer_row("C2", email="not-an-address"),
            customer_row("C3", birthday="02/04/1990"),
            customer_row("C4", acquisition_channel="billboard"),
            customer_row("C5", owner_email="nobody@shop.example"),
            customer_row("C6", timezone="Mars/Olympus"),
            customer_row("", name="No Id"),
            customer_row("C8", consent_email="no", consent="email"),
            customer_row("C9", consent_sms="maybe"),
        ],
    )

    summary = run_import(ImportKind.CUSTOMERS, path, engine=engine)

    assert (summary.rows_read, summary.rows_loaded) == (9, 1)
    assert [row[:3] for row in read_rejects(summary.rejects_file)] == [
        ["3", "invalid value", "email 'not-an-address' is not an address"],
        ["4", "unparseable date", "birthday '02/04/1990' is not a YYYY-MM-DD date"],
        ["5", "unknown channel", "acquisition_channel 'billboard' is not a channel code"],
        ["6", "unknown staff", "owner_email 'nobody@shop.example' is not a staff member's email"],
        ["7", "invalid value", "timezone: unknown time zone 'Mars/Olympus'"],
        ["8", "missing required field", "external_id is empty"],
        ["9", "invalid value", "consent_email says no but consent lists email"],
        ["10", "invalid value", "consent_sms 'maybe' is not yes/no"],
    ]
    assert list(customers(engine)) == ["C1"]


def test_existing_customers_are_left_as_they_are_and_counted_as_already_loaded(
    engine: Engine, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "a.csv", CUSTOMER_HEADER, [customer_row("C1", name="Ana")])
    run_import(ImportKind.CUSTOMERS, first, engine=engine)
    before = table_counts(engine)
    again = write_csv(
        tmp_path / "b.csv",
        CUSTOMER_HEADER,
        [customer_row("C1", name="Renamed"), customer_row("C1", name="Twice")],
    )

    summary = run_import(ImportKind.CUSTOMERS, again, engine=engine)

    assert (summary.rows_loaded, dict(summary.skipped)) == (0, {"already loaded": 2})
    assert table_counts(engine) == before
    assert customers(engine)["C1"].name == "Ana"


def test_a_consent_column_of_an_unknown_channel_is_a_layout_error(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", ["external_id", "consent_fax"], [["C1", "yes"]])

    with pytest.raises(LayoutMismatch, match="column 'consent_fax' names no channel"):
        run_import(ImportKind.CUSTOMERS, path, engine=engine)
