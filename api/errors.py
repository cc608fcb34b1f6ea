"""Expected failures as GraphQL types, and masking of everything unexpected.

Mutations answer expected failures as members of their result union. Queries raise
`ExpectedError`, which reaches the client with its message and code. Any other exception
is logged with a short error id and reaches the client only as "Unexpected error" plus
that id, so support can find the log line without leaking internals.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.logs import error_log


@strawberry.interface(description="An expected failure, with words fit for a person.")
class Problem:
    message: str


@strawberry.type(description="Nothing matches the given id, code or key.")
class NotFound(Problem):
    entity: str
    key: str


@strawberry.type(description="An input value is not acceptable.")
class ValidationError(Problem):
    field: str


@strawberry.type(description="The caller's role or staff member may not do this.")
class Forbidden(Problem):
    required_role: str | None = None


@strawberry.type(description="The request clashes with the current state (e.g. already resolved).")
class Conflict(Problem):
    pass


@strawberry.type(description="The customer may not get (or use) this referral now, and why.")
class ReferralNotEligible(Problem):
    reason: str
    code: str
    retry_at: datetime | None = None


@strawberry.type(description="The customer has not agreed to be contacted on this channel.")
class ConsentMissing(Problem):
    channel: str
    code: str


class ExpectedError(Exception):
    """A failure of a query the caller can act on; shown as is, with a code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (ExpectedError, GraphQLError))


class MaskUnexpectedErrors(SchemaExtension):
    """Replace unexpected errors by a generic message and an id that matches a log line."""

    def on_operation(self) -> Iterator[None]:
        """Rewrite the operation's errors once it has run."""
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        rewritten: list[GraphQLError] = []
        for error in errors:
            if isinstance(error.original_error, ExpectedError):
                error.extensions = {**(error.extensions or {}), "code": error.original_error.code}
                rewritten.append(error)
            elif _unexpected(error):
                rewritten.append(self._mask(error))
            else:
                rewritten.append(error)
        result.errors = rewritten  # type: ignore[union-attr]

    def _mask(self, error: GraphQLError) -> GraphQLError:
        error_id = secrets.token_hex(6)
        original = error.original_error
        error_log.error(
            "unexpected error",
            extra={
                "error_id": error_id,
                "path": ".".join(str(p) for p in error.path or []),
                "operation": self.execution_context.operation_name,
            },
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )
        return GraphQLError(
            f"Unexpected error (error id {error_id})",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL", "errorId": error_id},
        )
