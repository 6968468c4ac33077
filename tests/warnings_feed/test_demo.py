import pytest
from django.contrib.auth import get_user_model

from institutions import demo as institutions_demo
from tests.conftest import client_for
from warnings_feed.demo import DEMO_WARNINGS, seed_warnings
from warnings_feed.models import Delivery, Warning

pytestmark = pytest.mark.django_db


def test_seed_warnings_is_idempotent_and_leaves_the_demo_employee_unread():
    institutions_demo.seed_registry(employees_per_institution=3)
    line = seed_warnings()
    assert line.startswith("警示信息 6 条") and "送达" in line and "\n" not in line
    counts = (Warning.objects.count(), Delivery.objects.count(),
              Delivery.objects.filter(acknowledged_at__isnull=False).count())
    institutions_demo.seed_users()
    assert seed_warnings() == line
    assert (Warning.objects.count(), Delivery.objects.count(),
            Delivery.objects.filter(acknowledged_at__isnull=False).count()) == counts
    assert Warning.objects.count() == len(DEMO_WARNINGS)
    assert Warning.objects.filter(publisher__username="finance").exists()  # filled in once users exist
    employee = get_user_model().objects.get(username="employee")
    feed = client_for(employee).get("/api/v1/warnings/").json()
    assert feed["count"] == 5 and feed["unread_count"] == 5  # the scheduled one is not out yet
    assert "黄小明" not in str(feed)
    assert Delivery.objects.filter(acknowledged_at__isnull=False).exists()  # rates to look at
