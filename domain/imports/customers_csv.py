"""Lifecycle's own customers CSV: one row per customer, with consent per channel.

Existing customers (same external_id) are never changed by an import; their rows count
as already loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from domain.imports.errors import LayoutMismatch
from domain.imports.layout import ImportContext, parse_rows
from domain.imports.source import Record, header_index, normal_name
from domain.imports.store import CONSENT, CUSTOMER, STAFF, chunked, insert_new
from domain.imports.summary import BatchOutcome, Reject, SkipReason
from domain.imports.values import RowError, birthday, flag, optional, required, zone

KIND = "customers"
REQUIRED = (("external_id",),)
OPTIONAL = (
    "name",
    "email",
    "phone",
    "birthday",
    "language",
    "timezone",
    "country",
    "acquisition_channel",
    "owner_email",
    "consent",
)
# Text columns: (name, longest value the customer table holds).
TEXT_COLUMNS = (
    ("name", 200),
    ("email", 320),
    ("phone", 40),
    ("language", 10),
    ("country", 80),
)
CONSENT_PREFIX = "consent"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CODE_SEPARATORS = re.compile(r"[;,|\s]+")


@dataclass(slots=True)
class CustomerIn:
    """One customer row: the customer's columns, owner and consents (channel id -> granted)."""

    line_no: int
    raw: str
    values: dict[str, Any]
    owner_email: str | None
    consents: dict[int, bool] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Always one row."""
        return 1

    @property
    def first_line(self) -> int:
        """Its line number."""
        return self.line_no

    @property
    def last_line(self) -> int:
        """Its line number."""
        return self.line_no


class CustomersCsv:
    """Parses and loads the customers layout."""

    def __init__(self, context: ImportContext, header: Record) -> None:
        self._context = context
        # consent_<channel code> columns: (header name, channel code)
        self._consent_columns: list[tuple[str, str]] = []
        codes = {normal_name(code): code for code in context.channels}
        for name in header.fields:
            key = normal_name(name)
            if key.startswith(CONSENT_PREFIX) and key != CONSENT_PREFIX:
                code = codes.get(key.removeprefix(CONSENT_PREFIX))
                if code is None:
                    known = ", ".join(sorted(context.channels))
                    raise LayoutMismatch(
                        KIND, problem=f"column {name.strip()!r} names no channel ({known})"
                    )
                self._consent_columns.append((name, code))
        optional_columns = OPTIONAL + tuple(name for name, _ in self._consent_columns)
        self._index, self.ignored_columns = header_index(KIND, header, REQUIRED, optional_columns)
        self._width = len(header.fields)
        self._source = f"import:{context.source_name}"[:100]

    def parse(self, records: Iterator[Record | Reject]) -> Iterator[CustomerIn | Reject]:
        """One customer per good row, rejects for the others."""
        return parse_rows(records, self._width, self._customer)

    def load(self, session: Session, items: list[CustomerIn]) -> BatchOutcome:
        """Insert the new customers with their consents; existing ones stay as they are."""
        outcome = BatchOutcome()
        owners = _staff_ids(session, {c.owner_email.lower() for c in items if c.owner_email})
        firsts: dict[str, CustomerIn] = {}
        for customer in items:
            owner = customer.owner_email
            if owner is not None and owner.lower() not in owners:
                detail = f"owner_email {owner!r} is not a staff member's email"
                outcome.rejects.append(
                    Reject(customer.line_no, SkipReason.UNKNOWN_STAFF, detail, customer.raw)
                )
                continue
            customer.values["owner_id"] = owners[owner.lower()] if owner else None
            firsts.setdefault(customer.values["external_id"], customer)
        created = insert_new(
            session, CUSTOMER, [c.values for c in firsts.values()], ["external_id"]
        )
        outcome.loaded = len(created)
        outcome.already_loaded = len(items) - len(outcome.rejects) - len(created)
        outcome.created["customers"] += len(created)
        consents = [
            {
                "customer_id": created[external_id],
                "channel_id": channel_id,
                "granted": granted,
                "source": self._source,
            }
            for external_id, customer in firsts.items()
            if external_id in created
            for channel_id, granted in customer.consents.items()
        ]
        outcome.created["consents"] += len(
            insert_new(session, CONSENT, consents, ["customer_id", "channel_id"])
        )
        return outcome

    def _get(self, record: Record, name: str) -> str:
        position = self._index.get(name)
        return "" if position is None else record.fields[position]

    def _customer(self, record: Record) -> CustomerIn:
        values: dict[str, Any] = {
            "external_id": required(self._get(record, "external_id"), "external_id", 100)
        }
        for name, length in TEXT_COLUMNS:
            values[name] = optional(self._get(record, name), name, length)
        if values["email"] is not None and not _EMAIL.fullmatch(values["email"]):
            raise RowError(SkipReason.BAD_VALUE, f"email {values['email']!r} is not an address")
        values["birthday"] = birthday(self._get(record, "birthday"), "birthday")
        values["timezone"] = optional(self._get(record, "timezone"), "timezone", 64)
        if values["timezone"] is not None:
            try:
                zone(values["timezone"])
            except ValueError as exc:
                raise RowError(SkipReason.BAD_VALUE, f"timezone: {exc}") from None
        channel = optional(self._get(record, "acquisition_channel"), "acquisition_channel", 40)
        values["acquisition_channel_id"] = (
            self._context.channel_id(channel, "acquisition_channel") if channel else None
        )
        return CustomerIn(
            line_no=record.line_no,
            raw=record.raw,
            values=values,
            owner_email=optional(self._get(record, "owner_email"), "owner_email", 320),
            consents=self._consents(record),
        )

    def _consents(self, record: Record) -> dict[int, bool]:
        consents: dict[int, bool] = {}
        for code in _CODE_SEPARATORS.split(self._get(record, "consent").strip()):
            if code:
                consents[self._context.channel_id(code, "consent")] = True
        for name, code in self._consent_columns:
            granted = flag(self._get(record, name), name.strip())
            channel_id = self._context.channels[code]
            if granted is None:
                continue
            if consents.get(channel_id, granted) != granted:
                raise RowError(
                    SkipReason.BAD_VALUE, f"{name.strip()} says no but consent lists {code}"
                )
            consents[channel_id] = granted
        return consents


def _staff_ids(session: Session, emails: set[str]) -> dict[str, int]:
    """{lower-case email: staff id} of the staff with these emails."""
    found: dict[str, int] = {}
    for chunk in chunked(sorted(emails)):
        statement = select(func.lower(STAFF.c.email), STAFF.c.id).where(
            func.lower(STAFF.c.email).in_(chunk)
        )
        found.update({row[0]: row[1] for row in session.execute(statement)})
    return found
