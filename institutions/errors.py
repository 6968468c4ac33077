"""The base of every refusal a service raises, with the HTTP status an API answers it with."""


class DomainError(Exception):
    """Refused: bad input (400). The message is meant for the person who acted."""

    status = 400


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class StateConflict(DomainError):
    """The object's state forbids the action (409): submitted sheet, published year, stale version."""

    status = 409
