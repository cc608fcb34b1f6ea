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
from operator import attrgetter
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
from graphql.pyutils import Path, gather_with_cancel
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
    if not definition.is_basic_field or getattr(resolve, "__name__", None) != BASIC_RESOLVER_NAME:
        return None
    if definition.default_resolver is getattr:
        # What strawberry's basic resolver ends in, without its two calls on the way.
        return attrgetter(definition.python_name)
    return lambda source: resolve(source, None)  # type: ignore[misc]


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
    """Each object type's plans by field name, worked out once per schema."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.by_type: dict[str, dict[str, Plan | None]] = {}

    def of(self, parent_type: GraphQLObjectType) -> dict[str, Plan | None]:
        """The plans of the type's fields, filled in as they are first asked for."""
        plans = self.by_type.get(parent_type.name)
        if plans is None:
            plans = self.by_type[parent_type.name] = {}
        return plans

    def plan(self, parent_type: GraphQLObjectType, name: str) -> Plan | None:
        """The plan of one field of the type."""
        plans = self.of(parent_type)
        try:
            return plans[name]
        except KeyError:
            field = self.schema.get_field(parent_type, name)
            plan = plans[name] = plan_for(field) if field is not None else None
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

    def _lean(self) -> bool:
        # strawberry always passes a middleware manager; only one with middleware counts.
        manager = self.middleware_manager
        return manager is None or not manager.middlewares

    def _leaf(self, plan: Plan, source: Any) -> Any:
        """The coerced value of a plain leaf, or Undefined when it needs the ordinary path."""
        assert plan.leaf is not None
        try:
            value = plan.read(source)
        except Exception:
            return Undefined  # the ordinary path raises it again and reports it
        if value is None:
            return Undefined if plan.non_null else None
        if value is Undefined or isinstance(value, Exception) or self.is_awaitable(value):
            return Undefined
        try:
            coerced = plan.leaf.coerce_output_value(value)
        except Exception:
            return Undefined
        return Undefined if coerced is None else coerced

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's execute_fields, answering plain leaves in the loop itself.

        A leaf answered here needs no path, no call and no resolve info; every other field
        goes to execute_field as in graphql-core.
        """
        if not self._lean():
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plans = _plans(self.schema)
        of_type = plans.of(parent_type)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                if not node.arguments:
                    name = node.name.value
                    plan = of_type[name] if name in of_type else plans.plan(parent_type, name)
                    if plan is not None and plan.leaf is not None:
                        value = self._leaf(plan, source_value)
                        if value is not Undefined:
                            results[response_name] = value
                            continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                # Settle what other fields started, as graphql-core does: they may fail too.
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather(results, awaitable_fields)

    @staticmethod
    async def _gather(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
        else:
            awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results

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
        plan = (
            _plans(self.schema).plan(parent_type, node.name.value)
            if not node.arguments and self._lean()
            else None
        )
        if plan is not None:
            if plan.leaf is not None:
                value = self._leaf(plan, source)
                if value is not Undefined:
                    return value
            else:
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
