"""The API of API.md, "Inspections and rectification": paths, fields, statuses, scoping."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inspections.models import Finding, Visit
from tests.conftest import client_for
from tracking.models import TrackedItem

pytestmark = pytest.mark.django_db


def _visit(user, code="TA01", visited_on="2026-09-29", **extra):
    body = {"institution_code": code, "visited_on": visited_on, "kind": "planned", "team": ["王检", "李查"],
            "notes": "检查廉洁风险防控台账", **extra}
    return client_for(user).post("/api/v1/inspections/", body, format="json")


def _finding(user, visit_id, clause="3.2", n=5, severity="minor"):
    return client_for(user).post(f"/api/v1/inspections/{visit_id}/findings/",
                                 {"clause": clause, "description": "未公示廉洁从业承诺", "severity": severity,
                                  "rectify_within": n}, format="json")


def test_record_visit_and_finding_due_in_working_days(places):
    r = _visit(places["insp"])
    assert r.status_code == 201, r.content
    visit_id = r.json()["id"]
    assert r.json()["team"] == ["王检", "李查"] and r.json()["district"] == "331004"
    r = _finding(places["insp"], visit_id)
    assert r.status_code == 201, r.content
    body = r.json()
    # 29 Sep 2026 + 5 working days: 30 Sep, 8, 9, 10 (make-up Saturday), 12 Oct.
    assert body["status"] == "open" and body["due_on"] == "2026-10-12" and body["id"]
    visit = Visit.objects.get()
    assert visit.notice_number == "路金清整〔2026〕1号"
    detail = client_for(places["filer_a"]).get(f"/api/v1/inspections/{visit_id}/").json()
    assert detail["findings"][0]["clause"] == "3.2"


def test_spring_festival_due_date(places):
    visit_id = _visit(places["fc"], visited_on="2026-02-12").json()["id"]
    # 13 Feb, 14 Feb (make-up Saturday), then the holiday to 23 Feb: 24 Feb.
    assert _finding(places["fc"], visit_id, n=3).json()["due_on"] == "2026-02-24"


@pytest.mark.parametrize("clause", ["2.1", "9.9", "abc", ""])
def test_clause_not_in_district_norms_is_400(places, clause):
    visit_id = _visit(places["insp"]).json()["id"]
    r = _finding(places["insp"], visit_id, clause=clause)
    assert r.status_code == 400
    assert not Finding.objects.exists() and not TrackedItem.objects.exists()


def test_template_norms_apply_without_own(places):
    visit_id = _visit(places["insp_jj"], code="TC01").json()["id"]
    assert _finding(places["insp_jj"], visit_id, clause="2.1").status_code == 201
    assert _finding(places["insp_jj"], visit_id, clause="3.2").status_code == 400
    assert Visit.objects.get().notice_number == "椒金清整〔2026〕1号"


def test_no_norms_for_the_year_is_400(places):
    visit_id = _visit(places["insp"], visited_on="2025-06-03").json()["id"]
    assert _finding(places["insp"], visit_id).status_code == 400


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "secret"}, "kind"), ({"visited_on": "2026-13-01"}, "visited_on"), ({"team": "x" * 60}, "team"),
    ({"visited_on": "9999-12-31"}, "visited_on"), ({"team": [{"name": 1}]}, "team"), ({"team": 7}, "team"),
    ({"institution_code": ""}, "institution_code"),
])
def test_bad_visit_input_is_400(places, body, field):
    r = _visit(places["insp"], **body)
    assert r.status_code == 400 and field in r.json()
    assert not Visit.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"severity": "grave"}, "severity"), ({"rectify_within": 0}, "rectify_within"),
    ({"rectify_within": "ten"}, "rectify_within"), ({"description": ""}, "description"),
])
def test_bad_finding_input_is_400(places, body, field):
    visit_id = _visit(places["insp"]).json()["id"]
    data = {"clause": "3.2", "description": "问题", "severity": "minor", "rectify_within": 5, **body}
    r = client_for(places["insp"]).post(f"/api/v1/inspections/{visit_id}/findings/", data, format="json")
    assert r.status_code == 400 and field in r.json()
    assert not Finding.objects.exists()


def test_who_may_record(places):
    for user in ("filer_a", "head_a", "disc"):
        assert _visit(places[user]).status_code == 403
    assert _visit(places["insp"], code="TC01").status_code == 404  # another district's institution
    assert _visit(places["insp"], code="NOPE").status_code == 404
    assert not Visit.objects.exists()
    visit_id = _visit(places["insp"]).json()["id"]
    assert _finding(places["filer_a"], visit_id).status_code == 403
    assert _finding(places["filer_b"], visit_id).status_code == 404
    assert _finding(places["insp_jj"], visit_id).status_code == 404
    assert not Finding.objects.exists()


def test_visibility_of_visits_and_rectifications(places):
    visit_id = _visit(places["insp"]).json()["id"]
    finding_id = _finding(places["insp"], visit_id).json()["id"]
    for user in ("filer_a", "head_a", "fc", "insp"):
        c = client_for(places[user])
        assert c.get(f"/api/v1/inspections/{visit_id}/").status_code == 200
        assert c.get(f"/api/v1/rectifications/{finding_id}/").status_code == 200
        assert c.get("/api/v1/rectifications/").json()["count"] == 1
        assert c.get("/api/v1/inspections/").json()["count"] == 1
    for user in ("filer_b", "filer_c", "fc_jj", "insp_jj", "emp_a", "disc"):
        c = client_for(places[user])
        assert c.get(f"/api/v1/inspections/{visit_id}/").status_code == 404
        assert c.get(f"/api/v1/rectifications/{finding_id}/").status_code == 404
        assert c.get("/api/v1/rectifications/").json()["count"] == 0
        assert c.get("/api/v1/inspections/").json()["count"] == 0
    assert client_for(places["fc"]).get("/api/v1/rectifications/?district=331002").status_code == 404


def test_rectification_item_shape_and_filters(places):
    visit_id = _visit(places["insp"], visited_on=(timezone.localdate() - timedelta(days=60)).isoformat()).json()["id"]
    late = _finding(places["insp"], visit_id, n=3).json()["id"]
    visit2 = _visit(places["insp"], code="TB01", visited_on=timezone.localdate().isoformat()).json()["id"]
    fresh = _finding(places["insp"], visit2, clause="1.1", n=10, severity="major").json()["id"]
    c = client_for(places["fc"])
    rows = c.get("/api/v1/rectifications/").json()["results"]
    item = next(r for r in rows if r["id"] == late)
    assert set(item) >= {"id", "institution", "clause", "severity", "description", "due_on", "status", "overdue",
                         "district"}
    assert item["institution"] == {"code": "TA01", "name": "甲银行"} and item["overdue"] is True
    assert [r["id"] for r in c.get("/api/v1/rectifications/?status=overdue").json()["results"]] == [late]
    assert [r["id"] for r in c.get("/api/v1/rectifications/?institution=TB01").json()["results"]] == [fresh]
    assert c.get("/api/v1/rectifications/?status=closed").json()["count"] == 0
    assert c.get("/api/v1/rectifications/?status=open").json()["count"] == 2


def test_report_accept_return_and_409s(places):
    visit_id = _visit(places["insp"]).json()["id"]
    one = _finding(places["insp"], visit_id).json()["id"]
    two = _finding(places["insp"], visit_id, clause="1.1").json()["id"]
    fc, filer = client_for(places["fc"]), client_for(places["filer_a"])
    assert fc.post(f"/api/v1/rectifications/{one}/actions/accept/").status_code == 409
    assert fc.post(f"/api/v1/rectifications/{one}/actions/return/", {"reason": "x"}).status_code == 409
    evidence = SimpleUploadedFile("整改台账.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    r = filer.post(f"/api/v1/rectifications/{one}/report/", {"measures": "已公示承诺", "evidence": evidence},
                   format="multipart")
    assert r.status_code == 200 and r.json()["status"] == "reported"
    assert filer.post(f"/api/v1/rectifications/{one}/report/", {"measures": "again"}).status_code == 409
    assert filer.post(f"/api/v1/rectifications/{one}/actions/accept/").status_code == 403
    assert client_for(places["filer_b"]).post(f"/api/v1/rectifications/{two}/report/",
                                              {"measures": "x"}).status_code == 404
    assert fc.post(f"/api/v1/rectifications/{two}/report/", {"measures": "x"}).status_code == 403
    r = fc.post(f"/api/v1/rectifications/{one}/actions/accept/")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert fc.post(f"/api/v1/rectifications/{one}/actions/return/", {"reason": "x"}).status_code == 409
    assert filer.post(f"/api/v1/rectifications/{one}/report/", {"measures": "x"}).status_code == 409

    filer.post(f"/api/v1/rectifications/{two}/report/", {"measures": "整改中"})
    assert fc.post(f"/api/v1/rectifications/{two}/actions/return/", {}).status_code == 400
    r = fc.post(f"/api/v1/rectifications/{two}/actions/return/", {"reason": "佐证不足", "rectify_within": 3},
                format="json")
    assert r.status_code == 200 and r.json()["status"] == "open"
    from tracking.services import compute_due
    assert r.json()["due_on"] == compute_due(timezone.localdate(), 3).date.isoformat()
    detail = fc.get(f"/api/v1/rectifications/{two}/").json()
    assert [h["action"] for h in detail["history"]] == ["created", "reported", "returned"]
    assert client_for(places["fc_jj"]).post(f"/api/v1/rectifications/{two}/actions/accept/").status_code == 404


def test_lists_do_not_grow_queries(places, django_assert_max_num_queries):
    for i in range(4):
        visit_id = _visit(places["insp"], visited_on=date(2026, 3, 2 + i).isoformat()).json()["id"]
        _finding(places["insp"], visit_id)
        _finding(places["insp"], visit_id, clause="1.1")
    c = client_for(places["fc"])
    with django_assert_max_num_queries(12):
        assert c.get("/api/v1/rectifications/").json()["count"] == 8
    with django_assert_max_num_queries(12):
        assert c.get("/api/v1/inspections/").json()["count"] == 4
