"""Domain errors carry a machine code; handlers turn them into a status and a translated message."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from launch.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


class DomainError(Exception):
    """A refusal the user must be told about: `code` for machines, `message` for people.

    `message` is already translated (built with gettext by the service) or a lazy string.
    `status` is the HTTP status handlers should answer with.
    """

    status = 400

    def __init__(self, code: str, message: Any, status: int | None = None, **details: Any) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of an API refusal."""
        return {"ok": False, "code": self.code, "message": str(self.message), **self.details}


class NotFound(DomainError):
    """The thing asked for does not exist."""

    status = 404


class Forbidden(DomainError):
    """The user may not do this."""

    status = 403


class ValidationFailed(DomainError):
    """Input refused; `errors` lists every problem (e.g. by CSV line)."""

    status = 400

    def __init__(self, code: str, message: Any, errors: list[Any] | None = None, **details: Any) -> None:
        super().__init__(code, message, **details)
        self.errors = errors or []

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["errors"] = [str(e) for e in self.errors]
        return out


@dataclass
class FieldError:
    """One refused input of a form: `code` for machines and tests, `message` (translated) for people,
    `field` the input it belongs to (the form shows the message next to it)."""

    code: str
    message: Any
    field: str | None = None

    def __str__(self) -> str:
        return str(self.message)


def all_or_nothing(func: F) -> F:
    """A service refusing with a DomainError leaves nothing of its change behind: the session is rolled
    back before the refusal reaches the caller (a view then renders the form again with clean data)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError:
            db.session.rollback()
            raise

    return wrapper  # type: ignore[return-value]
