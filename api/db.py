"""The request's database session, and where the synchronous domain code runs.

Domain services are synchronous SQLAlchemy; running them on the event loop would stall
every other request while one waits for the database. An HTTP operation therefore runs
whole in one worker thread, on that thread's own event loop (`Db.operate`): its resolvers,
dataloader batches and the final commit call the session directly, so an operation costs
one thread hop however many queries it makes. Outside an operation (websocket
subscriptions) each call hops to a worker thread, one call at a time.

Requests are admitted to the database by a semaphore as large as the thread pool and the
connection pool: a worker thread then never waits for a connection held by a request that
itself waits for a thread.

A query (a read-only operation) runs its statements without a transaction (`Db.read_only`).
At PostgreSQL's READ COMMITTED each statement takes its own snapshot anyway, so BEGIN and
ROLLBACK would only cost two round trips; and psycopg drops its prepared statements on every
ROLLBACK, so without them the hot statements get prepared once per connection instead of
parsed and planned on every request.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter, Semaphore
from sqlalchemy.engine import Engine
from sqlmodel import Session

T = TypeVar("T")


def _new_loop() -> asyncio.AbstractEventLoop:
    # uvloop (installed with uvicorn[standard]) runs an operation's many small callbacks
    # (resolvers, dataloader batches) faster than asyncio's own loop.
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class _ThreadLoop:
    """A worker thread's own event loop, closed when the thread ends."""

    def __init__(self) -> None:
        self.loop = _new_loop()

    def __del__(self) -> None:
        self.loop.close()


class _Loops(threading.local):
    holder: _ThreadLoop | None = None


_loops = _Loops()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """This worker thread's event loop (worker threads are reused, and so are their loops)."""
    if _loops.holder is None:
        _loops.holder = _ThreadLoop()
    return _loops.holder.loop


class Db:
    """One session per request (opened on first use); commit or rollback at the end."""

    def __init__(
        self,
        engine: Engine,
        limiter: CapacityLimiter,
        admission: Semaphore,
        reader: Engine | None = None,
    ) -> None:
        self.engine = engine
        # The same pool in autocommit mode, for read-only operations.
        self._reader = reader or engine
        self._reading = False
        self._limiter = limiter
        self._admission = admission
        self._session: Session | None = None
        self._admitted = False
        self._inline = False
        self._lock = asyncio.Lock()

    @property
    def inline(self) -> bool:
        """Whether calls run straight in the current thread (inside `operate`)."""
        return self._inline

    def read_only(self) -> None:
        """Run the request's statements without a transaction: it only reads.

        Takes effect when the session opens, so call it before the first statement.
        """
        self._reading = True

    def _open(self) -> Session:
        if self._session is None:
            bind = self._reader if self._reading else self.engine
            self._session = Session(bind, expire_on_commit=False)
        return self._session

    async def operate(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run a whole operation on a worker thread's event loop; `run` calls inline there.

        Whatever the operation leaves open is rolled back and closed before the thread is
        given back.
        """
        async with self._admission:
            return await anyio.to_thread.run_sync(self._operate, operation, limiter=self._limiter)

    def _operate(self, operation: Callable[[], Awaitable[T]]) -> T:
        self._inline = True
        try:
            return _thread_loop().run_until_complete(operation())
        finally:
            self._inline = False
            self._end(commit=False)

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Call fn with the request's session: inline inside `operate`, else in a worker thread."""
        if self._inline:
            return fn(self._open())
        async with self._lock:
            if not self._admitted:
                await self._admission.acquire()
                self._admitted = True
            session = self._open()
            return await anyio.to_thread.run_sync(fn, session, limiter=self._limiter)

    async def fresh(self, fn: Callable[[Session], T]) -> T:
        """Call fn in its own short transaction, committed if it returns (token look-ups)."""

        def call() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                value = fn(session)
                session.commit()
                return value

        async with self._admission:
            return await anyio.to_thread.run_sync(call, limiter=self._limiter)

    def _end(self, *, commit: bool) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if commit:
                session.commit()
        finally:
            # Closing rolls back whatever is uncommitted (the pool resets the connection) and
            # detaches the loaded rows, which is cheaper than a rollback expiring each of them.
            session.close()

    def discard(self) -> None:
        """Roll back and close at once, without a thread hop (failed or cancelled operations).

        No worker thread holds the session then: a call in a worker thread always runs to
        its end before its caller sees a cancellation.
        """
        self._end(commit=False)
        if self._admitted:
            self._admitted = False
            self._admission.release()

    async def finish(self, *, commit: bool) -> None:
        """Commit (or roll back) and close the request's session, if one was opened."""
        if self._inline:
            self._end(commit=commit)
            return
        async with self._lock:
            try:
                if self._session is not None:
                    await anyio.to_thread.run_sync(
                        lambda: self._end(commit=commit), limiter=self._limiter
                    )
            finally:
                if self._admitted:
                    self._admitted = False
                    self._admission.release()
