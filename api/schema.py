"""The GraphQL schema: queries, mutations, subscriptions and the extensions guarding them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import strawberry
from graphql import DocumentNode, GraphQLError, GraphQLSchema, specified_rules
from graphql import parse as parse_document
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from api.errors import MaskUnexpectedErrors
from api.execution import LeanExecutionContext
from api.mutations.consent import ConsentMutations
from api.mutations.customers import CustomerMutations
from api.mutations.events import EventMutations
from api.mutations.orders import OrderMutations
from api.mutations.referrals import ReferralMutations
from api.mutations.scoring import ScoringMutations
from api.mutations.staff import StaffMutations
from api.mutations.suggestions import SuggestionMutations
from api.queries.channels import ChannelQueries
from api.queries.customers import CustomerQueries
from api.queries.lifecycle import LifecycleQueries
from api.queries.referrals import ReferralQueries
from api.queries.reports import ReportQueries
from api.queries.scoring import ScoringQueries
from api.queries.staff import StaffQueries
from api.queries.status import StatusQueries
from api.queries.suggestions import SuggestionQueries
from api.settings import ApiSettings
from api.subscriptions import Subscription
from api.types.scalars import SCALARS
from api.unit_of_work import UnitOfWork

# Distinct documents kept parsed and validated; clients send a small fixed set.
CACHE_SIZE = 1024

Query = merge_types(
    "Query",
    (
        CustomerQueries,
        LifecycleQueries,
        SuggestionQueries,
        ReferralQueries,
        ReportQueries,
        StaffQueries,
        ChannelQueries,
        ScoringQueries,
        StatusQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        ConsentMutations,
        ReferralMutations,
        SuggestionMutations,
        StaffMutations,
        CustomerMutations,
        OrderMutations,
        EventMutations,
        ScoringMutations,
    ),
)


class LifecycleSchema(strawberry.Schema):
    """The schema, with strawberry's own error logging off: MaskUnexpectedErrors logs instead,
    once, with the error id the client sees, and never the query's variables."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Leave error logging to MaskUnexpectedErrors."""


class PreparedDocuments(SchemaExtension):
    """Parse (within the token limit) and validate each distinct document once.

    One extension instead of strawberry's MaxTokensLimiter, ParserCache, AddValidationRules
    and ValidationCache: each extension costs hook calls on every request. The caches belong
    to the schema and hold only documents that parsed; clients send a small fixed set.
    """

    def __init__(
        self,
        parse: Callable[[str], DocumentNode],
        validate: Callable[[GraphQLSchema, DocumentNode], list[GraphQLError]],
    ) -> None:
        self.parse = parse
        self.validate = validate

    def on_parse(self) -> Iterator[None]:
        """The cached document of the query text."""
        context = self.execution_context
        if context.query is not None:
            context.graphql_document = self.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        """The cached validation errors of the document."""
        context = self.execution_context
        if context.graphql_document is not None:
            context.pre_execution_errors = self.validate(
                context.schema._schema, context.graphql_document
            )
        yield


def build_schema(settings: ApiSettings, *, introspection: bool) -> LifecycleSchema:
    """The schema with limits, cached documents, error masking and the unit of work."""
    rules = (
        *specified_rules,
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        *(() if introspection else (NoSchemaIntrospectionCustomRule,)),
    )
    max_tokens = settings.max_tokens

    @lru_cache(maxsize=CACHE_SIZE)
    def parse(query: str) -> DocumentNode:
        return parse_document(query, max_tokens=max_tokens)

    @lru_cache(maxsize=CACHE_SIZE)
    def validate(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        return validate_document(schema, document, rules)

    # Factories: strawberry builds fresh extensions for every request.
    extensions: list[Callable[[], SchemaExtension]] = [
        MaskUnexpectedErrors,
        UnitOfWork,
        lambda: PreparedDocuments(parse, validate),
    ]
    return LifecycleSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=LeanExecutionContext,
    )


def export_sdl() -> str:
    """The schema as SDL text (what schema.graphql holds)."""
    return build_schema(ApiSettings(), introspection=True).as_str() + "\n"
