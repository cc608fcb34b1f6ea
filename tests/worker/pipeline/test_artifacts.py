"""Intermediate arrays between jobs: in this process's memory, or as npz bytes in Redis."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from redis import Redis

from worker.artifacts import (
    KEY_PREFIX,
    ArtifactMissing,
    ArtifactStore,
    MemoryStore,
    RedisStore,
    from_npz,
    to_npz,
)

# A Redis database of the scoring tests' own, emptied before and after.
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_db() -> Iterator[Redis]:
    """The scoring tests' Redis database, empty."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    yield redis
    redis.flushdb()
    redis.close()


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> ArtifactStore:
    """Each store kind in turn."""
    if request.param == "memory":
        return MemoryStore()
    return RedisStore(request.getfixturevalue("redis_db"), ttl=60)


def test_a_store_gives_back_what_was_put(store: ArtifactStore) -> None:
    arrays = {"x": np.arange(5, dtype=np.int32), "codes": np.array(["web", "app"])}

    store.put(7, "features:0", arrays)
    again = store.get(7, "features:0")

    assert set(again) == {"x", "codes"}
    assert again["x"].dtype == np.int32 and again["x"].tolist() == [0, 1, 2, 3, 4]
    assert again["codes"].tolist() == ["web", "app"]
    assert (store.exists(7, "features:0"), store.exists(7, "features:1")) == (True, False)


def test_a_missing_artifact_says_the_run_needs_resuming(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactMissing, match="run 7: intermediate data 'models:ab' is missing"):
        store.get(7, "models:ab")


def test_delete_and_drop_forget_one_or_all_of_a_run(store: ArtifactStore) -> None:
    for run_id, name in ((7, "a"), (7, "b"), (8, "a")):
        store.put(run_id, name, {"v": np.zeros(1)})

    store.delete(7, "a")
    store.delete(7, "never")
    assert [store.exists(7, "a"), store.exists(7, "b")] == [False, True]
    store.drop_run(7)

    assert [store.exists(7, "b"), store.exists(8, "a")] == [False, True]


def test_redis_keeps_artifacts_under_the_run_key_with_a_ttl(redis_db: Redis) -> None:
    RedisStore(redis_db, ttl=60).put(7, "catalog", {"v": np.ones(3)})

    assert redis_db.keys("*") == [f"{KEY_PREFIX}:7:catalog".encode()]
    assert 0 < redis_db.ttl(f"{KEY_PREFIX}:7:catalog") <= 60


def test_npz_bytes_refuse_pickled_objects() -> None:
    data = to_npz({"objects": np.array([{"a": 1}], dtype=object)})

    with pytest.raises(ValueError, match="allow_pickle"):
        from_npz(data)
