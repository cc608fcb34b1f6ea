"""The GraphQL schema: queries, mutations, subscriptions and the extensions guarding them."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.errors import MaskUnexpectedErrors
from api.mutations.consent import ConsentMutations
from api.mutations.referrals import ReferralMutations
from api.mutations.staff import StaffMutations
from api.mutations.suggestions import SuggestionMutations
from api.queries.customers import CustomerQueries
from api.queries.lifecycle import LifecycleQueries
from api.queries.referrals import ReferralQueries
from api.queries.reports import ReportQueries
from api.queries.suggestions import SuggestionQueries
from api.settings import ApiSettings
from api.subscriptions import Subscription
from api.types.scalars import SCALARS
from api.unit_of_work import UnitOfWork

# Distinct documents kept parsed and validated; clients send a small fixed set.
CACHE_SIZE = 1024

Query = merge_types(
    "Query",
    (CustomerQueries, LifecycleQueries, SuggestionQueries, ReferralQueries, ReportQueries),
)
Mutation = merge_types(
    "Mutation", (ConsentMutations, ReferralMutations, SuggestionMutations, StaffMutations)
)


class LifecycleSchema(strawberry.Schema):
    """The schema, with strawberry's own error logging off: MaskUnexpectedErrors logs instead,
    once, with the error id the client sees, and never the query's variables."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Leave error logging to MaskUnexpectedErrors."""


def build_schema(settings: ApiSettings, *, introspection: bool) -> LifecycleSchema:
    """The schema with limits, caches, error masking and the per-request unit of work."""
    # Validation rules built once: the validation cache keys on the rule classes, and the
    # limiters would make new classes for every request.
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories: strawberry builds fresh extensions per request; the parse and validation
    # caches live at module level, keyed by size, so they persist across requests.
    extensions: list[Callable[[], SchemaExtension]] = [
        MaskUnexpectedErrors,
        UnitOfWork,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
    ]
    return LifecycleSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
    )


def export_sdl() -> str:
    """The schema as SDL text (what schema.graphql holds)."""
    return build_schema(ApiSettings(), introspection=True).as_str() + "\n"
