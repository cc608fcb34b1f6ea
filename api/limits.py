"""Request limits in front of GraphQL: body size (413) and a per-token rate limit (429)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Protocol

from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

RATE_KEY_PREFIX = "lifecycle:api:rate"


async def send_json_error(
    send: Send, status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> None:
    """Answer with a GraphQL-shaped error body and the given HTTP status."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies above a size with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        return f"request body too large: the limit is {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await send_json_error(send, 413, self._message(), "BODY_TOO_LARGE")
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await send_json_error(send, 413, self._message(), "BODY_TOO_LARGE")


class Counter(Protocol):
    """Counts hits of a key within the current fixed window."""

    async def hit(self, key: str, window: int, now: float) -> int:
        """Add a hit and return the window's count so far."""
        ...


class MemoryCounter:
    """Fixed windows in this process (the embedded default, one server process)."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, key: str, window: int, now: float) -> int:
        """Add a hit; counts of past windows are dropped."""
        current = int(now // window)
        if current != self._window:
            self._window, self._counts = current, {}
        self._counts[key] = self._counts.get(key, 0) + 1
        return self._counts[key]


class RedisCounter:
    """Fixed windows in Redis, shared by every server process and machine."""

    def __init__(self, redis: Redis, prefix: str = RATE_KEY_PREFIX) -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, key: str, window: int, now: float) -> int:
        """INCR the window's key and let it expire with the window."""
        name = f"{self.prefix}:{key}:{int(now // window)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window + 1)
            count, _ = await pipe.execute()
        return int(count)


def client_key(scope: Scope) -> str:
    """Whom a request counts against: its bearer token (hashed), else its client address."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return "t:" + hashlib.sha256(value).hexdigest()[:32]
    client = scope.get("client")
    return "a:" + (client[0] if client else "unknown")


class RateLimit:
    """At most `limit` requests per token and window; the rest get 429 and Retry-After."""

    def __init__(self, app: ASGIApp, counter: Counter, limit: int, window: int) -> None:
        self.app = app
        self.counter = counter
        self.limit = limit
        self.window = window

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        now = time.time()
        if await self.counter.hit(client_key(scope), self.window, now) > self.limit:
            retry = max(1, int(self.window - now % self.window) + 1)
            message = (
                f"rate limit exceeded: {self.limit} requests per {self.window} s for this "
                f"token; retry in {retry} s"
            )
            await send_json_error(
                send, 429, message, "RATE_LIMITED", headers={"Retry-After": str(retry)}
            )
            return
        await self.app(scope, receive, send)
