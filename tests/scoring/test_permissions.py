"""Who may see and do what, across institutions and roles (DOMAIN.md "Roles", API.md)."""

from __future__ import annotations

import csv
import io

import pytest

from scoring import services
from scoring.models import AggregationRun, Assessment, AssessmentEvent, Result, ScoreSheet
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import luqiao

from .factories import WORKED_SHEETS, assessment_for, assign, build_scheme, fill_sheet, set_year_status

pytestmark = pytest.mark.django_db


def entry_url(assessment, source, code="B1"):
    return f"/api/v1/assessments/{assessment.pk}/sheets/{source}/entries/{code}/"


def aggregate(year):
    return services.execute_run(AggregationRun.objects.create(year=year, district=luqiao()).pk)


@pytest.fixture
def scored_year(scheme, inst_a, inst_b):
    """Both institutions fully scored and aggregated."""
    for institution in (inst_a, inst_b):
        assessment = assessment_for(institution, scheme)
        for source, values in WORKED_SHEETS.items():
            fill_sheet(assessment, source, values)
    aggregate(scheme.year)
    return scheme


# --------------------------------------------------------------------------------------------
# Institution A's users and institution B's data


def test_filer_of_a_gets_404_on_everything_of_b(scored_year, inst_a, inst_b, filer_a):
    set_year_status(scored_year.year, "notice")  # results reach the institution from the notice period on
    client = client_for(filer_a)
    own = Assessment.objects.get(institution=inst_a)
    other = Assessment.objects.get(institution=inst_b)
    year = scored_year.year

    assert client.get(f"/api/v1/assessments/{own.pk}/").status_code == 200
    assert client.get(f"/api/v1/scores/{year}/A001/").status_code == 200
    for resp in (
        client.get(f"/api/v1/assessments/{other.pk}/"),
        client.get(f"/api/v1/scores/{year}/B001/"),
        client.put(entry_url(other, "self"), {"points": "1"}, format="json"),
        client.post(f"/api/v1/assessments/{other.pk}/sheets/self/submit/"),
    ):
        assert resp.status_code == 404
        assert "乙保险" not in resp.content.decode() and "B001" not in resp.content.decode()
    # An id that does not exist at all answers exactly the same.
    missing = client.get(f"/api/v1/assessments/{other.pk + 1000}/")
    assert missing.status_code == 404
    assert missing.json() == client.get(f"/api/v1/assessments/{other.pk}/").json()

    listed = client.get("/api/v1/assessments/").json()
    assert [a["institution"]["code"] for a in listed["results"]] == ["A001"]


def test_institution_user_sees_own_score_rows_only(scored_year, inst_a, inst_b, filer_a, head_a, filer_b):
    year = scored_year.year
    for user in (filer_a, head_a, filer_b):  # before the notice period: nothing
        assert client_for(user).get(f"/api/v1/scores/?year={year}").json()["count"] == 0
    set_year_status(year, "notice")
    for user, own in ((filer_a, "A001"), (head_a, "A001"), (filer_b, "B001")):
        client = client_for(user)
        body = client.get(f"/api/v1/scores/?year={year}").json()
        assert [r["institution"]["code"] for r in body["results"]] == [own]
        other = "B001" if own == "A001" else "A001"
        assert client.get(f"/api/v1/scores/?year={year}&institution={other}").json()["count"] == 0
        exported = client.get(f"/api/v1/scores/export/?year={year}&format=csv")
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert [r[2] for r in rows[1:]] == [own]
    # The finance center sees both.
    assert client_for(UserFactory(roles=["finance_center"])).get(f"/api/v1/scores/?year={year}").json()["count"] == 2


def test_employee_of_an_institution_sees_no_scores_of_others(scored_year, inst_a):
    employee = institution_user(inst_a, "employee", username="emp")
    resp = client_for(employee).get(f"/api/v1/scores/?year={scored_year.year}")
    assert resp.status_code == 200
    assert "B001" not in {r["institution"]["code"] for r in resp.json()["results"]}
    assert client_for(employee).get(f"/api/v1/scores/{scored_year.year}/B001/").status_code == 404


# --------------------------------------------------------------------------------------------
# api_client: published years only


