"""Bearer API keys → a Principal, as FastAPI dependencies. `require` closes a route to the roles
it is never for; what a role may do with a particular case is decided in the services
(`services/case/access.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.apikey.cache import KeyCache
from services.authz import ROLES, May
from shared import audit
from shared.enums import Role
from shared.errors import forbidden, unauthorized
from shared.principal import SYSTEM, Principal
from shared.signing import same_secret

_bearer = HTTPBearer(auto_error=False, description="An API key issued by `gaodedim keys create`")


KEY_ID = "gaodedim.key_id"


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise unauthorized("an API key is required: Authorization: Bearer <key>")
    service_key = request.app.state.settings.service_key
    if service_key and same_secret(credentials.credentials, service_key):
        request.scope[KEY_ID] = "service"
        return SYSTEM
    cache: KeyCache = request.app.state.key_cache
    principal = await cache.authenticate(credentials.credentials)
    if principal is None:
        raise unauthorized("the API key is unknown or revoked")
    route = getattr(request.scope.get("route"), "path", "")
    audit.identify(principal, f"{request.method} {route}")
    # The request's log line names whose key it was (its id: no secret, no person); in the
    # scope, which every middleware shares (a task a middleware starts has its own context).
    request.scope[KEY_ID] = str(principal.key_id) if principal.key_id else None
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class Allowed:
    """The dependency `allowed` puts on a route: it checks the key's role, and it tells the
    OpenAPI document (`web.contract`) which permissions the route needs, so "who may call" is
    written from the table in services/authz.py and cannot drift from it."""

    def __init__(self, permissions: tuple[May, ...]) -> None:
        self.permissions = permissions
        self.roles = frozenset[Role]().union(*(ROLES[p] for p in permissions))
        self.what = " or ".join(p.value for p in permissions)

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if principal.role not in self.roles:
            raise forbidden(f"role '{principal.role.value}' may not {self.what}")
        return principal


def allowed(permission: May, *others: May) -> object:
    """A route open only to the roles that hold `permission` (or one of `others`: the table in
    services/authz.py). Checked with the key, before the body is validated, so a role that may
    never call the route gets 403, not 422 for its body (issue 26 #12)."""
    return Depends(Allowed((permission, *others)))
