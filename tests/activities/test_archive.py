"""The archive of an institution-year and of a district-year: every clause's folder, every file once,
the index true to the zip."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from activities import services
from activities.models import ArchiveJob

from .conftest import client_for, make_activity
from .test_ledger import _jpeg_with_gps

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(w, kinds, settings, tmp_path):
    from tests.scoring.factories import assessment_for

    settings.ACTIVITIES_FILES_ROOT = str(tmp_path / "files")
    assessment = assessment_for(w.a, w.scheme)
    activity = make_activity(w, kinds, clause="1.1")
    services.add_activity_files(w.filer, activity, [SimpleUploadedFile("现场.jpg", _jpeg_with_gps())], "photo")
    services.add_activity_files(w.filer, activity, [SimpleUploadedFile("现场.jpg", _jpeg_with_gps())], "photo")
    make_activity(w, kinds, title="无条款活动", clause=None)
    services.attach_evidence(w.filer, assessment, "B1", "activity", activity.pk)
    make_activity(w, kinds, inst=w.b, user=w.filer_b, title="乙的活动")
    return assessment


def _zip_of(client, job_pk):
    r = client.get(f"/activities/archives/{job_pk}/download/")
    assert r.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))


def test_institution_archive(w, filled, django_capture_on_commit_callbacks):
    client = client_for(w.filer)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/activities/archives/", {"year": 2026, "institution": "A001"})
    job = ArchiveJob.objects.get()
    assert r.status_code == 302 and job.status == "done" and job.progress == 100
    z = _zip_of(client, job.pk)
    names = z.namelist()
    assert len(names) == len(set(names))  # every path once
    folders = {n for n in names if n.endswith("/")}
    for number in ("1.1", "1.2", "2.1"):
        assert any(f.startswith(f"条款/{number} ") for f in folders), number
    assert "条款/未对应条款/" in folders
    files = [n for n in names if not n.endswith("/")]
    index = list(load_workbook(io.BytesIO(z.read("index.xlsx"))).active.iter_rows(values_only=True))
    listed = [row[0] for row in index[1:]]
    assert sorted(listed) == sorted(f for f in files if f != "index.xlsx")  # the index lists every file once
    for row in index[1:]:
        assert row[5] == len(z.read(row[0]))
    clause_11 = [f for f in files if f.startswith("条款/1.1 ")]
    assert any("佐证-B1-" in f for f in clause_11)  # the self sheet's evidence
    assert sum(1 for f in clause_11 if f.endswith(".jpg") or "现场" in f) == 2  # both photos, numbered
    assert any("无条款活动" in f for f in files if f.startswith("条款/未对应条款/"))
    assert "评分表/机构自评.xlsx" in files
    assert not any("乙的活动" in f for f in files)
    assert job.files_count == len(files)
    # The JSON progress and the page.
    assert client.get(f"/activities/archives/{job.pk}/?format=json").json()["status"] == "done"
    # Others: another institution's filer and another district: 404.
    assert client_for(w.filer_b).get(f"/activities/archives/{job.pk}/download/").status_code == 404
    assert client_for(w.fc_c).get(f"/activities/archives/{job.pk}/").status_code == 404
    assert client_for(w.filer_b).post("/activities/archives/", {"year": 2026, "institution": "A001"}
                                      ).status_code == 404


def test_district_archive_for_the_finance_center(w, filled, django_capture_on_commit_callbacks):
    client = client_for(w.fc)
    assert client_for(w.filer).post("/activities/archives/", {"year": 2026, "institution": ""}).status_code == 302
    assert not ArchiveJob.objects.exists()  # a filer may not build the district's
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/activities/archives/", {"year": 2026, "institution": ""})
    job = ArchiveJob.objects.get()
    z = _zip_of(client, job.pk)
    names = z.namelist()
    assert any(n.startswith("A001 甲银行/条款/1.1 ") for n in names)
    assert any(n.startswith("B001 乙保险/条款/") and "乙的活动" in n for n in names)
    assert not any(n.startswith("C001") for n in names)
    assert len(names) == len(set(names))


def test_archive_holds_rectification_notices_and_replies(w, filled, django_capture_on_commit_callbacks, settings,
                                                         tmp_path):
    import datetime as dt

    from inspections import services as inspections
    from tracking import services as tracking

    settings.INSPECTIONS_FILES_ROOT = tmp_path / "inspections"
    visit = inspections.record_visit(w.insp, w.a, inspections.VisitInput(visited_on=dt.date(2026, 5, 6),
                                                                         team=["检查员"]))
    finding = inspections.add_finding(visit, w.insp, clause="1.1", description="未建立廉洁档案", severity="minor",
                                      rectify_within=10)
    tracking.report(finding.tracked_item, w.filer, measures="已建立干部廉政档案")
    with django_capture_on_commit_callbacks(execute=True):
        job = services.request_archive(w.fc, 2026, w.a)
    job.refresh_from_db()
    assert job.status == "done", job.error
    z = zipfile.ZipFile(io.BytesIO(job.file.read()))
    names = z.namelist()
    notices = [n for n in names if n.startswith("整改/整改通知书-")]
    assert len(notices) == 1 and z.read(notices[0]).startswith(b"%PDF")
    table = load_workbook(io.BytesIO(z.read("整改/整改情况.xlsx"))).active
    rows = list(table.iter_rows(values_only=True))
    assert rows[1][2] == "1.1" and "已建立干部廉政档案" in rows[1][8]