def test_api_client_sees_published_years_only(scored_year, inst_a, api_client_user):
    published = build_scheme(2029)
    assessment = assessment_for(inst_a, published)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)
    aggregate(2029)
    finance = UserFactory(roles=["finance_center"], username="fc2029")
    year = services.open_notice(services.district_year(luqiao(), 2029), finance)
    services.publish_year(year, finance)
    assert Result.objects.get(year=2029).status == "published"

    client = client_for(api_client_user)
    everything = client.get("/api/v1/scores/").json()
    assert everything["count"] == 1
    assert (everything["results"][0]["year"], everything["results"][0]["status"]) == (2029, "published")
    assert client.get(f"/api/v1/scores/?year={scored_year.year}").json()["count"] == 0
    assert client.get(f"/api/v1/scores/{scored_year.year}/A001/").status_code == 404
    assert client.get("/api/v1/scores/2029/A001/").status_code == 200
    rows = list(csv.reader(io.StringIO(client.get(f"/api/v1/scores/export/?year={scored_year.year}&format=csv")
                                       .content.decode("utf-8-sig"))))
    assert len(rows) == 1  # header only
    # Read-only: no filing and no aggregations.
    assert client.put(entry_url(assessment, "self"), {"points": "1"}, format="json").status_code == 403
    assert client.post("/api/v1/aggregations/", {"year": scored_year.year}, format="json").status_code == 403


def test_anonymous_gets_401(scored_year):
    from rest_framework.test import APIClient

    anon = APIClient()
    for url in (f"/api/v1/scores/?year={scored_year.year}", "/api/v1/assessments/",
                f"/api/v1/schemes/{scored_year.year}/", f"/api/v1/scores/export/?year={scored_year.year}"):
        assert anon.get(url).status_code == 401, url


# --------------------------------------------------------------------------------------------
# Inspectors and the third party: assigned institutions, their own source only


def test_inspector_fills_only_the_inspection_sheet_of_assigned_institutions(scheme, inst_a, inst_b, inspector):
    a = assessment_for(inst_a, scheme)
    b = assessment_for(inst_b, scheme)
    assign(inspector, inst_a, scheme.year, "inspection")
    client = client_for(inspector)

    ok = client.put(entry_url(a, "inspection"), {"points": "36"}, format="json")
    assert ok.status_code == 200
    assert client.put(entry_url(a, "third_party"), {"points": "36"}, format="json").status_code == 403
    assert client.put(entry_url(a, "self"), {"points": "36"}, format="json").status_code == 403
    assert client.put(entry_url(b, "inspection"), {"points": "36"}, format="json").status_code == 404
    assert client.get(f"/api/v1/assessments/{b.pk}/").status_code == 404
    assert [x["institution"]["code"] for x in client.get("/api/v1/assessments/").json()["results"]] == ["A001"]
    assert ScoreSheet.objects.filter(entries__isnull=False).distinct().count() == 1

    # An assignment for another year does not carry over.
    later = build_scheme(2032)
    a_later = assessment_for(inst_a, later)
    assert client.put(entry_url(a_later, "inspection"), {"points": "36"}, format="json").status_code == 403

    assert client.post(f"/api/v1/assessments/{a.pk}/sheets/inspection/submit/").status_code == 200
    assert client.post(f"/api/v1/assessments/{a.pk}/sheets/third_party/submit/").status_code == 403


def test_third_party_scores_its_own_sheet_only(scheme, inst_a, third_party_user):
    a = assessment_for(inst_a, scheme)
    assign(third_party_user, inst_a, scheme.year, "third_party")
    client = client_for(third_party_user)
    assert client.put(entry_url(a, "third_party"), {"points": "38"}, format="json").status_code == 200
    assert client.put(entry_url(a, "inspection"), {"points": "38"}, format="json").status_code == 403


# --------------------------------------------------------------------------------------------
# The self sheet: the filer fills, the head submits, the finance center may return it


def test_filer_cannot_submit_the_self_sheet_but_the_head_can(scheme, inst_a, filer_a, head_a):
    assessment = assessment_for(inst_a, scheme)
    filer = client_for(filer_a)
    assert filer.put(entry_url(assessment, "self"), {"points": "40"}, format="json").status_code == 200

    refused = filer.post(f"/api/v1/assessments/{assessment.pk}/sheets/self/submit/")
    assert refused.status_code == 403 and "负责人" in refused.json()["detail"]
    assert ScoreSheet.objects.get(assessment=assessment, source="self").status == "draft"

    ok = client_for(head_a).post(f"/api/v1/assessments/{assessment.pk}/sheets/self/submit/")
    assert ok.status_code == 200 and ok.json()["status"] == "submitted"
    sheet = ScoreSheet.objects.get(assessment=assessment, source="self")
    assert sheet.status == "submitted" and sheet.submitted_by == head_a
    assessment.refresh_from_db()
    assert assessment.state == "self_submitted"
    assert AssessmentEvent.objects.filter(assessment=assessment, action="submit_self", actor=head_a,
                                          from_state="self_in_progress", to_state="self_submitted").exists()


