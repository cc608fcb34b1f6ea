"""Fast JSON for hot paths: orjson, falling back to the standard library where it refuses.

orjson parses and writes JSON several times faster than `json`; the API's responses and the
JSON columns of every row it reads go through here. orjson refuses a few things `json`
accepts (NaN and Infinity in input, integers beyond 64 bits and Decimal in output), so
those take the slower standard path instead of failing.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: str | bytes | bytearray | memoryview) -> Any:
    """Parse JSON text."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(bytes(data) if isinstance(data, memoryview) else data)


def dumps(value: object) -> bytes:
    """Compact JSON as UTF-8 bytes."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=str).encode()
