"""Issue #11 item 2: the annual report's xlsx pack writes formula-like names and titles as inert text."""

import io

import pytest
from openpyxl import load_workbook

from institutions.models import Institution
from tests.conftest import client_for
from warnings_feed.models import Warning

from .conftest import YEAR

pytestmark = pytest.mark.django_db

NAMES = {"A": '=HYPERLINK("http://x","y")', "B": "+1+1", "C": "@SUM(A1)", "D": "-2+3"}


@pytest.fixture(autouse=True)
def _reports_folder(settings, tmp_path):
    settings.DASHBOARDS_REPORTS_ROOT = tmp_path / "reports"


def test_report_xlsx_has_no_formula_and_scores_stay_numbers(dataset, django_capture_on_commit_callbacks):
    for code, name in NAMES.items():
        Institution.objects.filter(code=code).update(name=name)
    Warning.objects.filter(publish_at__year=YEAR).update(title="=1+1\x01警示")  # a control character too
    api = client_for(dataset.finance)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/reports/", {"district": "331004", "year": YEAR}, format="json")
    report = api.get(f"/api/v1/reports/{created.json()['id']}/").json()
    assert report["status"] == "succeeded", report
    response = api.get(f"/api/v1/reports/{report['id']}/xlsx/")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [c for ws in book.worksheets for r in ws.iter_rows() for c in r]
    assert not any(c.data_type == "f" for c in cells)
    ranking = book["积分排名"]
    rows = list(ranking.iter_rows(min_row=2))
    assert {r[4].value for r in rows} == {"'" + n for n in NAMES.values()}
    assert all(r[4].data_type == "s" for r in rows)
    assert [r[0].value for r in rows] == [1, 2, 3, 4] and all(r[9].data_type == "n" for r in rows)
    titles = [r[0].value for r in book["警示知悉"].iter_rows(min_row=2)]
    assert "'=1+1警示" in titles
