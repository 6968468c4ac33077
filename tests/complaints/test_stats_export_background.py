"""The statistics' export for many institutions made in the background (issue 16, core.export_jobs):
above EXPORT_INLINE_ROWS institutions the page offers it; the task writes the same sheets and rows
the page writes, in the requested format, within the requester's districts."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from complaints import exports
from core.models import ExportJob
from tests.complaints.helpers import submit_case
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db

URL = "/complaints/stats/export/"


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORTS_ROOT = str(tmp_path / "exports")


def _banks(n):
    for k in range(n):
        bank = InstitutionFactory(code=f"LQ-S{k:04d}", name="=1+1" if k == 0 else f"银行{k}")
        submit_case(bank, kind="report")
        submit_case(bank, kind="rating", description="", ratings={"attitude": 5, "efficiency": 2 + k % 4})


def _sheets(content: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(content))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def _background(client, query, django_capture_on_commit_callbacks) -> ExportJob:
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"{URL}?{query}")
    job = ExportJob.objects.order_by("-pk").first()
    assert r.status_code == 302 and r["Location"] == f"/exports/{job.pk}/"
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    download = client.get(f"/exports/{job.pk}/file/")
    assert download.status_code == 200
    job.content = b"".join(download.streaming_content)
    job.disposition = download["Content-Disposition"]
    return job


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_background_export_has_the_same_contents(fc, settings, django_capture_on_commit_callbacks, fmt):
    _banks(3)
    client = Client()
    client.force_login(fc)
    inline = client.get(URL, {"format": fmt})
    assert inline.status_code == 200
    settings.EXPORT_INLINE_ROWS = 2
    offer = client.get(URL, {"format": fmt})
    assert offer.status_code == 200 and offer["Content-Type"].startswith("text/html")
    assert not ExportJob.objects.exists()
    job = _background(client, f"format={fmt}", django_capture_on_commit_callbacks)
    assert job.kind == exports.STATS_KIND and job.disposition == inline["Content-Disposition"]
    if fmt == "xlsx":
        sheets = _sheets(job.content)
        assert sheets == _sheets(inline.content)
        assert [r[0] for r in sheets["按机构"][1:]] == ["LQ-S0000", "LQ-S0001", "LQ-S0002"]
    else:
        assert job.content == inline.content


def test_a_bad_format_is_refused_before_anything_is_queued(fc, settings):
    settings.EXPORT_INLINE_ROWS = 0
    client = Client()
    client.force_login(fc)
    assert client.post(f"{URL}?format=pdf").status_code == 404
    assert not ExportJob.objects.exists()
