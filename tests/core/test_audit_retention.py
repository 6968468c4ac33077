"""Issue #11 item 6: security-relevant logs are kept at least six months, then purged."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings as django_settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone

from complaints.models import PiiReveal
from core import audit
from core.tasks import purge_audit_logs
from tests.complaints.helpers import submit_case
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows_aged(days):
    """One row of each audit table, `days` old."""
    when = timezone.now() - timedelta(days=days)
    user = UserFactory(username=f"u{days}")
    entry = LogEntry.objects.create(user=user, object_repr="x", action_flag=CHANGE, change_message="")
    LogEntry.objects.filter(pk=entry.pk).update(action_time=when)
    axes_row = {"username": f"u{days}", "ip_address": "10.0.0.1", "user_agent": "t", "http_accept": "*/*",
                "path_info": "/accounts/login/"}
    log = AccessLog.objects.create(**axes_row)
    attempt = AccessAttempt.objects.create(**axes_row, failures_since_start=1, get_data="", post_data="")
    AccessLog.objects.filter(pk=log.pk).update(attempt_time=when)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=when)
    case, _ = submit_case(InstitutionFactory())
    reveal = PiiReveal.objects.create(complaint=case, user=user, reason="核实", at=when)
    return {LogEntry: entry.pk, AccessLog: log.pk, AccessAttempt: attempt.pk, PiiReveal: reveal.pk}


def test_every_security_log_is_registered():
    assert {"admin.LogEntry", "axes.AccessLog", "axes.AccessFailureLog", "axes.AccessAttempt",
            "complaints.PiiReveal"} <= set(audit.registered())


def test_older_rows_are_purged_and_recent_ones_kept(settings):
    settings.AUDIT_RETENTION_DAYS = 190
    old, recent = rows_aged(191), rows_aged(189)
    assert purge_audit_logs() == 4
    for model in old:
        assert not model.objects.filter(pk=old[model]).exists()
        assert model.objects.filter(pk=recent[model]).exists()


def test_the_retention_is_never_shorter_than_six_months(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    kept = rows_aged(100)
    assert audit.retention_days() == 183
    purge_audit_logs()
    for model, pk in kept.items():
        assert model.objects.filter(pk=pk).exists()


def test_the_purge_runs_nightly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["core-purge-audit-logs"]
    assert entry["task"] == "core.purge_audit_logs" and django_settings.AUDIT_RETENTION_DAYS >= 183


@pytest.mark.django_db
def test_the_admin_change_log_names_people_masked(rf):
    """LogEntry.object_repr is kept for months: an employee (and the records naming one) appear
    there with the name masked, whether added, changed or deleted in the admin (issue #11, item 6)."""
    from django.contrib import admin
    from django.contrib.admin.models import LogEntry

    from institutions.models import Employee
    from tests.factories import EmployeeFactory, UserFactory

    request = rf.post("/")
    request.user = UserFactory(username="root", is_staff=True, is_superuser=True)
    employee = EmployeeFactory(name="黄小明", employee_no="E9001")
    employees = admin.site._registry[Employee]
    employees.log_addition(request, employee, [{"added": {}}])
    employees.log_change(request, employee, [{"changed": {"fields": ["name"]}}])
    employees.log_deletions(request, Employee.objects.filter(pk=employee.pk))
    reprs = list(LogEntry.objects.values_list("object_repr", flat=True))
    assert len(reprs) == 3 and all(r == "黄某（E9001）" for r in reprs), reprs
