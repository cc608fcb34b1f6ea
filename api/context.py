"""What every resolver gets: the caller, the request's session and loaders, app resources."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import strawberry
from anyio import CapacityLimiter, Semaphore
from redis.asyncio import Redis
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from api.auth import Principal, PrincipalCache
from api.dataloaders import Loaders
from api.db import Db
from api.pubsub import Broadcaster
from api.settings import ApiSettings
from domain.settings import Settings


@dataclass
class AppResources:
    """App-wide resources, created in the lifespan and shared by all requests."""

    settings: ApiSettings
    domain_settings: Settings
    engine: Engine
    # The engine's pool in autocommit mode: what read-only operations run on.
    reader: Engine
    limiter: CapacityLimiter
    admission: Semaphore
    broadcaster: Broadcaster
    principals: PrincipalCache
    redis: Redis | None = None

    def db(self) -> Db:
        """A new per-request database handle."""
        return Db(self.engine, self.limiter, self.admission, self.reader)


@dataclass
class Context:
    """One request's context: built in `get_context`, dropped with the response."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    resources: AppResources
    db: Db
    principal: Principal
    loaders: Loaders
    request_id: str
    # The payload of a websocket's connection_init (strawberry sets it).
    connection_params: dict[str, Any] | None = None
    # Run once the request's transaction has committed (e.g. live notices).
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def settings(self) -> ApiSettings:
        """The API settings."""
        return self.resources.settings

    def state(self, name: str, value: Any) -> None:
        """Leave a non-personal fact for the access log line (operation name, token id)."""
        self.request.scope.setdefault("state", {})[name] = value


Info = strawberry.Info[Context, None]
