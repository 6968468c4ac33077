"""Database work overlapped with Python work in one process (issue 16).

A Celery worker process and its PostgreSQL backend otherwise take turns: while the backend runs a
statement the process waits, and while the process computes the backend idles. `Alongside` lets the
server work on the other core meanwhile, in the caller's own transaction: pieces of database work
(callables given a cursor) run in order by one thread on the caller's own connection, while the
caller goes on in Python; `wait()` joins them and raises the first error in the caller. The caller
issues nothing on the connection until `wait()` returns: psycopg2 serialises plain statements on a
connection, but not a COPY's data or a savepoint's meaning. The work is given the cursor it must
use: in the thread, `django.db.connection` is another connection.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from contextlib import suppress

from django.db import DEFAULT_DB_ALIAS, connections

_DONE = object()

# While a thread works alongside, the interpreter hands its lock over every SWITCH_INTERVAL seconds
# instead of Python's default 5 ms: each statement the thread sends returns to a thread that must get
# the lock back from the caller's busy Python loop, and at 5 ms that wait was a third of the thread's
# time (an aggregation batch: 57 → 40 ms marking 2,040 assessments, 129 → 107 ms copying its results).
SWITCH_INTERVAL = 0.0005
_switching = threading.Lock()
_working = 0
_saved_interval = 0.0


def _quick_switches(on: bool) -> None:
    global _working, _saved_interval
    with _switching:
        if on:
            if _working == 0:
                _saved_interval = sys.getswitchinterval()
                sys.setswitchinterval(min(_saved_interval, SWITCH_INTERVAL))
            _working += 1
        else:
            _working -= 1
            if _working == 0:
                sys.setswitchinterval(_saved_interval)


class Alongside:
    """Runs each submitted `work(cursor)` on the connection `using`, in order, in one thread, in the
    caller's transaction, while the caller goes on (`submit`); `wait` joins them and re-raises the first
    error (Django's database errors, as any cursor raises them); after an error the works still queued
    are dropped (the transaction is failed by then). Use as a context manager: the thread is always
    joined before the block ends, so a failure elsewhere never leaves it working on a transaction being
    rolled back.

    Meant for statements whose outcome the caller does not need until later (marking the rows of a
    batch, writing the results of its first districts, while the next ones are computed). The caller
    issues nothing on the connection until `wait` returns. While the thread runs, the process's
    interpreter switches threads every `SWITCH_INTERVAL` (set back when the last such thread is joined;
    the portal's workers run one task per process)."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.connection = connections[using]
        self._thread: threading.Thread | None = None
        self._works: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._result = None
        self._closing = False

    def submit(self, work: Callable) -> None:
        """Queues `work`; the thread starts with the first one after a `wait`."""
        if self._thread is not None and self._closing:
            self.wait()  # an interrupted wait: its thread takes no more work, join it first
        if self._thread is None:
            self._start()
        self._works.put(work)

    def _start(self) -> None:
        db = self.connection
        db.ensure_connection()
        db.inc_thread_sharing()  # Django refuses a connection used by another thread otherwise
        works = self._works = queue.SimpleQueue()

        def run() -> None:
            try:
                with db.cursor() as cursor:
                    while (work := works.get()) is not _DONE:
                        if self._error is not None:
                            continue  # dropped: an earlier work failed
                        try:
                            self._result = work(cursor)
                        except BaseException as exc:  # re-raised in the caller by wait()
                            self._error = exc
            except BaseException as exc:  # no cursor: every work is dropped (wait() joins at once)
                if self._error is None:
                    self._error = exc

        self._thread = threading.Thread(target=run, name="db-alongside", daemon=True)
        _quick_switches(True)
        try:
            self._thread.start()
        except BaseException:
            self._thread = None
            db.dec_thread_sharing()
            _quick_switches(False)
            raise

    def wait(self):
        """The last work's return value, once every submitted work is done (None when nothing ran)."""
        thread = self._thread
        if thread is None:
            return self._result
        if not self._closing:
            self._works.put(_DONE)
            self._closing = True
        try:
            thread.join()
        finally:
            if not thread.is_alive():  # an interrupted join leaves it to the next wait (__exit__)
                self._thread = None
                self._closing = False
                self.connection.dec_thread_sharing()
                _quick_switches(False)
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
