"""Page sizes and opaque keyset cursors for Relay-style connections."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from api.errors import ExpectedError
from api.settings import ApiSettings


def page_size(settings: ApiSettings, first: int | None) -> int:
    """`first`, or the default; refuses sizes beyond the configured maximum."""
    size = settings.default_page_size if first is None else first
    if not 1 <= size <= settings.max_page_size:
        raise ExpectedError(
            f"first must be between 1 and {settings.max_page_size}, got {size}", "PAGE_TOO_LARGE"
        )
    return size


def encode_cursor(order: str, value: Any, row_id: int) -> str:
    """An opaque cursor for the row at (sort value, id) under an ordering."""
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = json.dumps([order, value, row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> tuple[Any, int]:
    """The (sort value, id) of a cursor made for the same ordering."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_order, value, row_id = json.loads(base64.urlsafe_b64decode(padded))
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
        if cursor_order != order or not isinstance(row_id, int):
            raise ValueError(cursor_order)
    except (ValueError, TypeError, KeyError) as exc:
        raise ExpectedError("the cursor is not valid for this ordering", "BAD_CURSOR") from exc
    return value, row_id
