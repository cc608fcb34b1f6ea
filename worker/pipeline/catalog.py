"""The run's index spaces: products as cross-sell items and channels, fixed once per run.

Every shard maps product and channel ids to the same dense indices, so per-shard matrices
add up and the fitted models read the same in every job of the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.engine import Connection

IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Catalog:
    """Item index → product id (and whether it is on sale), channel index → channel id/code."""

    product_ids: IntArray
    active: NDArray[np.bool_]
    channel_ids: IntArray
    channel_codes: tuple[str, ...]

    @property
    def n_items(self) -> int:
        """Number of cross-sell items (products)."""
        return int(self.product_ids.size)

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return int(self.channel_ids.size)

    def items(self, product_id: IntArray) -> IntArray:
        """Item index of each product id; −1 for ids unknown to the run (created since)."""
        return _index_of(self.product_ids, product_id)

    def channels(self, channel_id: IntArray) -> IntArray:
        """Channel index of each channel id; −1 for none (−1 in) or unknown."""
        return _index_of(self.channel_ids, channel_id)


def load_catalog(connection: Connection) -> Catalog:
    """Products and channels as they are now, sorted by id."""
    products = connection.execute(text("SELECT id, active FROM product ORDER BY id")).all()
    channels = connection.execute(text("SELECT id, code FROM channel ORDER BY id")).all()
    return Catalog(
        product_ids=np.array([row[0] for row in products], dtype=np.int64),
        active=np.array([bool(row[1]) for row in products], dtype=bool),
        channel_ids=np.array([row[0] for row in channels], dtype=np.int64),
        channel_codes=tuple(str(row[1]) for row in channels),
    )


def _index_of(sorted_ids: IntArray, ids: IntArray) -> IntArray:
    if sorted_ids.size == 0:
        return np.full(ids.shape, -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return np.where(sorted_ids[at] == ids, at, -1).astype(np.int64)
