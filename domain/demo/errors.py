"""Why demo data could not be written."""

from __future__ import annotations


class DemoDataError(Exception):
    """The demo data could not be generated or written."""


class DatabaseNotEmptyError(DemoDataError):
    """The target database already holds business data, which demo data never mixes with."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        found = ", ".join(f"{table} ({count:,} rows)" for table, count in counts.items())
        super().__init__(
            f"the database already holds data in {found}; demo data is only written into a "
            "database without customers, products, orders, events or offers. Point "
            "DATABASE_URL at a fresh database (nothing was changed)."
        )
