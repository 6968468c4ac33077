"""core.overlap: database work alongside Python work on the caller's own connection and transaction."""

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from core.fields import JSONTextField
from core.overlap import Alongside, LazyText
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
            alongside.start(rename(district.pk, "新名"))
            assert alongside.wait() == 1
        assert District.objects.get(pk=district.pk).name == "新名"  # seen by the caller: one transaction
        transaction.set_rollback(True)
    assert District.objects.get(pk=district.pk).name == district.name
    assert not connection.allow_thread_sharing


def test_an_error_of_the_work_is_raised_by_wait_as_a_database_error():
    with transaction.atomic():
        alongside = Alongside()
        alongside.start(lambda cursor: cursor.execute("SELECT * FROM no_such_table"))
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
        alongside.start(slow)
        started.wait(5)
        threading.Timer(0.2, release.set).start()
        raise ValueError("the block's")
    assert alongside._thread is None and not connection.allow_thread_sharing
    assert not [t for t in threading.enumerate() if t.name == "db-alongside"]


def test_one_piece_of_work_at_a_time():
    alongside = Alongside()
    alongside.start(lambda cursor: None)
    with pytest.raises(RuntimeError):
        alongside.start(lambda cursor: None)
    assert alongside.wait() is None
    assert not connection.allow_thread_sharing


def test_lazy_text_makes_only_the_pieces_a_read_needs_and_starts_again_on_seek():
    made = []

    def pieces():
        for piece in ("ab", "cde", "f"):
            made.append(piece)
            yield piece

    text = LazyText(pieces)
    assert text.read(2) == "ab" and made == ["ab"]
    assert text.read(2) == "cd" and made == ["ab", "cde"]
    assert text.read(10) == "ef"
    assert text.read(10) == ""
    assert text.seek(0) == 0
    assert text.read() == "abcdef"
    with pytest.raises(OSError):
        text.seek(3)


def test_json_text_field_keeps_compact_json_text_and_gives_back_the_value():
    field = JSONTextField()
    assert field.get_prep_value({"key": "k", "items": [[1, 2]]}) == '{"key":"k","items":[[1,2]]}'
    assert field.get_prep_value(None) is None
    assert field.from_db_value('{"a": [1, -2]}', None, connection) == {"a": [1, -2]}
    assert field.from_db_value(None, None, connection) is None
    assert field.from_db_value("not json", None, connection) == "not json"  # refused by the readers


def test_lazy_text_keeps_the_error_met_while_making_the_text():
    def pieces():
        yield "ab"
        raise TypeError("no line")

    text = LazyText(pieces)
    assert text.read(2) == "ab"
    with pytest.raises(TypeError):
        text.read(2)
    with pytest.raises(TypeError, match="no line"):
        text.raise_error()
    text.seek(0)
    text.raise_error()  # forgotten with the text made again
    assert text.read(2) == "ab"
