"""A record being attached as evidence and the same record being deleted (or its showcase taken away)
never cross: both lock the record, so the second waits and then sees the first. (Review finding: the
deletion checked for evidence links before any lock, so a link could point at a deleted activity.)"""

import pytest
from django.conf import settings

from activities import services
from activities.models import Activity, EvidenceLink, SelfChosenAction
from tests.concurrency import crossing
from tests.scoring.factories import assessment_for

from .conftest import YEAR, make_activity

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                       reason="row locks: PostgreSQL (SQLite serialises writers)"),
]


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
