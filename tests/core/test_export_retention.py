"""Background exports are downloads, not archives: finished ones are deleted with their files after
EXPORT_RETENTION_DAYS by the nightly beat job; queued and running ones are never touched."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from core import export_jobs, tasks
from core.models import ExportJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORTS_ROOT = str(tmp_path / "exports")
    settings.EXPORT_RETENTION_DAYS = 7


def _job(user, status, finished_days_ago=None, with_file=True):
    now = timezone.now()
    job = ExportJob.objects.create(kind="ledger", created_by=user, status=status,
                                   finished_at=None if finished_days_ago is None
                                   else now - timedelta(days=finished_days_ago))
    if with_file:
        job.file.save("ledger.xlsx", ContentFile(b"PK fake workbook"), save=True)
    return job


def test_finished_exports_past_the_retention_go_with_their_files(settings):
    user = UserFactory()
    old = _job(user, ExportJob.Status.SUCCEEDED, finished_days_ago=8)
    old_failed = _job(user, ExportJob.Status.FAILED, finished_days_ago=30, with_file=False)
    recent = _job(user, ExportJob.Status.SUCCEEDED, finished_days_ago=6)
    running = _job(user, ExportJob.Status.RUNNING, with_file=False)
    queued = _job(user, ExportJob.Status.QUEUED, with_file=False)
    storage, old_name = old.file.storage, old.file.name
    assert storage.exists(old_name)

    assert tasks.purge_export_jobs() == 2
    assert set(ExportJob.objects.values_list("pk", flat=True)) == {recent.pk, running.pk, queued.pk}
    assert not storage.exists(old_name)
    assert storage.exists(recent.file.name)
    assert old_failed.pk not in set(ExportJob.objects.values_list("pk", flat=True))
    assert tasks.purge_export_jobs() == 0  # idempotent


def test_retention_follows_the_setting_and_a_missing_file_does_not_block_the_purge(settings):
    user = UserFactory()
    job = _job(user, ExportJob.Status.SUCCEEDED, finished_days_ago=3)
    job.file.storage.delete(job.file.name)  # removed by hand from the store
    assert export_jobs.purge_expired() == 0
    settings.EXPORT_RETENTION_DAYS = 2
    assert export_jobs.purge_expired() == 1
    assert not ExportJob.objects.exists()


def test_the_purge_is_scheduled_nightly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["core-purge-export-jobs"]
    assert entry["task"] == tasks.purge_export_jobs.name
