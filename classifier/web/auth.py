"""Who is calling, for every router: a token (header or ``?key=``) becomes a :class:`~classifier.accounts.User`.

:func:`authenticate` is the one check (401 for a missing, unknown or revoked token);
the dependencies :func:`current_user` (token in ``Authorization: Bearer`` or ``X-Token``)
and :func:`admin_user` (403 unless admin) guard the queue API, and a router that takes
the token as ``?key=`` (the Perspective-compatible one) calls :func:`authenticate` with it.
The app keeps the store and the deployment token in ``app.state`` (see ``create_app``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from classifier.accounts import User
from classifier.accounts import authenticate as account_for

_bearer = HTTPBearer(auto_error=False)


def authenticate(request: Request, token: str | None) -> User:
    """The account behind ``token``, or 401 (missing, unknown or revoked: one answer for all three)."""
    user = account_for(request.app.state.store, token, request.app.state.admin_token)
    if user is None:
        raise HTTPException(401, "missing, invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return user


def current_user(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> User:
    """Dependency: the caller's account from ``Authorization: Bearer TOKEN`` or ``X-Token: TOKEN``."""
    return authenticate(request, bearer.credentials if bearer is not None else x_token)


def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    """Dependency: the caller, who must be an admin (403 otherwise): settings, accounts, export."""
    if not user.is_admin:
        raise HTTPException(403, f"{user.name} is a moderator: this needs an admin account")
    return user


#: Route parameter types: ``user: CurrentUser`` (any valid token), ``user: AdminUser`` (admins only).
CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
