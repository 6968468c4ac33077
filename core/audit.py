"""Retention of the security-relevant logs (issue #11, 等保 2.0 / 网络安全法 art. 21: at least six months).

Apps name their audit tables here (`register("app_label.Model", "date_field")`, in their
AppConfig.ready(); core knows no other app of the project): core registers Django admin's change log
and django-axes' login logs, complaints its identity and sealed-original reveals. The beat job
`core.purge_audit_logs` (nightly) deletes rows older than AUDIT_RETENTION_DAYS, which is never less
than MINIMUM_DAYS whatever the setting says.
"""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone

MINIMUM_DAYS = 183  # six months
_TABLES: dict[str, str] = {}


def register(model_label: str, date_field: str) -> None:
    """Keep the rows of `model_label` for the retention period, judged by `date_field`."""
    _TABLES[model_label] = date_field


def registered() -> dict[str, str]:
    return dict(_TABLES)


def retention_days() -> int:
    return max(int(getattr(settings, "AUDIT_RETENTION_DAYS", MINIMUM_DAYS)), MINIMUM_DAYS)


def purge_expired(now=None) -> dict[str, int]:
    """Delete what is older than the retention period; returns the rows deleted per table."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    deleted = {}
    for label, field in sorted(_TABLES.items()):
        model = apps.get_model(label)
        count, _ = model._default_manager.filter(**{f"{field}__lt": cutoff}).delete()
        deleted[label] = count
    return deleted


def register_defaults() -> None:
    """Django admin's change log and django-axes' login logs, when installed."""
    if apps.is_installed("django.contrib.admin"):
        register("admin.LogEntry", "action_time")
    if apps.is_installed("axes"):
        register("axes.AccessLog", "attempt_time")
        register("axes.AccessFailureLog", "attempt_time")
        register("axes.AccessAttempt", "attempt_time")
