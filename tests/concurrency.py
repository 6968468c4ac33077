"""Two writers crossed in threads (PostgreSQL row locks): the tests of check-then-act races use this."""

import threading

from django.db import connections, transaction


def crossing(first_inside_transaction, second):
    """Run `first` in a transaction left open, then `second` in another thread; report whether `second`
    was still waiting 0.8 s later, and the outcomes once `first` committed: "value" or "error" (a
    refusal) of `second`, and "first_error" if `first` itself failed."""
    started, release, outcome = threading.Event(), threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                first_inside_transaction()
                started.set()
                release.wait(15)
        except Exception as exc:  # reported to the test
            outcome["first_error"] = exc
        finally:
            started.set()
            connections.close_all()

    def run_second():
        try:
            outcome["value"] = second()
        except Exception as exc:  # the refusal is the outcome
            outcome["error"] = exc
        finally:
            connections.close_all()

    a = threading.Thread(target=first)
    a.start()
    assert started.wait(15)
    b = threading.Thread(target=run_second)
    b.start()
    b.join(0.8)
    waited = b.is_alive()
    release.set()
    a.join(15)
    b.join(15)
    return waited, outcome
