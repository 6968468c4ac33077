"""Two items of one institution's findings changed at once: the stored tally counts both.
(Noticed in review: each recount saw only its own change, and the last to write the tally won.)"""

from datetime import date

import pytest
from django.conf import settings

from inspections import services
from inspections.models import RectificationTally
from tests.concurrency import crossing
from tracking import services as tracking
from tracking.models import TrackedItem

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                       reason="row locks: PostgreSQL (SQLite serialises writers)"),
]


def test_two_items_reported_at_once_are_both_counted(places):
    visit = services.record_visit(places["insp"], places["a"], services.VisitInput(visited_on=date(2026, 3, 2)))
    findings = [services.add_finding(visit, places["insp"], clause="3.2", description=f"问题{i}",
                                     severity="minor", rectify_within=200) for i in (1, 2)]
    first, second = (TrackedItem.objects.get(pk=f.tracked_item_id) for f in findings)
    waited, outcome = crossing(lambda: tracking.report(first, places["filer_a"], measures="已整改"),
                               lambda: tracking.report(second, places["filer_a"], measures="已整改"))
    assert "first_error" not in outcome and "error" not in outcome, outcome
    assert waited, "the second recount did not wait for the first"
    tally = RectificationTally.objects.get(institution=places["a"], year=2026, clause_number="3.2")
    assert (tally.total, tally.open, tally.reported) == (2, 0, 2)
