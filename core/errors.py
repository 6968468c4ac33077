"""The one hierarchy of refusals a service raises, each with the HTTP status an API answers it with.

Services raise these; pages show the message, and the API's exception handler (core/api/exceptions.py)
turns them into JSON with `status`. No other app maps its own errors to HTTP.
"""


class DomainError(Exception):
    """Refused: bad input (400). The message is meant for the person who acted.

    `field`, when given, names the input at fault: the API answers `{field: [message]}` as for a
    validation error, instead of `{"detail": message}`.
    """

    status = 400

    def __init__(self, message: str = "", *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class StateConflict(DomainError):
    """The object's state forbids the action (409): submitted sheet, published year, stale version."""

    status = 409


class Unavailable(DomainError):
    """A service the action cannot do without is down (503): work that cannot wait for the broker
    (core.queue.publish_or_refuse). Work that can wait is stored and drained instead, never refused."""

    status = 503
