"""GraphQL execution with a short path for fields that are plain reads.

Most of a page of customers is fields read straight off an object (`externalId`, `stage`,
`node`, `score.pAlive`, ...): 50 customers with a score are some 450 of them. For each,
graphql-core builds a resolve-info object, collects its nodes, checks for arguments and
awaitables and walks the type wrappers before it reads one attribute; strawberry adds its
own resolver wrappers for fields with a resolver. Together that was most of a page's
execution. A field that is a plain read needs none of it, so this executor reads it and
coerces it (a scalar or an enum) or executes its selections (an object) at once:

- a "basic" strawberry field (no resolver, no extensions, no arguments), and
- a field with a resolver whose value may already be on the object: its metadata names
  the attribute (`PREFETCHED`), which holds the value or `NOT_FETCHED`. A page of
  customers reads their scores with the rows, so `Customer.score` is answered from the
  row and its loader only runs for customers looked up one by one.

Anything unusual (an error, a null for a non-null field, a value that does not coerce, an
awaitable, middleware, a type with `is_type_of`) goes the ordinary way, so results, errors
and their paths are exactly graphql-core's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# The resolver strawberry gives a basic field: `(source, *ignored) -> attribute value`.
BASIC_RESOLVER_NAME = "_get_basic_result"
# Field metadata key: the attribute that may hold the field's value already.
PREFETCHED: Final = "lifecycle.prefetched"


class _NotFetched(Enum):
    NOT_FETCHED = "not fetched"


NOT_FETCHED: Final = _NotFetched.NOT_FETCHED
"""A prefetched attribute's value when the field's resolver has to load it."""
NotFetched = Literal[_NotFetched.NOT_FETCHED]


@dataclass(frozen=True, slots=True)
class Plan:
    """How to answer one field without the machinery: read it, then coerce or descend."""

    read: Callable[[Any], Any]
    return_type: GraphQLOutputType
    non_null: bool
    # Exactly one of the two: a scalar or enum to coerce, or an object to execute.
    leaf: GraphQLLeafType | None
    object_type: GraphQLObjectType | None


def _reader(field: GraphQLField, definition: StrawberryField) -> Callable[[Any], Any] | None:
    attribute = definition.metadata.get(PREFETCHED) if definition.metadata else None
    if isinstance(attribute, str):

        def prefetched(source: Any) -> Any:
            value = getattr(source, attribute, NOT_FETCHED)
            return Undefined if value is NOT_FETCHED else value

        return prefetched
    resolve = field.resolve
    if definition.is_basic_field and getattr(resolve, "__name__", None) == BASIC_RESOLVER_NAME:
        return lambda source: resolve(source, None)  # type: ignore[misc]
    return None


def plan_for(field: GraphQLField) -> Plan | None:
    """The short path for this field, or None when it must take the ordinary one."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or field.args:
        return None
    read = _reader(field, definition)
    if read is None:
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if is_leaf_type(named):
        return Plan(read, field.type, non_null, leaf=named, object_type=None)
    if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
        return Plan(read, field.type, non_null, leaf=None, object_type=named)
    return None


class _Plans:
    """Plans by (object type, field name), worked out once per schema."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.plans: dict[tuple[str, str], Plan | None] = {}

    def get(self, parent_type: GraphQLObjectType, name: str) -> Plan | None:
        key = (parent_type.name, name)
        try:
            return self.plans[key]
        except KeyError:
            field = self.schema.get_field(parent_type, name)
            plan = self.plans[key] = plan_for(field) if field is not None else None
            return plan


_plans_by_schema: dict[int, _Plans] = {}


def _plans(schema: GraphQLSchema) -> _Plans:
    # A process holds one schema or a few (tests); keyed by id, checked by identity.
    plans = _plans_by_schema.get(id(schema))
    if plans is None or plans.schema is not schema:
        plans = _plans_by_schema[id(schema)] = _Plans(schema)
    return plans


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, answering plain reads without the machinery."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A plain read answered at once; any other field the ordinary way."""
        node = field_details_list[0].node
        # strawberry always passes a middleware manager; only one with middleware counts.
        manager = self.middleware_manager
        plan = (
            None
            if node.arguments or (manager is not None and manager.middlewares)
            else _plans(self.schema).get(parent_type, node.name.value)
        )
        if plan is not None:
            try:
                value = plan.read(source)
            except Exception:
                value = Undefined  # the ordinary path raises it again and reports it
            if value is None:
                if not plan.non_null:
                    return None
            elif (
                value is not Undefined
                and not isinstance(value, Exception)
                and not self.is_awaitable(value)
            ):
                if plan.leaf is not None:
                    try:
                        coerced = plan.leaf.coerce_output_value(value)
                    except Exception:
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        return coerced
                elif plan.object_type is not None:
                    return self._execute_object(
                        plan, value, field_details_list, path, position_context
                    )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _execute_object(
        self, plan: Plan, value: Any, field_details_list: Any, path: Path, position_context: Any
    ) -> Any:
        """An object's selections, with errors handled as graphql-core's execute_field does."""
        assert plan.object_type is not None
        try:
            completed = self.collect_and_execute_subfields(
                plan.object_type, field_details_list, path, value, position_context
            )
        except Exception as error:
            self.handle_field_error(error, plan.return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_object(completed, plan, field_details_list, path)
        return completed

    async def _await_object(
        self, completed: Awaitable[Any], plan: Plan, field_details_list: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, plan.return_type, field_details_list, path)
            return None
