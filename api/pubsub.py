"""Live notices to subscribers: Redis pub/sub across processes, or in-process queues."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis

SUGGESTIONS_CHANNEL = "lifecycle:suggestions:created"


class Broadcaster(Protocol):
    """Publishes JSON-able notices to everyone subscribed at the time."""

    async def publish(self, message: dict[str, Any]) -> None:
        """Send a notice to the current subscribers."""
        ...

    def subscribe(self) -> Any:
        """An async context manager yielding an async iterator of notices."""
        ...


class MemoryBroadcaster:
    """Subscribers in this process only (the embedded default)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()

    async def publish(self, message: dict[str, Any]) -> None:
        """Put the notice on every subscriber's queue."""
        for queue in list(self._queues):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Receive notices until the block ends."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.add(queue)

        async def messages() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._queues.discard(queue)


class RedisBroadcaster:
    """Notices through a Redis channel, so workers and other API processes reach everyone."""

    def __init__(self, redis: Redis, channel: str = SUGGESTIONS_CHANNEL) -> None:
        self.redis = redis
        self.channel = channel

    async def publish(self, message: dict[str, Any]) -> None:
        """PUBLISH the notice as JSON."""
        await self.redis.publish(self.channel, json.dumps(message))

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """SUBSCRIBE to the channel until the block ends."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)

        async def messages() -> AsyncIterator[dict[str, Any]]:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield json.loads(raw["data"])

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe(self.channel)
            await pubsub.aclose()
