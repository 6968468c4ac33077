"""A record being attached as evidence and the same record being deleted (or its showcase taken away)
never cross: both lock the record, so the second waits and then sees the first. (Review finding: the
deletion checked for evidence links before any lock, so a link could point at a deleted activity.)"""

import threading

import pytest
from django.conf import settings
from django.db import connections, transaction

from activities import services
from activities.models import Activity, EvidenceLink, SelfChosenAction
from tests.scoring.factories import assessment_for

from .conftest import YEAR, make_activity

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                       reason="row locks: PostgreSQL (SQLite serialises writers)"),
]


def crossing(first_inside_transaction, second):
    """`first` in a transaction left open, then `second` in another thread: (did `second` wait, outcome)."""
    started, release, outcome = threading.Event(), threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                first_inside_transaction()
                started.set()
                release.wait(15)
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


def test_an_activity_being_attached_is_not_deleted_under_it(w, kinds):
    activity = make_activity(w, kinds, clause="1.1")
    assessment = assessment_for(w.a, w.scheme)

    waited, outcome = crossing(lambda: services.attach_evidence(w.filer, assessment, "B1", "activity", activity.pk),
                               lambda: services.delete_activity(w.filer, activity))
    assert waited, "the deletion did not wait for the attachment"
    assert isinstance(outcome.get("error"), services.StateConflict), outcome
    assert Activity.objects.filter(pk=activity.pk).exists() and EvidenceLink.objects.count() == 1


def test_a_showcase_being_attached_keeps_its_award(w):
    action = SelfChosenAction.objects.create(institution=w.a, year=YEAR, title="阳光信贷", goals="目标",
                                             status="done")
    action.clauses.set([w.clauses["1.1"]])
    services.mark_showcase(w.fc, action, True, "推广")
    assessment = assessment_for(w.a, w.scheme)

    waited, outcome = crossing(lambda: services.attach_evidence(w.filer, assessment, "B1", "showcase", action.pk),
                               lambda: services.mark_showcase(w.fc, action, False))
    assert waited, "taking the showcase away did not wait for the attachment"
    assert isinstance(outcome.get("error"), services.StateConflict), outcome
    assert SelfChosenAction.objects.get(pk=action.pk).is_showcase