def test_head_of_another_institution_cannot_submit(scheme, inst_a, inst_b):
    assessment = assessment_for(inst_a, scheme)
    head_b = institution_user(inst_b, "institution_head", username="head_b")
    assert client_for(head_b).post(f"/api/v1/assessments/{assessment.pk}/sheets/self/submit/").status_code == 404


def test_finance_center_returns_a_sheet_with_a_reason(scheme, inst_a, filer_a, head_a, finance):
    assessment = assessment_for(inst_a, scheme)
    client_for(filer_a).put(entry_url(assessment, "self"), {"points": "40"}, format="json")
    assert client_for(head_a).post(f"/api/v1/assessments/{assessment.pk}/sheets/self/submit/").status_code == 200
    return_url = f"/api/v1/assessments/{assessment.pk}/sheets/self/return/"

    for user in (filer_a, head_a):
        assert client_for(user).post(return_url, {"reason": "自己退回"}, format="json").status_code == 403
    fc = client_for(finance)
    no_reason = fc.post(return_url, {"reason": ""}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    assert ScoreSheet.objects.get(assessment=assessment, source="self").status == "submitted"

    resp = fc.post(return_url, {"reason": "佐证材料不全，请补充第 3 条"}, format="json")
    assert resp.status_code == 200
    assert resp.json() == {"source": "self", "status": "draft", "returned_reason": "佐证材料不全，请补充第 3 条"}
    sheet = ScoreSheet.objects.get(assessment=assessment, source="self")
    assert sheet.status == "draft" and sheet.returned_reason == "佐证材料不全，请补充第 3 条"
    assert sheet.returned_at is not None
    assessment.refresh_from_db()
    assert assessment.state == "self_in_progress"
    event = AssessmentEvent.objects.get(assessment=assessment, action="return_self")
    assert (event.actor, event.reason, event.from_state, event.to_state) == (
        finance, "佐证材料不全，请补充第 3 条", "self_submitted", "self_in_progress")
    # The reason is shown on the assessment, and the filer can edit again.
    detail = client_for(filer_a).get(f"/api/v1/assessments/{assessment.pk}/").json()
    assert {s["source"]: s["returned_reason"] for s in detail["sheets"]}["self"] == "佐证材料不全，请补充第 3 条"
    assert client_for(filer_a).put(entry_url(assessment, "self"), {"points": "39"}, format="json").status_code == 200
    # A draft cannot be returned again.
    assert fc.post(return_url, {"reason": "再退"}, format="json").status_code == 409


def test_only_the_finance_center_starts_aggregations(scheme, filer_a, inspector, finance,
                                                     django_capture_on_commit_callbacks):
    for user in (filer_a, inspector):
        assert client_for(user).post("/api/v1/aggregations/", {"year": scheme.year},
                                     format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        resp = client_for(finance).post("/api/v1/aggregations/", {"year": scheme.year}, format="json")
    assert resp.status_code == 202
    assert client_for(filer_a).get(f"/api/v1/aggregations/{resp.json()['id']}/").status_code == 403
    assert client_for(finance).post("/api/v1/aggregations/", {"year": 2099}, format="json").status_code == 404


def test_assessment_list_by_role(scheme, inst_a, inst_b, finance, api_client_user):
    for institution in (inst_a, inst_b, InstitutionFactory(code="C001")):
        assessment_for(institution, scheme)
    assert client_for(finance).get("/api/v1/assessments/").json()["count"] == 3
    detail = client_for(finance).get(f"/api/v1/assessments/{Assessment.objects.get(institution=inst_a).pk}/")
    assert detail.json()["fillable_sources"] == ["self", "inspection", "third_party"]
    assert set(detail.json()["entries"]) == {"B1", "B2", "B3", "X1", "X2", "R1"}
