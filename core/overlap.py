"""Database work overlapped with Python work in one process (issue 16).

A Celery worker process and its PostgreSQL backend otherwise take turns: while the backend runs a
statement the process waits, and while the process computes the backend idles. The helpers here let
the server work on the other core meanwhile, in the caller's own transaction:

- `Alongside`: one piece of database work (a callable given a cursor) run by a thread on the
  caller's own connection, while the caller goes on in Python; `wait()` joins it and raises its
  error in the caller. The caller issues nothing on the connection until `wait()` returns: psycopg2
  serialises plain statements on a connection, but not a COPY's data or a savepoint's meaning.
- `LazyText`: a file-like object for `COPY … FROM STDIN` whose text is made while the server already
  takes in the rows sent before it (the driver reads it piece by piece). psycopg2 turns an error raised
  while the text is made into a cancelled COPY; `raise_error()` raises the original one instead.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress

from django.db import DEFAULT_DB_ALIAS, connections


class Alongside:
    """Runs `work(cursor)` on the connection `using` in a thread, in the caller's transaction, while the
    caller goes on (`start`); `wait` joins it and re-raises its error (Django's database errors, as
    any cursor raises them). Use as a context manager: the thread is always joined before the block
    ends, so a failure elsewhere never leaves it working on a transaction being rolled back.

    Meant for one statement whose outcome the caller does not need until later (marking the rows of a
    batch while its results are computed). The caller issues nothing on the connection until `wait`
    returns."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.connection = connections[using]
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._result = None

    def start(self, work: Callable) -> None:
        if self._thread is not None:
            raise RuntimeError("Alongside runs one piece of work at a time")
        db = self.connection
        db.ensure_connection()
        db.inc_thread_sharing()  # Django refuses a connection used by another thread otherwise

        def run() -> None:
            try:
                with db.cursor() as cursor:
                    self._result = work(cursor)
            except BaseException as exc:  # re-raised in the caller by wait()
                self._error = exc

        self._thread = threading.Thread(target=run, name="db-alongside", daemon=True)
        try:
            self._thread.start()
        except BaseException:
            self._thread = None
            db.dec_thread_sharing()
            raise

    def wait(self):
        """The work's return value, once it is done (None when nothing was started)."""
        thread = self._thread
        if thread is None:
            return self._result
        try:
            thread.join()
        finally:
            if not thread.is_alive():  # an interrupted join leaves it to the next wait (__exit__)
                self._thread = None
                self.connection.dec_thread_sharing()
        error, self._error = self._error, None
        if error is not None:
            raise error
        return self._result

    def __enter__(self) -> Alongside:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.wait()
            return
        with suppress(Exception):  # the block's own error is the one to report
            self.wait()


class LazyText(io.TextIOBase):
    """A readable text file over `make()`'s pieces (made again from the start by `seek(0)`), for
    `copy_expert`: each `read(size)` makes only as many pieces as it needs."""

    def __init__(self, make: Callable[[], Iterable[str]]) -> None:
        super().__init__()
        self._make = make
        self._pieces: Iterator[str] = iter(make())
        self._rest = ""
        self.error: Exception | None = None

    def raise_error(self) -> None:
        """Raises the error met while making the text, if any (call it when the COPY failed)."""
        if self.error is not None:
            raise self.error

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        try:
            return self._read(size)
        except Exception as exc:
            self.error = exc
            raise

    def _read(self, size: int | None) -> str:
        parts = [self._rest] if self._rest else []
        have = len(self._rest)
        self._rest = ""
        if size is None or size < 0:
            parts.extend(self._pieces)
            return "".join(parts)
        if have < size:
            for piece in self._pieces:
                parts.append(piece)
                have += len(piece)
                if have >= size:
                    break
        text = "".join(parts)
        if len(text) > size:
            text, self._rest = text[:size], text[size:]
        return text

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if offset != 0 or whence != io.SEEK_SET:
            raise io.UnsupportedOperation("LazyText only seeks back to its start")
        self._pieces = iter(self._make())
        self._rest = ""
        self.error = None
        return 0

    def seekable(self) -> bool:
        return True
