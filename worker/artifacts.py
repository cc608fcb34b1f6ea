"""Per-run intermediate arrays that pass from one scoring job to the next.

With Redis configured they live there as npz bytes under `lifecycle:run:{id}:{name}` with a
TTL, so a job on any machine can read what a job on another wrote; without Redis (jobs run
in-process) they stay in this process's memory. Only arrays go in: no pickles, so a value
read back can never run code.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from redis import Redis

from domain.settings import get_settings
from worker.queue import redis_connection

Arrays = dict[str, NDArray[Any]]
KEY_PREFIX = "lifecycle:run"
# Long enough to resume a failed run days later; a run that succeeded drops its own.
TTL_SECONDS = 7 * 24 * 3600


class ArtifactMissing(LookupError):
    """An artifact a job needs is gone (expired, or written by a process that ended)."""

    def __init__(self, run_id: int, name: str) -> None:
        super().__init__(f"run {run_id}: intermediate data {name!r} is missing; resume the run")
        self.run_id = run_id
        self.name = name


class ArtifactStore(Protocol):
    """Where a run's intermediate arrays live between its jobs."""

    def put(self, run_id: int, name: str, arrays: Mapping[str, NDArray[Any]]) -> None:
        """Store (or replace) one named set of arrays."""

    def get(self, run_id: int, name: str) -> Arrays:
        """The named set of arrays; raises ArtifactMissing when absent."""

    def exists(self, run_id: int, name: str) -> bool:
        """Whether the named set is there."""

    def delete(self, run_id: int, name: str) -> None:
        """Forget one named set (nothing happens when it is absent)."""

    def drop_run(self, run_id: int) -> None:
        """Forget everything stored for the run."""


def artifact_key(run_id: int, name: str) -> str:
    """The Redis key of one artifact."""
    return f"{KEY_PREFIX}:{run_id}:{name}"


def to_npz(arrays: Mapping[str, NDArray[Any]]) -> bytes:
    """Arrays as uncompressed npz bytes (compression costs more time than it saves here)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def from_npz(data: bytes) -> Arrays:
    """Arrays back from npz bytes; object arrays (pickles) are refused."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


class MemoryStore:
    """Artifacts kept in this process, for runs executed in-process."""

    def __init__(self) -> None:
        self._data: dict[tuple[int, str], Arrays] = {}

    def put(self, run_id: int, name: str, arrays: Mapping[str, NDArray[Any]]) -> None:
        """Store (or replace) one named set of arrays."""
        self._data[(run_id, name)] = dict(arrays)

    def get(self, run_id: int, name: str) -> Arrays:
        """The named set of arrays; raises ArtifactMissing when absent."""
        try:
            return self._data[(run_id, name)]
        except KeyError:
            raise ArtifactMissing(run_id, name) from None

    def exists(self, run_id: int, name: str) -> bool:
        """Whether the named set is there."""
        return (run_id, name) in self._data

    def delete(self, run_id: int, name: str) -> None:
        """Forget one named set (nothing happens when it is absent)."""
        self._data.pop((run_id, name), None)

    def drop_run(self, run_id: int) -> None:
        """Forget everything stored for the run."""
        for key in [key for key in self._data if key[0] == run_id]:
            del self._data[key]


class RedisStore:
    """Artifacts as npz bytes in Redis, shared by every worker of the deployment."""

    def __init__(self, connection: Redis, ttl: int = TTL_SECONDS) -> None:
        self._redis = connection
        self._ttl = ttl

    def put(self, run_id: int, name: str, arrays: Mapping[str, NDArray[Any]]) -> None:
        """Store (or replace) one named set of arrays."""
        self._redis.set(artifact_key(run_id, name), to_npz(arrays), ex=self._ttl)

    def get(self, run_id: int, name: str) -> Arrays:
        """The named set of arrays; raises ArtifactMissing when absent."""
        data = self._redis.get(artifact_key(run_id, name))
        if data is None:
            raise ArtifactMissing(run_id, name)
        assert isinstance(data, bytes)
        return from_npz(data)

    def exists(self, run_id: int, name: str) -> bool:
        """Whether the named set is there."""
        return bool(self._redis.exists(artifact_key(run_id, name)))

    def delete(self, run_id: int, name: str) -> None:
        """Forget one named set (nothing happens when it is absent)."""
        self._redis.delete(artifact_key(run_id, name))

    def drop_run(self, run_id: int) -> None:
        """Forget everything stored for the run."""
        keys = list(self._redis.scan_iter(match=f"{artifact_key(run_id, '')}*", count=1000))
        if keys:
            self._redis.delete(*keys)


@lru_cache
def memory_store() -> MemoryStore:
    """The process-wide in-memory store."""
    return MemoryStore()


def get_store() -> ArtifactStore:
    """Redis when REDIS_URL is set, else this process's memory."""
    url = get_settings().redis_url
    if not url:
        return memory_store()
    return RedisStore(redis_connection(url))
