"""Two screenings of one institution at once: the advisory lock serialises them, no key twice."""

import datetime as dt
import threading

import pytest
from django.db import connection

from risk import services
from risk.models import Alert, Screening

from .conftest import load, rel, txn


@pytest.mark.django_db(transaction=True)
def test_two_screenings_at_once_create_each_alert_once(portal, bank):
    load(portal, [txn(f"E{1 + i % 4}", f"2026-0{1 + i % 9}-10 09:00:00", "8000", "C1", counterparty_type="customer")
                  for i in range(40)], [rel(f"E{n}", "C1", "2026-01-01") for n in (1, 2, 3, 4)])
    screenings = [Screening.objects.create(institution=bank.a, date_from=dt.date(2026, 1, 1),
                                           date_to=dt.date(2026, 12, 31)) for _ in range(2)]
    errors = []

    def run(pk):
        try:
            services.run_screening(pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(s.pk,)) for s in screenings]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for s in screenings:
        s.refresh_from_db()
        assert s.status == "done", s.error
    assert Alert.objects.count() == 36  # 4 employees x 9 months
    assert sum(s.alerts_created for s in screenings) == 36
    assert all(s.alerts_total == 36 for s in screenings)


@pytest.mark.django_db(transaction=True)
def test_two_loads_of_the_same_relationships_at_once_keep_each_row_once(bank):
    """(Review finding: relationships and events have no unique key; two loads at once each deleted what
    they could see and inserted, and both files' rows stayed.) The second load waits for the first."""
    from risk.models import Relationship
    from tests.concurrency import crossing

    rows = [{"employee_no": f"E{n}", "counterparty_id": "C1", "relation": "loan_officer",
             "since": dt.date(2026, 1, n), "until": None} for n in (1, 2, 3)]
    waited, outcome = crossing(lambda: services.store_rows(bank.a, "relationships", rows, filename="a.csv"),
                               lambda: services.store_rows(bank.a, "relationships", rows, filename="b.csv"))
    assert "first_error" not in outcome and "error" not in outcome, outcome
    assert waited, "the second load did not wait for the first"
    assert Relationship.objects.filter(institution=bank.a).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_alerts_handled_at_once_are_both_counted_in_the_summary(portal, bank):
    """Each handling recounts the institution-year's summary: the second waits for the first, then
    counts both (each used to count only its own change, and the last to write won)."""
    from risk.models import InstitutionSummary
    from tests.concurrency import crossing

    load(portal, [txn(f"E{1 + i % 4}", f"2026-0{1 + i % 9}-10 09:00:00", "8000", "C1", counterparty_type="customer")
                  for i in range(40)], [rel(f"E{n}", "C1", "2026-01-01") for n in (1, 2, 3, 4)])
    screening = Screening.objects.create(institution=bank.a, date_from=dt.date(2026, 1, 1),
                                         date_to=dt.date(2026, 12, 31))
    services.run_screening(screening.pk)
    first, second = Alert.objects.filter(institution=bank.a).order_by("pk")[:2]
    waited, outcome = crossing(lambda: services.act(bank.filer, first, "review"),
                               lambda: services.act(bank.filer, second, "review"))
    assert "first_error" not in outcome and "error" not in outcome, outcome
    assert waited, "the second recount did not wait for the first"
    summary = InstitutionSummary.objects.get(institution=bank.a, year=2026)
    assert summary.by_status["reviewing"] == 2 and summary.by_status["new"] == summary.total - 2
