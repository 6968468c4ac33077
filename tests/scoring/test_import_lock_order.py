"""Two imports of score files that share sheets or assessments, run at the same moment, never deadlock:
each import locks its sheets, and submits them (locking their assessments), in one order — by
institution and source — whatever order the rows of its file are in. (They used to lock in the file's
order: two files listing the same institutions the other way round locked each other's next sheet, and
PostgreSQL aborted one import with «deadlock detected», a server error for the officer.)

Each test holds both imports at the same step (a barrier after each one's first lock) so that without
one order they would cross; with it, the second waits at its first lock until the first commits, and
the barrier gives up after a moment."""

from __future__ import annotations

import contextlib
import threading

import pytest
import tablib
from django.conf import settings
from django.db import connections

from scoring import services, sheet_sums
from scoring.models import ScoreSheet, SheetEntry, SheetStatus
from tests.factories import InstitutionFactory, UserFactory

from .factories import assessment_for, luqiao

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                       reason="row locks: PostgreSQL (SQLite serialises writers)"),
]


def _two_institutions(scheme) -> None:
    """K1 and K2 of 路桥区 with their assessments, the district's year open (as when officers import)."""
    services.district_year(luqiao(), scheme.year)
    for code in ("K1", "K2"):
        assessment_for(InstitutionFactory(code=code, district=luqiao()), scheme)


def _file(year: int, rows: list[tuple[str, str]]) -> tablib.Dataset:
    data = tablib.Dataset(headers=["year", "institution_code", "source", "indicator_code", "value", "note"])
    for code, source in rows:
        data.append([year, code, source, "B1", "30", ""])
    return data


def _side_by_side(monkeypatch, module, name: str, files: list[tablib.Dataset], submit: bool) -> list:
    """Both imports in threads, each held after its first call of `module.name` until the other has made
    its own (or 2 s passed); returns each one's report or exception."""
    barrier = threading.Barrier(2)
    original = getattr(module, name)
    local = threading.local()

    def held(*args, **kwargs):
        value = original(*args, **kwargs)
        if not getattr(local, "held", False):
            local.held = True
            # Broken when the other import waits for this one's lock instead (the order held).
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(2)
        return value

    monkeypatch.setattr(module, name, held)
    finance = UserFactory(username="fc_import_order", roles=["finance_center"])
    outcomes: list = [None, None]

    def run(i: int) -> None:
        try:
            outcomes[i] = services.import_scores(files[i], submit=submit, actor=finance)
        except Exception as exc:  # the deadlock, if any, is the outcome
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_imports_of_the_same_sheets_in_opposite_orders(scheme, monkeypatch):
    _two_institutions(scheme)
    files = [_file(scheme.year, [("K1", "inspection"), ("K2", "inspection")]),
             _file(scheme.year, [("K2", "inspection"), ("K1", "inspection")])]
    outcomes = _side_by_side(monkeypatch, services, "_sheet", files, submit=False)
    assert all(isinstance(o, services.ImportReport) and o.ok for o in outcomes), outcomes
    assert SheetEntry.objects.filter(sheet__source="inspection").count() == 2  # one each, the last value kept


def test_two_imports_submitting_sheets_of_the_same_assessments_in_opposite_orders(scheme, monkeypatch):
    _two_institutions(scheme)
    # No sheet in common, but each file's first submission is of the other file's second assessment.
    files = [_file(scheme.year, [("K1", "inspection"), ("K2", "third_party")]),
             _file(scheme.year, [("K2", "inspection"), ("K1", "third_party")])]
    outcomes = _side_by_side(monkeypatch, sheet_sums, "stamp", files, submit=True)
    assert all(isinstance(o, services.ImportReport) and o.ok for o in outcomes), outcomes
    assert ScoreSheet.objects.filter(status=SheetStatus.SUBMITTED).count() == 4
