"""The annual report comes out in the language of the user who asked for it (stored on the request), whatever
language the worker runs in; Chinese by default. The cached figures are kept per language."""

import io
import re

import pytest
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook
from pypdf import PdfReader

from dashboards import services
from dashboards.models import AnnualReport
from tests.conftest import client_for

from .conftest import YEAR

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reports_folder(settings, tmp_path):
    settings.DASHBOARDS_REPORTS_ROOT = tmp_path / "reports"


def request_report(dataset, django_capture_on_commit_callbacks, **headers) -> AnnualReport:
    """Ask through the API; the queued task is NOT run here (the callbacks are captured, not executed)."""
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(dataset.finance).post("/api/v1/reports/", {"district": "331004", "year": YEAR},
                                                    format="json", **headers)
    assert response.status_code == 202, response.content
    return AnnualReport.objects.get(pk=response.json()["id"])


def files_of(report: AnnualReport) -> tuple[str, object]:
    report.refresh_from_db()
    assert report.status == "succeeded", report.error
    with report.pdf.open("rb") as f:
        pdf = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(f.read())).pages))
    with report.xlsx.open("rb") as f:
        book = load_workbook(io.BytesIO(f.read()))
    return pdf, book


def test_report_requested_in_english_comes_out_in_english(dataset, django_capture_on_commit_callbacks):
    report = request_report(dataset, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="en")
    assert report.language == "en"
    with translation.override("zh-hans"):  # the worker's own language does not matter
        services.execute_report(report.pk)
    pdf, book = files_of(report)
    assert "Points ranking" in book.sheetnames and "积分排名" not in book.sheetnames
    header = next(book["Points ranking"].iter_rows(max_row=1, values_only=True))
    assert header[0] == "Rank in district" and header[3] == "Institution code"
    assert "Rank in district" in pdf and "Total score" in pdf and "Basic score" in pdf
    assert "区内排名机构类别基础分" not in pdf.replace(" ", "")  # the ranking table's Chinese header row
    assert "甲演示银行" in pdf  # the data stays as entered
    # The progress step is stored as its msgid and shown in each reader's language.
    assert report.step == "完成"
    with translation.override("en"):
        assert services.step_label(report.step) == gettext("完成")


def test_report_is_chinese_by_default(dataset, django_capture_on_commit_callbacks):
    report = request_report(dataset, django_capture_on_commit_callbacks)
    assert report.language == "zh-hans"
    with translation.override("en"):  # a worker in another language still writes the requester's
        services.execute_report(report.pk)
    pdf, book = files_of(report)
    assert book.sheetnames[:2] == ["汇总", "积分排名"]
    header = next(book["积分排名"].iter_rows(max_row=1, values_only=True))
    assert header[0] == "区内排名" and header[3] == "机构编码"
    compact = pdf.replace(" ", "")
    assert "二、清廉积分排名" in compact and "区内排名机构类别基础分" in compact and "Rank in district" not in pdf


def test_an_unknown_language_falls_back_to_chinese(dataset):
    report = services.request_report(dataset.luqiao, YEAR, dataset.finance, language="fr")
    assert report.language == "zh-hans"


def test_cached_figures_are_kept_per_language(dataset):
    api = client_for(dataset.finance)
    url = f"/api/v1/dashboards/district/colours/?district=331004&year={YEAR}"
    chinese = api.get(url).json()
    english = api.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert [c["label"] for c in chinese["colours"]] == ["绿", "蓝", "黄", "红"]
    assert english["colours"][0]["label"] == "Green" and english["colours"][3]["label"] == "Red"
    assert api.get(url).json() == chinese  # and the Chinese entry is still Chinese
