"""Read-only look-ups of staff members in bulk."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from domain.staff.models import Staff


def staff_by_ids(*, session: Session, ids: Collection[int]) -> dict[int, Staff]:
    """The staff members with these ids, by id."""
    rows = session.exec(select(Staff).where(col(Staff.id).in_(sorted(set(ids)))))
    return {row.id: row for row in rows if row.id is not None}
