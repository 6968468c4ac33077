"""Screening through Celery, the monthly beat job, the retention purge, the reaper, rule parameters."""

import datetime as dt

import pytest
from django.utils import timezone

from risk import rules, services, tasks
from risk.models import Alert, Event, Screening, Transaction

from .conftest import evt, load, rel, txn


@pytest.fixture
def data(portal):
    load(portal, [txn("E1", "2026-03-10 09:00:00", "8000", "C1", counterparty_type="customer")],
         [rel("E1", "C1", "2026-01-01")], [evt("E1", "2026-03-02 08:00:00", "login")])
    return portal


def test_with_a_broker_the_screening_is_queued_after_commit(data, bank, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setitem(tasks.run_screening.app.conf, "task_always_eager", False)
    monkeypatch.setattr("core.queue.publish_now", lambda task, args, kwargs: published.append((task.name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        response = data.screen("2026-01-01", "2026-12-31")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued" and body["alerts_created"] == 0
    assert published == [("risk.run_screening", (body["id"],))]
    tasks.run_screening(body["id"])  # the worker
    tasks.run_screening(body["id"])  # delivered twice: nothing more
    status = data.client.get(f"/api/v1/risk/screenings/{body['id']}/").json()
    assert status["status"] == "done" and status["alerts_created"] == 1 and status["progress"] == 100
    assert Alert.objects.count() == 1


def test_bad_screening_requests(data, bank):
    assert data.screen("2026-12-31", "2026-01-01").status_code == 400
    assert data.screen("2026-01-01", "nope").status_code == 400
    assert data.client.post("/api/v1/risk/screenings/", {}, format="json").status_code == 400
    from .conftest import Portal

    assert Portal(bank.fc).screen("2026-01-01", "2026-12-31").status_code == 403
    assert Portal(bank.emp).screen("2026-01-01", "2026-12-31").status_code == 403
    assert not Screening.objects.exists()


def test_monthly_beat_screens_last_month_once(data, bank):
    assert services.screen_previous_month(dt.date(2026, 4, 15)) == 1
    screening = Screening.objects.get()
    assert (screening.date_from, screening.date_to) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert screening.status == "done" and Alert.objects.filter(period="2026-03").count() == 1
    assert services.screen_previous_month(dt.date(2026, 4, 20)) == 0


def test_retention_purge(data, bank, settings):
    settings.RISK_RETENTION_DAYS = 30
    Transaction.objects.update(loaded_at=timezone.now() - dt.timedelta(days=31))
    assert services.purge_expired() == 1
    assert not Transaction.objects.exists() and Event.objects.count() == 1


def test_stale_screenings_are_failed_by_the_reaper(bank):
    s = Screening.objects.create(institution=bank.a, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31))
    Screening.objects.filter(pk=s.pk).update(created_at=timezone.now() - dt.timedelta(hours=5))
    from core.queue import reap

    assert reap() >= 1
    s.refresh_from_db()
    assert s.status == "failed" and "重新发起" in s.error


def test_parameters_are_validated():
    assert rules.validate_params("R02", None) == {"min_count": 3, "window_days": 30, "min_total": "50000.00"}
    assert rules.validate_params("R04", {"mcc": "7995, 7801"})["mcc"] == ["7801", "7995"]
    for code, params in (("R01", {"min_amount": "0"}), ("R01", {"min_amount": "1.001"}), ("R02", {"min_count": 0}),
                         ("R02", {"window_days": 400}), ("R04", {"mcc": "79"}), ("R05", {"day_start": "25:00"}),
                         ("R05", {"day_start": "20:00", "day_end": "19:00"}), ("R06", {"x": 1})):
        with pytest.raises(ValueError):
            rules.validate_params(code, params)


def test_suppression_lifted_raises_again(data, bank):
    c = data.client
    s = c.post("/api/v1/risk/suppressions/", {"rule": "R01", "employee_no": "E1", "reason": "亲属"},
               format="json").json()
    data.screen("2026-01-01", "2026-12-31")
    assert not Alert.objects.exists()
    assert c.post(f"/api/v1/risk/suppressions/{s['id']}/lift/").status_code == 204
    data.screen("2026-01-01", "2026-12-31")
    assert Alert.objects.count() == 1


def test_monthly_beat_screens_every_institution_with_transactions_or_events_and_no_other(data, bank):
    """Bank A has transactions (the `data` fixture), bank B only events, 椒江's bank C nothing."""
    when = timezone.make_aware(dt.datetime(2026, 3, 5, 10, 0))
    Event.objects.create(institution=bank.b, employee_no="E1", occurred_at=when, occurred_on=when.date(),
                         action="login", target_id="", loaded_at=timezone.now())
    assert services.screen_previous_month(dt.date(2026, 4, 15)) == 2
    assert set(Screening.objects.values_list("institution_id", flat=True)) == {bank.a.pk, bank.b.pk}
    assert not Screening.objects.filter(institution=bank.c).exists()
