"""The programme's stored figures on the dashboards (issues #13 item 5, #14 item 2, #15 item 5):
rectifications (inspections' tallies), training completion (activities' stored hours) and risk
alerts (risk's stored summary) on the district dashboard and its API, the institution's own
rectifications and training completion on its dashboard, and both summaries in the annual report.

A small world built through the apps' services: 路桥 institutions PA01 and PB01, 椒江's PC01.

- PA01: findings 1.1 open (5 Jan, overdue), 1.1 reported, 2.1 open (5 Jan, overdue), 2.1 closed
  today (on time); trainings E1 8h, E2 8h, E3 4h (2 of 3 complete: 66.7%); alerts R04 confirmed, R01 new.
- PB01: finding 1.2 open (today, not overdue); E1 without training (0 of 1); alert R04 new.
- PC01 (椒江): finding 1.1 open; E1 8h; alert R04 new. No 路桥 figure may count it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from activities import selectors as activity_selectors
from activities import services as activity_services
from inspections import selectors as inspection_selectors
from inspections import services as inspection_services
from institutions.models import District
from risk import selectors as risk_selectors
from risk import services as risk_services
from risk.models import Alert
from tests.conftest import client_for
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user
from tests.risk.conftest import Portal, load, rel, txn
from tests.scoring.factories import build_scheme

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year
EARLY = dt.date(YEAR, 1, 5)
FIGURES = ("total", "open", "reported", "overdue", "closed", "closed_on_time", "on_time_rate")


def _finding(visit, user, clause, text):
    return inspection_services.add_finding(visit, user, clause=clause, description=text, severity="minor",
                                           rectify_within=5)


def _training(user, institution, hours, employees):
    session = activity_services.record_training(user, institution, activity_services.TrainingInput(
        title=f"廉洁从业培训 {hours} 学时", held_on=TODAY, hours=Decimal(hours)))
    activity_services.set_attendance(user, session, [e.pk for e in employees])


def _alerts(filer, employee_no_rows):
    portal = Portal(filer)
    load(portal, *employee_no_rows)
    assert portal.screen(f"{YEAR}-01-01", TODAY.isoformat()).status_code == 201


@pytest.fixture
def w(db):
    build_scheme(YEAR)  # the template norms: clauses 1.1, 1.2, 2.1 for both districts
    jiaojiang = District.objects.get(code="331002")
    a = InstitutionFactory(code="PA01", name="甲整改银行")
    b = InstitutionFactory(code="PB01", name="乙整改保险", category="insurance")
    c = InstitutionFactory(code="PC01", name="丙椒江银行", district=jiaojiang)
    emps = [EmployeeFactory(institution=a, employee_no=f"E{i}", name=f"甲员工{i}") for i in (1, 2, 3)]
    emp_b = EmployeeFactory(institution=b, employee_no="E1", name="乙员工")
    emp_c = EmployeeFactory(institution=c, employee_no="E1", name="丙员工")
    u = SimpleNamespace(
        fc=UserFactory(username="pp_fc", roles=["finance_center"]),
        fc_jj=UserFactory(username="pp_fc_jj", roles=["finance_center"], roles__districts=["331002"]),
        insp=UserFactory(username="pp_insp", roles=["inspector"]),
        insp_jj=UserFactory(username="pp_insp_jj", roles=["inspector"], roles__districts=["331002"]),
        city=UserFactory(username="pp_city", roles=["city"]),
        filer_a=institution_user(a, "institution_filer", username="pp_filer_a"),
        head_a=institution_user(a, "institution_head", username="pp_head_a"),
        filer_b=institution_user(b, "institution_filer", username="pp_filer_b"),
        head_b=institution_user(b, "institution_head", username="pp_head_b"),
        filer_c=institution_user(c, "institution_filer", username="pp_filer_c"),
    )

    # Rectifications, through the inspection services (they keep the stored tallies).
    early = inspection_services.record_visit(u.insp, a, inspection_services.VisitInput(visited_on=EARLY))
    _finding(early, u.insp, "1.1", "廉洁谈话记录缺失")
    reported = _finding(early, u.insp, "1.1", "警示教育台账不全")
    _finding(early, u.insp, "2.1", "廉洁承诺未签")
    inspection_services.report(reported, u.filer_a, measures="已补齐台账")
    recent = inspection_services.record_visit(u.insp, a, inspection_services.VisitInput(visited_on=TODAY))
    closed = _finding(recent, u.insp, "2.1", "清风墙未更新")
    inspection_services.report(closed, u.filer_a, measures="已更新")
    inspection_services.accept(closed, u.fc)
    visit_b = inspection_services.record_visit(u.insp, b, inspection_services.VisitInput(visited_on=TODAY))
    _finding(visit_b, u.insp, "1.2", "制度未公示")
    visit_c = inspection_services.record_visit(u.insp_jj, c, inspection_services.VisitInput(visited_on=TODAY))
    _finding(visit_c, u.insp_jj, "1.1", "椒江的问题")

    # Trainings, through the activities services (they keep the stored yearly hours).
    _training(u.filer_a, a, "8", emps[:2])
    _training(u.filer_a, a, "4", emps[2:])
    _training(u.filer_c, c, "8", [emp_c])

    # Risk alerts: uploads and screenings by each institution, then A confirms its R04.
    jan = f"{YEAR}-01-02 10:00:00"
    gambling = dict(channel="card", mcc="7995", counterparty_type="merchant")
    _alerts(u.filer_a, ([txn("E1", jan, "100", "M", **gambling),
                         txn("E2", jan, "8000", "C9", counterparty_type="customer")],
                        [rel("E2", "C9", f"{YEAR}-01-01")]))
    _alerts(u.filer_b, ([txn("E1", jan, "100", "M", **gambling)],))
    _alerts(u.filer_c, ([txn("E1", jan, "100", "M", **gambling)],))
    r04 = Alert.objects.get(institution=a, rule="R04")
    risk_services.act(u.filer_a, r04, "review")
    risk_services.act(u.filer_a, r04, "confirm", note="核实涉赌")
    return SimpleNamespace(a=a, b=b, c=c, luqiao=a.district, jiaojiang=jiaojiang, emps=emps, emp_b=emp_b, **vars(u))


def get(user, path, **params):
    response = client_for(user).get(path, {"year": YEAR, **params})
    return response


# --- the district dashboard's API ----------------------------------------------------------------


def test_rectifications_equal_the_stored_tallies(w):
    response = get(w.fc, "/api/v1/dashboards/district/rectifications/")
    assert response.status_code == 200, response.content
    body = response.json()
    rows = {r["code"]: r for r in body["institutions"]}
    assert set(rows) == {"PA01", "PB01"}  # 椒江's PC01 is not counted
    # By hand: A 4 findings (2 open and overdue, 1 reported, 1 closed on time), B 1 open.
    a, b = rows["PA01"], rows["PB01"]
    assert (a["total"], a["open"], a["reported"], a["overdue"], a["closed"], a["closed_on_time"]) == (4, 2, 1, 2, 1, 1)
    assert a["on_time_rate"] == "33.3"  # 1 on time of 1 closed + 2 overdue
    assert (b["total"], b["open"], b["overdue"], b["closed"], b["on_time_rate"]) == (1, 1, 0, 0, None)
    # Exactly the stored figures, per institution and per clause.
    stored = {r["code"]: r for r in inspection_selectors.tally_by_institution(w.luqiao.pk, YEAR)}
    for code, row in rows.items():
        assert {k: row[k] for k in FIGURES} == {k: stored[code][k] for k in FIGURES}
    clauses = {r["clause"]: r for r in body["clauses"]}
    stored_clauses = {r["clause"]: r for r in inspection_selectors.tally_by_clause(w.luqiao.pk, YEAR)}
    assert set(clauses) == {"1.1", "1.2", "2.1"} == set(stored_clauses)
    for clause, row in clauses.items():
        assert {k: row[k] for k in FIGURES} == {k: stored_clauses[clause][k] for k in FIGURES}
    assert (clauses["1.1"]["total"], clauses["2.1"]["closed_on_time"], clauses["1.2"]["open"]) == (2, 1, 1)
    assert clauses["1.1"]["total"] == 2  # C's 1.1 finding is 椒江's
    totals = inspection_selectors.tally(YEAR, district_id=w.luqiao.pk)
    assert {k: body[k] for k in FIGURES} == {k: totals[k] for k in FIGURES}
    # The category filter narrows both tables.
    insurance = get(w.fc, "/api/v1/dashboards/district/rectifications/", category="insurance").json()
    assert [r["code"] for r in insurance["institutions"]] == ["PB01"]
    assert [r["clause"] for r in insurance["clauses"]] == ["1.2"] and insurance["total"] == 1


def test_training_completion_equals_the_stored_hours(w):
    body = get(w.fc, "/api/v1/dashboards/district/trainings/").json()
    rows = {r["code"]: r for r in body["institutions"]}
    assert set(rows) == {"PA01", "PB01"}
    assert (rows["PA01"]["employees"], rows["PA01"]["completed"], rows["PA01"]["rate"]) == (3, 2, "66.7")
    assert (rows["PB01"]["employees"], rows["PB01"]["completed"], rows["PB01"]["rate"]) == (1, 0, "0.0")
    stored = activity_selectors.institution_completion([w.a.pk, w.b.pk], YEAR)
    assert rows["PA01"]["rate"] == str(stored[w.a.pk].rate) and rows["PA01"]["hours"] == str(stored[w.a.pk].hours)
    assert (body["employees"], body["completed"], body["rate"], body["required_hours"]) == (4, 2, "50.0", "8")


def test_risk_panel_equals_the_stored_summary_without_persons(w):
    response = get(w.fc, "/api/v1/dashboards/district/risk/")
    assert response.status_code == 200
    body = response.json()
    rows = {r["code"]: r for r in body["institutions"]}
    assert set(rows) == {"PA01", "PB01"}
    a = rows["PA01"]
    statuses = {s["status"]: s["count"] for s in a["by_status"]}
    assert a["total"] == 2 and statuses["confirmed"] == 1 and statuses["new"] == 1
    assert {r["rule"]: r["count"] for r in a["by_rule"]}["R04"] == 1
    assert a["confirmed_rate"] == "100.0" and a["closed"] == 1
    assert rows["PB01"]["total"] == 1 and rows["PB01"]["confirmed_rate"] is None
    stored = {r["institution"]["code"]: r for r in risk_selectors.summary(w.luqiao, YEAR)}
    for code, row in rows.items():
        assert row["total"] == stored[code]["total"] and row["overdue"] == stored[code]["overdue"]
        assert {s["status"]: s["count"] for s in row["by_status"]} == stored[code]["by_status"]
    assert body["total"] == 3 and body["confirmed_rate"] == "100.0"
    labels = {s["status"]: s["label"] for s in body["by_status"]}
    assert labels["confirmed"] == "已确认"
    text = response.content.decode()
    assert "甲员工" not in text and "E1" not in text and "C9" not in text  # no person, no counterparty


@pytest.mark.parametrize("figure", ["rectifications", "trainings", "risk"])
def test_another_district_is_404_and_other_roles_are_refused(w, figure):
    path = f"/api/v1/dashboards/district/{figure}/"
    assert get(w.fc_jj, path, district="331004").status_code == 404
    assert get(w.fc, path, district="331002").status_code == 404
    for user in (w.city, w.head_a, w.filer_a, w.insp):  # the district's figures are the finance center's
        assert get(user, path).status_code == 403
    own = get(w.fc_jj, path).json()
    assert "PA01" not in str(own) and "PB01" not in str(own)


@pytest.mark.parametrize("figure, bound", [("rectifications", 6), ("trainings", 7), ("risk", 7)])
def test_district_figures_are_bounded(w, django_assert_max_num_queries, figure, bound):
    path = f"/api/v1/dashboards/district/{figure}/"
    with django_assert_max_num_queries(bound):
        assert get(w.fc, path).status_code == 200
    for n in range(10):  # ten more institutions with findings and trainings: the same bound
        inst = InstitutionFactory(code=f"PX{n:02d}")
        employee = EmployeeFactory(institution=inst, employee_no="E1")
        visit = inspection_services.record_visit(w.insp, inst, inspection_services.VisitInput(visited_on=TODAY))
        _finding(visit, w.insp, "1.1", "问题")
        filer = institution_user(inst, "institution_filer")
        _training(filer, inst, "8", [employee])
    with django_assert_max_num_queries(bound):
        body = get(w.fc, path).json()
    assert len(body["institutions"]) == 12


# --- the pages --------------------------------------------------------------------------------------


def _page(user, path, **params):
    client = Client()
    client.force_login(user)
    return client.get(path, {"year": YEAR, **params})


def _row(html: str, table: str, attr: str) -> str:
    start = html.index(f'id="{table}"')
    body = html[start:html.index("</table>", start)]
    match = re.search(rf'<tr {attr}>(.*?)</tr>', body, re.S)
    assert match, (table, attr)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_district_page_shows_the_three_panels(w):
    response = _page(w.fc, "/dashboards/district/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _row(html, "rect-institutions", 'data-code="PA01"') == "甲整改银行 4 2 1 2 1 / 1 33.3%"
    assert _row(html, "rect-clauses", 'data-clause="2.1"') == "第 2.1 条 2 1 0 1 1 / 1 50%"
    assert _row(html, "training-institutions", 'data-code="PA01"') == "甲整改银行 3 2 66.7%"
    # total, then new, reviewing, dismissed, confirmed, escalated, overdue, average review days, rate
    assert _row(html, "risk-institutions", 'data-code="PA01"') == "甲整改银行 2 1 0 0 1 0 0 0.0 100%"
    assert "丙椒江银行" not in html
    # Phone layout: every cell of the new tables carries its column's label.
    for table in ("rect-institutions", "rect-clauses", "training-institutions", "risk-institutions"):
        start = html.index(f'id="{table}"')
        body = html[html.index("<tbody>", start):html.index("</tbody>", start)]
        assert body.count("<td") == body.count("<td data-label=")
    assert _page(w.city, "/dashboards/district/").status_code == 403
    assert _page(w.fc_jj, "/dashboards/district/", district="331004").status_code == 404


def test_institution_dashboard_shows_only_its_own_figures(w, django_assert_max_num_queries):
    response = _page(w.head_a, "/dashboards/institutions/PA01/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _row(html, "rect-clauses", 'data-clause="1.1"') == "第 1.1 条 2 1 1 1 0 / 0 0%"
    assert 'data-clause="1.2"' not in html  # B's clause: not A's figures
    assert 'id="kpi-training-rate">66.7%' in html
    assert 'id="panel-risk"' not in html  # the risk summary is the finance center's only
    assert _page(w.head_a, "/dashboards/institutions/PB01/").status_code == 404
    assert _page(w.head_a, "/dashboards/institutions/PC01/").status_code == 404

    api = client_for(w.head_a)
    with django_assert_max_num_queries(12):
        body = api.get("/api/v1/dashboards/institutions/PA01/programme/", {"year": YEAR}).json()
    rect = body["rectifications"]
    stored = inspection_selectors.tally(YEAR, institution_id=w.a.pk)
    assert {k: rect[k] for k in FIGURES} == {k: stored[k] for k in FIGURES}
    assert [c["clause"] for c in rect["clauses"]] == ["1.1", "2.1"]
    assert (body["trainings"]["employees"], body["trainings"]["completed"], body["trainings"]["rate"]) == (3, 2, "66.7")
    assert api.get("/api/v1/dashboards/institutions/PB01/programme/", {"year": YEAR}).status_code == 404
    assert client_for(w.fc_jj).get("/api/v1/dashboards/institutions/PA01/programme/").status_code == 404
    assert client_for(w.filer_a).get("/api/v1/dashboards/institutions/PA01/programme/").status_code == 403
    finance = client_for(w.fc).get("/api/v1/dashboards/institutions/PB01/programme/", {"year": YEAR}).json()
    assert finance["rectifications"]["total"] == 1 and finance["trainings"]["rate"] == "0.0"


# --- the annual report --------------------------------------------------------------------------------


@pytest.fixture
def _reports_folder(settings, tmp_path):
    settings.DASHBOARDS_REPORTS_ROOT = tmp_path / "reports"


def test_annual_report_has_the_rectification_and_risk_sections(w, _reports_folder,
                                                                django_capture_on_commit_callbacks):
    api = client_for(w.fc)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/reports/", {"district": "331004", "year": YEAR}, format="json")
    assert response.status_code == 202, response.content
    report = api.get(f"/api/v1/reports/{response.json()['id']}/").json()
    assert report["status"] == "succeeded", report
    pdf = b"".join(api.get(f"/api/v1/reports/{report['id']}/pdf/").streaming_content)
    text = re.sub(r"\s+", "", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    rect = text[text.index("六、督查整改"):text.index("七、风险预警")]
    assert "督查发现问题5个" in rect and "逾期未整改2个" in rect and "按期整改率33.3%" in rect
    assert "甲整改银行" in rect and "乙整改保险" in rect and "丙椒江银行" not in text
    assert "员工培训完成率50.0%" in rect
    risk = text[text.index("七、风险预警"):]
    assert "风险预警3条" in risk and "已确认1条" in risk and "确认率100.0%" in risk
    assert "甲员工" not in text and "C9" not in text

    book = load_workbook(io.BytesIO(b"".join(api.get(f"/api/v1/reports/{report['id']}/xlsx/").streaming_content)))
    rows = list(book["督查整改"].iter_rows(values_only=True))
    assert rows[0][:4] == ("机构编码", "机构名称", "问题数", "整改中")
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code["PA01"][2:8] == (4, 2, 1, 2, 1, 1) and by_code["PB01"][2] == 1 and "PC01" not in by_code
    assert {r[0] for r in list(book["整改按条款"].iter_rows(values_only=True))[1:]} == {"第1.1条", "第1.2条", "第2.1条"}
    risk_rows = {r[0]: r for r in list(book["风险预警"].iter_rows(values_only=True))[1:]}
    header = next(book["风险预警"].iter_rows(values_only=True))
    assert risk_rows["PA01"][header.index("预警数")] == 2 and risk_rows["PA01"][header.index("已确认")] == 1
    assert risk_rows["PA01"][header.index("确认率（%）")] == 100
    training = {r[0]: r for r in list(book["培训完成率"].iter_rows(values_only=True))[1:]}
    assert training["PA01"][2:] == (3, 2, 66.7) and training["PB01"][2:] == (1, 0, 0)
