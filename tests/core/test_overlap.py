"""core.overlap: database work alongside Python work on the caller's own connection and transaction."""

import threading

import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction

from core.fields import JSONTextField
from core.overlap import Alongside
from institutions.models import District

pytestmark = pytest.mark.django_db


def rename(district_id: int, name: str):
    def work(cursor):
        cursor.execute("UPDATE institutions_district SET name = %s WHERE id = %s", [name, district_id])
        return cursor.rowcount
    return work


def test_work_alongside_runs_in_the_callers_transaction_and_rolls_back_with_it():
    district = District.objects.get(code="331004")
    with transaction.atomic():
        with Alongside() as alongside:
            alongside.submit(rename(district.pk, "新名"))
            assert alongside.wait() == 1
        assert District.objects.get(pk=district.pk).name == "新名"  # seen by the caller: one transaction
        transaction.set_rollback(True)
    assert District.objects.get(pk=district.pk).name == district.name
    assert not connection.allow_thread_sharing


def test_an_error_of_the_work_is_raised_by_wait_as_a_database_error():
    with transaction.atomic():
        alongside = Alongside()
        alongside.submit(lambda cursor: cursor.execute("SELECT * FROM no_such_table"))
        with pytest.raises(DatabaseError):
            alongside.wait()
        transaction.set_rollback(True)
    assert not connection.allow_thread_sharing
    assert District.objects.filter(code="331004").exists()  # the connection is usable again


def test_the_work_is_joined_when_the_block_fails_and_the_blocks_error_is_the_one_raised():
    started, release = threading.Event(), threading.Event()

    def slow(cursor):
        started.set()
        release.wait(5)
        cursor.execute("SELECT * FROM no_such_table")  # fails too, after the block's own error

    alongside = Alongside()
    # The atomic block is rolled back by the block's error.
    with pytest.raises(ValueError, match="the block's"), transaction.atomic(), alongside:
        alongside.submit(slow)
        started.wait(5)
        threading.Timer(0.2, release.set).start()
        raise ValueError("the block's")
    assert alongside._thread is None and not connection.allow_thread_sharing
    assert not [t for t in threading.enumerate() if t.name == "db-alongside"]


def test_works_run_in_order_and_after_an_error_the_rest_are_dropped():
    district = District.objects.get(code="331004")
    ran = []

    def note(name):
        def work(cursor):
            ran.append(name)
            return name
        return work

    with transaction.atomic():
        with Alongside() as alongside:
            for name in ("a", "b", "c"):
                alongside.submit(note(name))
            assert alongside.wait() == "c" and ran == ["a", "b", "c"]
            alongside.submit(rename(district.pk, "再次"))  # a new thread after a wait
            assert alongside.wait() == 1
            alongside.submit(note("d"))
            alongside.submit(lambda cursor: cursor.execute("SELECT * FROM no_such_table"))
            alongside.submit(note("never"))
            with pytest.raises(DatabaseError):
                alongside.wait()
        transaction.set_rollback(True)
    assert ran == ["a", "b", "c", "d"]
    assert not connection.allow_thread_sharing


def test_the_work_is_given_the_callers_connection_not_the_threads_own():
    with transaction.atomic(), Alongside() as alongside:
        alongside.submit(lambda cursor: (cursor.db, connections[DEFAULT_DB_ALIAS]))
        given, threads_own = alongside.wait()
        assert given is connections[DEFAULT_DB_ALIAS] and threads_own is not given
        transaction.set_rollback(True)


def test_json_text_field_keeps_compact_json_text_and_gives_back_the_value():
    field = JSONTextField()
    assert field.get_prep_value({"key": "k", "items": [[1, 2]]}) == '{"key":"k","items":[[1,2]]}'
    assert field.get_prep_value(None) is None
    assert field.from_db_value('{"a": [1, -2]}', None, connection) == {"a": [1, -2]}
    assert field.from_db_value(None, None, connection) is None
    assert field.from_db_value("not json", None, connection) == "not json"  # refused by the readers


def test_the_interpreter_switches_sooner_only_while_a_thread_works_alongside():
    import sys

    from core import overlap

    before = sys.getswitchinterval()
    assert before > overlap.SWITCH_INTERVAL  # Python's default, 5 ms
    with transaction.atomic():
        alongside = Alongside()
        alongside.submit(lambda cursor: sys.getswitchinterval())
        assert alongside.wait() == overlap.SWITCH_INTERVAL
        assert sys.getswitchinterval() == before
        alongside.submit(lambda cursor: cursor.execute("SELECT * FROM no_such_table"))
        with pytest.raises(DatabaseError):
            alongside.wait()
        assert sys.getswitchinterval() == before  # set back after a failed work too
        transaction.set_rollback(True)


def test_work_submitted_after_an_interrupted_wait_still_runs(monkeypatch):
    """A wait interrupted while its thread works (a task's time limit) has told that thread to stop
    taking work: the next submit joins it first and starts another, so nothing is dropped."""
    release = threading.Event()
    ran = []
    with transaction.atomic():
        alongside = Alongside()
        alongside.submit(lambda cursor: release.wait(5))
        thread = alongside._thread
        real_join = thread.join
        interrupted = []

        def join(*args, **kwargs):
            if not interrupted:
                interrupted.append(True)
                raise KeyboardInterrupt
            return real_join(*args, **kwargs)

        monkeypatch.setattr(thread, "join", join)
        with pytest.raises(KeyboardInterrupt):
            alongside.wait()
        threading.Timer(0.1, release.set).start()
        alongside.submit(lambda cursor: ran.append("after"))
        alongside.wait()
        transaction.set_rollback(True)
    assert ran == ["after"]
    assert not connection.allow_thread_sharing
