"""Read-only queries over the product catalogue."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from domain.catalog.models import Product

# Keeps IN lists well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 2000


def products_by_ids(*, session: Session, ids: Collection[int]) -> dict[int, Product]:
    """The products with these ids, by id (missing ids are left out)."""
    found: dict[int, Product] = {}
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        for product in session.exec(select(Product).where(col(Product.id).in_(chunk))):
            found[product.id or 0] = product
    return found
