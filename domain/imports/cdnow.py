"""The CDNOW master layout: `customer date(YYYYMMDD) cds dollars`, blank-separated, no header.

Each row is one order with one generic "CD" line. Orders get the id
`cdnow:<customer>:<date>:<n>`, n counting that customer's rows of that date in file order,
so a re-import finds the same ids while two orders of one day both load.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal

from sqlmodel import Session

from domain.imports.layout import ImportContext, parse_rows
from domain.imports.orders import LineIn, OrderIn, OrderRun, load_orders
from domain.imports.source import Record
from domain.imports.summary import BatchOutcome, Reject, SkipReason
from domain.imports.values import RowError, Timestamps, decimal, integer, required, to_minor
from domain.orders.models import OrderKind, OrderStatus

SKU = "CD"
WIDTH = 4
_PRICE_STEP = Decimal("0.0001")
_PRICE_LIMIT = Decimal(10) ** 10


class Cdnow:
    """Parses and loads CDNOW rows, one order each."""

    ignored_columns: list[str]

    def __init__(self, context: ImportContext) -> None:
        self.ignored_columns = []
        self._currency = context.currency
        self._exponent = context.exponent(context.currency)
        self._timestamps = Timestamps(context.zone)
        self._run = OrderRun()
        # Rows per customer and day: bounded by the distinct customer-days, not by rows.
        self._counts: Counter[tuple[str, str]] = Counter()

    def parse(self, records: Iterator[Record | Reject]) -> Iterator[OrderIn | Reject]:
        """One order per good row, rejects for the others."""
        return parse_rows(records, WIDTH, self._order)

    def load(self, session: Session, items: list[OrderIn]) -> BatchOutcome:
        """Load a batch of orders, creating the customers they name."""
        return load_orders(session, items, self._run, create_customers=True)

    def _order(self, record: Record) -> OrderIn:
        customer_field, day_field, cds_field, amount_field = record.fields
        customer = required(customer_field, "customer id", 60)
        ordered_at = self._timestamps.day(day_field, "date")
        cds = integer(cds_field, "number of CDs")
        if cds <= 0:
            raise RowError(SkipReason.BAD_VALUE, f"number of CDs {cds} is not positive")
        amount = decimal(amount_field, "dollar amount")
        if amount < 0 or amount >= _PRICE_LIMIT:
            raise RowError(SkipReason.BAD_VALUE, f"dollar amount {amount} is out of range")
        key = (customer, day_field)
        self._counts[key] += 1
        line = LineIn(
            line_no=record.line_no,
            raw=record.raw,
            sku=SKU,
            description=None,
            category=None,
            quantity=cds,
            unit_price=(amount / cds).quantize(_PRICE_STEP, rounding=ROUND_HALF_EVEN),
            # The amount is the truth; the unit price is only its share per CD.
            total_minor=to_minor(amount, self._exponent),
        )
        return OrderIn(
            external_id=f"cdnow:{customer}:{day_field}:{self._counts[key]}",
            customer_ref=customer,
            ordered_at=ordered_at,
            kind=OrderKind.SALE,
            status=OrderStatus.COMPLETED,
            currency=self._currency,
            country=None,
            channel_id=None,
            lines=[line],
        )
