"""The request's database session, used from worker threads one call at a time.

Domain services are synchronous SQLAlchemy. Running them on the event loop would stall
every other request while one waits for the database, so each call hops to a worker
thread. A lock keeps the session to one thread at a time: dataloaders may dispatch
concurrently within one request.

A session keeps its connection from first use to the end of the request, so requests
are admitted to the database by a semaphore as large as the pool: a worker thread then
never waits for a connection held by a request that itself waits for a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter, Semaphore
from sqlalchemy.engine import Engine
from sqlmodel import Session

T = TypeVar("T")


class Db:
    """One session per request (opened on first use); commit or rollback at the end."""

    def __init__(self, engine: Engine, limiter: CapacityLimiter, admission: Semaphore) -> None:
        self.engine = engine
        self._limiter = limiter
        self._admission = admission
        self._session: Session | None = None
        self._lock = asyncio.Lock()

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Call fn with the request's session in a worker thread."""
        async with self._lock:
            if self._session is None:
                await self._admission.acquire()
                self._session = Session(self.engine, expire_on_commit=False)
            session = self._session
            return await anyio.to_thread.run_sync(lambda: fn(session), limiter=self._limiter)

    async def fresh(self, fn: Callable[[Session], T]) -> T:
        """Call fn in its own short transaction, committed if it returns (subscriptions)."""

        def call() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                value = fn(session)
                session.commit()
                return value

        async with self._admission:
            return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    async def finish(self, *, commit: bool) -> None:
        """Commit (or roll back) and close the request's session, if one was opened."""
        session = self._session
        if session is None:
            return
        self._session = None

        def end() -> None:
            try:
                if commit:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()

        async with self._lock:
            try:
                await anyio.to_thread.run_sync(end, limiter=self._limiter)
            finally:
                self._admission.release()
