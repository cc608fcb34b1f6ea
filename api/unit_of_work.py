"""One transaction per request: a mutation commits once at the end, anything else rolls back.

A query only reads: its statements run without a transaction (see api.db).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.context import Context


class UnitOfWork(SchemaExtension):
    """Commit a mutation that ran without errors, roll back everything else, then notify.

    A mutation's expected refusals are results, not errors, so they commit (with their
    audit entry); an unexpected error anywhere rolls the whole request back.
    """

    def on_execute(self) -> Iterator[None]:
        """Mark a query's database handle read-only before any resolver runs."""
        context = self.execution_context
        if context.operation_type is OperationType.QUERY and isinstance(context.context, Context):
            context.context.db.read_only()
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        """Finish the request's transaction after the operation has run."""
        context = self.execution_context.context
        try:
            yield
        except BaseException:
            # Failed before a result, or cancelled (a websocket closed mid-subscription):
            # the transaction must not keep its connection and admission slot.
            if isinstance(context, Context):
                context.db.discard()
            raise
        if not isinstance(context, Context):
            return
        result = self.execution_context.result
        is_mutation = self.execution_context.operation_type is OperationType.MUTATION
        commit = is_mutation and result is not None and not getattr(result, "errors", None)
        try:
            await context.db.finish(commit=commit)
        except Exception as exc:  # the commit itself failed: none of the mutation holds
            if result is not None:
                result.data = None
                result.errors = [GraphQLError(str(exc), original_error=exc)]
            return
        if not commit:
            context.after_commit.clear()
        elif not context.db.inline:
            # A websocket operation runs on the server loop: notify now. An HTTP operation
            # runs in a worker thread; the view notifies once back on the server loop.
            for notify in context.after_commit:
                await notify()
            context.after_commit.clear()
