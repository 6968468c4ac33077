"""The annual report: a Celery task with progress, a PDF whose text holds the district and the ranking, an xlsx pack."""

import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from dashboards import svg
from dashboards.models import AnnualReport
from tests.conftest import client_for

from .conftest import YEAR

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reports_folder(settings, tmp_path):
    settings.DASHBOARDS_REPORTS_ROOT = tmp_path / "reports"


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def generate(dataset, django_capture_on_commit_callbacks) -> dict:
    api = client_for(dataset.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/reports/", {"district": "331004", "year": YEAR}, format="json")
    assert response.status_code == 202, response.content
    return api.get(f"/api/v1/reports/{response.json()['id']}/").json()


def test_report_pdf_has_district_ranking_and_red_lines(dataset, django_capture_on_commit_callbacks):
    report = generate(dataset, django_capture_on_commit_callbacks)
    assert report["status"] == "succeeded" and report["progress"] == 100
    assert report["pdf_url"].endswith(f"/api/v1/reports/{report['id']}/pdf/")
    response = client_for(dataset.finance).get(f"/api/v1/reports/{report['id']}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    compact = re.sub(r"\s+", "", text)
    assert "路桥区2024年度" in compact and "清廉金融建设报告" in compact  # the cover, in Chinese
    # The ranking, in rank order: A 93.00, C 91.43, B 74.50, then D (red line) last.
    ranking = compact[compact.index("二、清廉积分排名"):compact.index("三、红线")]
    positions = [ranking.index(name) for name in ("甲演示银行", "丙演示保险", "乙演示银行", "丁演示保险")]
    assert positions == sorted(positions)
    assert "93.00" in ranking and "91.43" in ranking and "74.50" in ranking
    assert "椒江演示银行" not in compact  # another district's institution
    red_lines = compact[compact.index("三、红线"):compact.index("四、举报投诉")]
    assert "丁演示保险" in red_lines and "R1" in red_lines
    # Summary figures, complaint and satisfaction statistics.
    assert "89.73" in compact and "66.7%" in compact and "+1.8" in compact and "−30.0%" in compact
    assert "81.8" in compact and "15.0" in compact


def test_report_xlsx_pack(dataset, django_capture_on_commit_callbacks):
    report = generate(dataset, django_capture_on_commit_callbacks)
    response = client_for(dataset.finance).get(f"/api/v1/reports/{report['id']}/xlsx/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["汇总", "积分排名", "分项明细", "分项得分", "投诉按月", "投诉按机构", "满意度",
                               "员工违规", "警示知悉", "督查整改", "整改按条款", "培训完成率", "风险预警"]
    ranking = [row for row in book["积分排名"].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[1], r[2], r[3], str(r[9])) for r in ranking] == [
        (1, 4, 1, "A", "93"), (2, 4, 1, "C", "91.43"), (3, 4, 2, "B", "74.5"), (4, 4, 2, "D", "100")]
    detail = {row[0]: row for row in book["分项明细"].iter_rows(min_row=2, values_only=True)}
    header = next(book["分项明细"].iter_rows(max_row=1, values_only=True))
    c = dict(zip(header, detail["C"], strict=True))
    # The item points scoring stored: (0.2·80 + 0.5·78)/0.7 = 78.57…, (0.2·20 + 0.5·10)/0.7 = 12.857… -> 12.86.
    assert (str(c["第1项"]), str(c["第2项"])) == ("78.57", "12.86")
    assert dict(zip(header, detail["D"], strict=True))["R1"] == "触碰"
    assert dict(zip(header, detail["A"], strict=True))["X1"] == 6
    per_institution = {row[0]: row for row in book["投诉按机构"].iter_rows(min_row=2, values_only=True)}
    assert per_institution["B"][2] == 2 and per_institution["B"][8] == 1  # two cases, one partially substantiated
    summary = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert str(summary["满意率同比（百分点）"]) == "1.8" and str(summary["员工违规同比（%）"]) == "-30"


def test_report_pages_and_admin_downloads(dataset, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(dataset.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/dashboards/reports/", {"district": "331004", "year": YEAR})
    report = AnnualReport.objects.get()
    assert response.url == f"/dashboards/reports/{report.pk}/"
    progress = client.get(response.url, HTTP_ACCEPT="application/json").json()
    assert progress == {"id": report.pk, "status": "succeeded", "progress": 100, "step": "完成", "error": ""}
    page = client.get(response.url).content.decode()
    assert "下载 PDF" in page and "report.js" in page
    assert client.get(f"/dashboards/reports/{report.pk}/pdf/").status_code == 200
    admin_list = client.get("/admin/dashboards/annualreport/").content.decode()
    assert f"/dashboards/reports/{report.pk}/pdf/" in admin_list
    assert f"/dashboards/reports/{report.pk}/xlsx/" in admin_list
    with django_capture_on_commit_callbacks(execute=True):
        added = client.post("/admin/dashboards/annualreport/add/", {"district": dataset.luqiao.pk, "year": YEAR})
    assert added.status_code == 302
    assert AnnualReport.objects.filter(status="succeeded").count() == 2


def test_progress_is_recorded_step_by_step(dataset, monkeypatch):
    from dashboards import services

    seen = []
    original = services._progress
    monkeypatch.setattr(services, "_progress", lambda pk, pct, step: (seen.append(pct), original(pk, pct, step)))
    report = AnnualReport.objects.create(district=dataset.luqiao, year=YEAR)
    services.execute_report(report.pk)
    assert seen == sorted(seen) and seen[0] < 50 < seen[-1] < 100
    report.refresh_from_db()
    assert report.status == "succeeded" and report.pdf and report.xlsx


def test_failed_report_says_why(dataset, monkeypatch):
    from dashboards import report as builder
    from dashboards import services

    monkeypatch.setattr(builder, "render_pdf", lambda content: (_ for _ in ()).throw(RuntimeError("字体缺失")))
    report = AnnualReport.objects.create(district=dataset.luqiao, year=YEAR)
    with pytest.raises(RuntimeError):
        services.execute_report(report.pk)
    report.refresh_from_db()
    assert report.status == "failed" and "字体缺失" in report.error


def test_svg_charts_escape_text():
    chart = svg.bar_chart(["<b>"], [("a&b", [1], "#000")], title="标题<")
    assert "<b>" not in chart.replace("<svg", "") and "&lt;b&gt;" in chart and "标题&lt;" in chart
    assert svg.donut([("绿", 0, "#0f0")]).startswith("<svg")
    assert "polyline" in svg.line_chart(["1月", "2月"], [("x", ["80.0", "90.0"], "#f00")])
