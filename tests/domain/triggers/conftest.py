"""Every suggestion a trigger test writes reads, put back in English, as the trigger wrote it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select

from domain.suggestions.models import Suggestion
from domain.triggers.reasons import render


@pytest.fixture(autouse=True)
def _reasons_render_as_written(request: pytest.FixtureRequest) -> Iterator[None]:
    # Asked for before the test runs, so the session outlives this fixture's check.
    session: Session | None = (
        request.getfixturevalue("session") if "session" in request.fixturenames else None
    )
    yield
    if session is None:
        return
    rows = session.exec(select(Suggestion).where(col(Suggestion.reason_key).is_not(None)))
    for row in rows:
        again = render(row.reason_key, row.reason_args, "", "en", now=row.created_at)
        assert again == row.reason, (row.reason_key, row.reason_args)
