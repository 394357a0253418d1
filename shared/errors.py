"""Errors that carry their HTTP meaning, raised by services and rendered as RFC 9457 problems.

Services stay free of HTTP code, but a domain error still knows whether it is "not found",
"conflict" or "forbidden"; the one exception handler in web.problems turns it into JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    detail: str
    status: int = 400
    title: str = "Bad request"
    type: str = "about:blank"
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


def not_found(what: str) -> DomainError:
    return DomainError(
        detail=f"{what} not found", status=404, title="Not found", type="/problems/not-found"
    )


def forbidden(detail: str) -> DomainError:
    return DomainError(detail=detail, status=403, title="Forbidden", type="/problems/forbidden")


def unauthorized(detail: str) -> DomainError:
    return DomainError(
        detail=detail,
        status=401,
        title="Unauthorized",
        type="/problems/unauthorized",
        headers={"WWW-Authenticate": "Bearer"},
    )


def conflict(detail: str, **extra: Any) -> DomainError:
    return DomainError(
        detail=detail, status=409, title="Conflict", type="/problems/conflict", extra=extra
    )


def invalid(field_name: str, message: str) -> DomainError:
    """A request that is well-formed JSON but names something that does not hold (422)."""
    return DomainError(
        detail=f"{field_name}: {message}",
        status=422,
        title="Validation failed",
        type="/problems/validation",
        errors=[FieldError(field_name, message)],
    )


class Undeliverable(Exception):
    """A receiver's answer that no retry can change (a number that is not a phone, one the
    carrier blacklisted): the caller records it as final instead of letting the outbox try it
    eleven more times over two days."""
