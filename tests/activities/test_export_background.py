"""The ledger's export of a large selection made in the background (issue 16, core.export_jobs): above
EXPORT_INLINE_ROWS the page offers it instead of writing it in the request; POST requests it (once
while it is pending), the task writes the same workbook the page writes, and only the requester sees
its progress and downloads it."""

import datetime as dt
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from activities import exports
from activities.models import Activity
from core import export_jobs
from core.models import ExportJob

from .conftest import YEAR, client_for, make_activity

pytestmark = pytest.mark.django_db

URL = "/activities/ledger/export.xlsx"


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORTS_ROOT = str(tmp_path / "exports")


def _values(content: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["活动台账"]
    return list(book.active.iter_rows(values_only=True))


def _world(w, kinds):
    first = make_activity(w, kinds, title="=HYPERLINK(\"x\")", held_on=dt.date(YEAR, 3, 2))
    first.clauses.add(w.clauses["2.1"])
    make_activity(w, kinds, inst=w.b, user=w.filer_b, title="乙的活动", clause=None, held_on=dt.date(YEAR, 5, 6))
    make_activity(w, kinds, inst=w.c, user=w.filer_c, title="椒江活动", clause=None)  # another district


def test_large_export_is_offered_then_made_in_the_background_with_the_same_workbook(
        w, kinds, settings, django_capture_on_commit_callbacks):
    _world(w, kinds)
    client = client_for(w.fc)
    inline = client.get(URL, {"year": YEAR})
    assert inline.status_code == 200 and inline["Content-Type"] == exports.XLSX
    expected = _values(inline.content)
    assert len(expected) == 3  # headers and 路桥's two activities

    settings.EXPORT_INLINE_ROWS = 1
    offer = client.get(URL, {"year": YEAR})
    assert offer.status_code == 200 and offer["Content-Type"].startswith("text/html")
    assert "<form method=\"post\">" in offer.content.decode() and not ExportJob.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        requested = client.post(f"{URL}?year={YEAR}")
    job = ExportJob.objects.get()
    assert requested.status_code == 302 and requested["Location"] == f"/exports/{job.pk}/"
    assert (job.kind, job.params, job.created_by, job.status, job.progress) == (
        exports.LEDGER_KIND, {"year": [str(YEAR)]}, w.fc, "succeeded", 100)
    page = client.get(requested["Location"])
    assert page.status_code == 200 and f"/exports/{job.pk}/file/" in page.content.decode()
    status = client.get(requested["Location"], HTTP_ACCEPT="application/json").json()
    assert (status["status"], status["progress"], status["file"]) == ("succeeded", 100, f"/exports/{job.pk}/file/")
    download = client.get(f"/exports/{job.pk}/file/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="activities.xlsx"'
    assert _values(b"".join(download.streaming_content)) == expected


def test_only_the_requester_sees_the_export(w, kinds, settings, django_capture_on_commit_callbacks):
    _world(w, kinds)
    settings.EXPORT_INLINE_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        client_for(w.fc).post(URL)
    job = ExportJob.objects.get()
    for user in (w.fc_c, w.filer, w.insp):
        client = client_for(user)
        assert client.get(f"/exports/{job.pk}/").status_code == 404
        assert client.get(f"/exports/{job.pk}/file/").status_code == 404
    from django.test import Client

    assert Client().get(f"/exports/{job.pk}/file/").status_code == 302  # to the login page


def test_the_builder_runs_with_the_requesters_rights(w, kinds, settings, django_capture_on_commit_callbacks):
    _world(w, kinds)
    settings.EXPORT_INLINE_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        client_for(w.filer_b).post(URL)  # B's filer: B's activity only
    job = ExportJob.objects.get()
    rows = _values(job.file.open("rb").read())
    assert [row[6] for row in rows[1:]] == ["乙的活动"]


def test_a_pending_request_is_not_duplicated_and_a_redelivery_changes_nothing(
        w, kinds, settings, django_capture_on_commit_callbacks):
    _world(w, kinds)
    settings.EXPORT_INLINE_ROWS = 0
    client = client_for(w.fc)
    with django_capture_on_commit_callbacks() as callbacks:
        first = client.post(f"{URL}?year={YEAR}")
        again = client.post(f"{URL}?year={YEAR}")
        other = client.post(f"{URL}?year={YEAR}&category=study")
    assert first["Location"] == again["Location"] != other["Location"]
    assert ExportJob.objects.count() == 2 and len(callbacks) == 2
    job = ExportJob.objects.get(params={"year": [str(YEAR)]})
    assert job.status == "queued" and not job.file
    export_jobs.execute(job.pk)
    job.refresh_from_db()
    stored, finished = job.file.name, job.finished_at
    export_jobs.execute(job.pk)  # the message delivered twice
    job.refresh_from_db()
    assert (job.status, job.file.name, job.finished_at) == ("succeeded", stored, finished)
    # Once finished, the same request makes a new export (the data may have changed).
    with django_capture_on_commit_callbacks():
        assert client.post(f"{URL}?year={YEAR}")["Location"] != first["Location"]


def test_progress_is_reported_per_chunk(w, kinds):
    made = Activity.objects.bulk_create(
        Activity(institution=w.a, kind=kinds["lq"], title=f"活动{i}", held_on=dt.date(YEAR, 1, 1), year=YEAR,
                 participant_count=i) for i in range(2 * exports.CHUNK))
    seen = []
    from django.http import QueryDict

    result = exports.ledger_file(w.fc, QueryDict(""), seen.append)
    assert seen == [45, 90]
    assert len(_values(result.content)) == len(made) + 1


def test_stale_exports_are_marked_failed(w):
    old = timezone.now() - timedelta(days=1)
    queued = ExportJob.objects.create(kind=exports.LEDGER_KIND, created_by=w.fc, created_at=old)
    running = ExportJob.objects.create(kind=exports.LEDGER_KIND, created_by=w.fc, status="running", started_at=old)
    fresh = ExportJob.objects.create(kind=exports.LEDGER_KIND, created_by=w.fc)
    assert export_jobs.reap_stale(timezone.now() - timedelta(hours=2)) == 2
    assert [ExportJob.objects.get(pk=j.pk).status for j in (queued, running, fresh)] == ["failed", "failed", "queued"]
