import pytest

from inspections.demo import seed_inspections
from inspections.models import Finding, PlanEntry, RectificationTally, Visit
from institutions import demo as institutions_demo
from tests.conftest import client_for
from tests.inspections.conftest import make_norms

pytestmark = pytest.mark.django_db


def test_seed_inspections_is_a_year_with_every_state_and_idempotent():
    institutions_demo.seed_registry(employees_per_institution=1)
    users = dict(institutions_demo.seed_users())
    assert "finance" in users
    make_norms(2026, None, clauses=("1.1", "1.2", "1.3", "2.1", "3.2"))
    line = seed_inspections()
    assert line.startswith("督查") and "逾期" in line
    counts = (Visit.objects.count(), Finding.objects.count(), PlanEntry.objects.count())
    assert counts[0] >= 8 and counts[1] >= 10 and counts[2] >= 10
    statuses = {f.tracked_item.status for f in Finding.objects.select_related("tracked_item")}
    assert statuses == {"open", "reported", "closed"}
    assert any(f.tracked_item.is_overdue() for f in Finding.objects.select_related("tracked_item"))
    assert RectificationTally.objects.filter(closed_on_time__gt=0).exists()
    assert RectificationTally.objects.filter(overdue__gt=0).exists()
    assert seed_inspections() == ""
    assert (Visit.objects.count(), Finding.objects.count(), PlanEntry.objects.count()) == counts
    from django.contrib.auth import get_user_model

    finance = get_user_model().objects.get(username="finance")
    overdue = client_for(finance).get("/api/v1/rectifications/?status=overdue").json()
    assert overdue["count"] >= 1 and all(r["overdue"] for r in overdue["results"])
