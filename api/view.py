"""The GraphQL endpoint: authenticates the caller and builds each request's context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import ACT_AS_HEADER, AuthError, Principal, Role, bearer_value, resolve_principal
from api.context import AppResources, Context
from api.dataloaders import Loaders
from api.logs import new_request_id
from domain import jsonfast
from domain.staff.models import TokenRole

# A websocket's caller before connection_init: the protocol lets nothing run until then,
# and a failed authentication closes the socket.
NOBODY = Principal(token_id=0, token_role=TokenRole.READ, role=Role.READ, staff_id=None)


class GraphQLView(GraphQL[Context, None]):
    """strawberry's ASGI view with bearer-token auth and our context."""

    def __init__(self, resources: AppResources, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resources = resources

    async def _principal(self, authorization: str | None, act_as: str | None) -> Principal:
        value = bearer_value(authorization)
        cache = self.resources.principals
        key = cache.key(value, act_as)
        principal = cache.get(key)
        if principal is None:
            principal = await self.resources.db().fresh(
                lambda s: resolve_principal(session=s, token_value=value, act_as=act_as)
            )
            cache.put(key, principal)
        return principal

    def encode_json(self, data: object) -> bytes:
        """Responses through orjson: encoding a page costs a fraction of `json.dumps`."""
        return jsonfast.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """Request bodies through orjson (malformed ones still raise JSONDecodeError)."""
        return jsonfast.loads(data)

    def _is_ide_page(self, request: Request) -> bool:
        """A browser asking for the GraphiQL page (static HTML; its queries authenticate)."""
        return (
            self.graphql_ide is not None
            and request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        """Authenticate the caller (HTTP header, or the websocket's connection_init)."""
        if isinstance(request, WebSocket) or self._is_ide_page(request):
            principal = NOBODY
        else:
            principal = await self._principal(
                request.headers.get("authorization"), request.headers.get(ACT_AS_HEADER)
            )
        state = request.scope.setdefault("state", {})
        state["token_id"] = principal.token_id
        state["role"] = str(principal.role)
        db = self.resources.db()
        return Context(
            request=request,
            response=response,
            resources=self.resources,
            db=db,
            principal=principal,
            loaders=Loaders(db, suggestions_for_staff=_own_only(principal)),
            request_id=state.get("request_id") or new_request_id(),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket from connection_init's payload or its handshake headers."""
        request = context.request
        payload = context.connection_params or {}
        authorization = payload.get("authorization") or request.headers.get("authorization")
        act_as = payload.get(ACT_AS_HEADER) or request.headers.get(ACT_AS_HEADER)
        try:
            principal = await self._principal(
                str(authorization) if authorization else None, str(act_as) if act_as else None
            )
        except AuthError as exc:
            raise ConnectionRejectionError({"message": exc.message}) from exc
        context.principal = principal
        context.loaders = Loaders(context.db, suggestions_for_staff=_own_only(principal))
        return UNSET

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: Any,
    ) -> ExecutionResult:
        """Run the operation whole in one worker thread, then its after-commit notices here."""
        execute = super().execute_single
        try:
            result = await context.db.operate(
                lambda: execute(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=request_data,
                )
            )
        finally:
            context.loaders.release()
        # The notices may use the server loop's clients (Redis), so they run here.
        notices, context.after_commit = context.after_commit, []
        for notify in notices:
            await notify()
        return result

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        """Answer authentication failures with a JSON body and 401/403."""
        try:
            return await super().run(
                request,
                context=UNSET if context is None else context,
                root_value=UNSET if root_value is None else root_value,
            )
        except AuthError as exc:
            code = "UNAUTHENTICATED" if exc.status == 401 else "FORBIDDEN"
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return JSONResponse(
                {"errors": [{"message": exc.message, "extensions": {"code": code}}]},
                status_code=exc.status,
                headers=headers,
            )


def _own_only(principal: Principal) -> int | None:
    """Sales callers see only their own suggestions; read and admin callers see all."""
    return principal.staff_id if principal.role is Role.SALES else None
