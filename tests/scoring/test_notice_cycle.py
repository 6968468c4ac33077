"""Public notice (公示), objections (异议), publishing and reopening a year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command

from core.errors import DomainError, NotAllowed, StateConflict
from scoring import services
from scoring.models import AggregationRun, Assessment, DistrictYear, Objection, Result, Scheme, SchemeEvent
from tests.conftest import client_for
from tests.scoring.factories import luqiao

from .conftest import write_csv
from .factories import WORKED_SHEETS, assessment_for, fill_sheet

pytestmark = pytest.mark.django_db


def entry_url(assessment, source="self", code="B1"):
    return f"/api/v1/assessments/{assessment.pk}/sheets/{source}/entries/{code}/"


@pytest.fixture
def scored(scheme, inst_a, inst_b):
    for institution in (inst_a, inst_b):
        assessment = assessment_for(institution, scheme)
        for source, values in WORKED_SHEETS.items():
            fill_sheet(assessment, source, values)
    services.execute_run(AggregationRun.objects.create(year=scheme.year, district=luqiao()).pk)
    return scheme


def test_notice_objection_publish_and_reopen(scored, inst_a, inst_b, finance, filer_a, filer_b, head_a,
                                             api_client_user, tmp_path, capsys):
    year = scored.year
    own = Assessment.objects.get(institution=inst_a)
    api = client_for(api_client_user)
    assert api.get(f"/api/v1/scores/?year={year}").json()["count"] == 0

    # Only the finance center opens the notice period.
    dy = services.district_year(luqiao(), year)
    with pytest.raises(NotAllowed):
        services.open_notice(dy, filer_a)
    today = date(2031, 12, 1)
    scheme = services.open_notice(dy, finance, today=today)
    assert scheme.status == "notice" and scheme.notice_ends_on > today
    assert set(Assessment.objects.filter(year=year).values_list("state", flat=True)) == {"notice"}
    assert SchemeEvent.objects.filter(scheme=scored, district=luqiao(), action="notice", actor=finance).exists()
    # Sheets are locked for institutions during the notice period.
    resp = client_for(filer_a).put(entry_url(own), {"points": "1"}, format="json")
    assert resp.status_code == 409 and "公示" in resp.json()["detail"]

    # Objections: own institution only, within the period, with a reason.
    with pytest.raises(NotAllowed):
        services.file_objection(filer_b, own, "不是我们的机构", today=today)
    with pytest.raises(DomainError):
        services.file_objection(filer_a, own, "   ", today=today)
    with pytest.raises(StateConflict, match="结束"):
        services.file_objection(filer_a, own, "太迟了", today=scheme.notice_ends_on + timedelta(days=1))
    objection = services.file_objection(head_a, own, "第三方测评 B2 项评分有误", today=today)
    assert objection.status == "pending" and objection.filed_by == head_a

    # Publishing is refused while an objection is pending.
    with pytest.raises(StateConflict) as refused:
        services.publish_year(scheme, finance)
    assert refused.value.status == 409 and "异议" in str(refused.value)
    assert DistrictYear.objects.get(pk=scheme.pk).status == "notice"

    with pytest.raises(NotAllowed):
        services.decide_objection(filer_a, objection, upheld=True, decision="自己同意")
    with pytest.raises(DomainError):
        services.decide_objection(finance, objection, upheld=False, decision="")
    decided = services.decide_objection(finance, objection, upheld=False, decision="经复核，评分无误")
    assert (decided.status, decided.decided_by, decided.decision) == ("rejected", finance, "经复核，评分无误")
    with pytest.raises(StateConflict):
        services.decide_objection(finance, objection, upheld=True, decision="再改")

    with pytest.raises(NotAllowed):
        services.publish_year(scheme, filer_a)
    scheme = services.publish_year(scheme, finance)
    assert scheme.status == "published" and scheme.published_at is not None
    assert set(Result.objects.filter(year=year).values_list("status", flat=True)) == {"published"}
    assert set(Assessment.objects.filter(year=year).values_list("state", flat=True)) == {"published"}

    # The API client now sees the year.
    body = api.get(f"/api/v1/scores/?year={year}").json()
    assert body["count"] == 2 and {r["status"] for r in body["results"]} == {"published"}
    assert {r["total"] for r in body["results"]} == {"98.00"}

    # Frozen: no editing, submitting, returning, importing or re-aggregating.
    fc = client_for(finance)
    assert client_for(filer_a).put(entry_url(own), {"points": "1"}, format="json").status_code == 409
    assert fc.put(entry_url(own), {"points": "1"}, format="json").status_code == 409
    assert fc.post(f"/api/v1/assessments/{own.pk}/sheets/self/return/", {"reason": "改"},
                   format="json").status_code == 409
    assert fc.post("/api/v1/aggregations/", {"year": year}, format="json").status_code == 409
    with pytest.raises(CommandError):
        call_command("import_scores", write_csv(tmp_path, "late.csv", "year,institution_code,source,indicator_code,"
                                                "value,note", [f"{year},A001,self,B1,1,"]))
    assert "已发布" in capsys.readouterr().err
    with pytest.raises(StateConflict):
        services.file_objection(filer_a, Assessment.objects.get(pk=own.pk), "发布后申诉", today=today)

    # Reopening needs a reason, and is logged with it.
    with pytest.raises(DomainError, match="理由"):
        services.reopen_year(scheme, finance, "  ")
    with pytest.raises(NotAllowed):
        services.reopen_year(scheme, filer_a, "机构要求")
    assert DistrictYear.objects.get(pk=scheme.pk).status == "published"
    scheme = services.reopen_year(scheme, finance, "区纪委通报 A001 问题线索，需重新评分")
    assert scheme.status == "open" and scheme.published_at is None
    event = SchemeEvent.objects.filter(scheme=scored, action="reopen").get()
    assert (event.actor, event.reason) == (finance, "区纪委通报 A001 问题线索，需重新评分")
    assert set(Result.objects.filter(year=year).values_list("status", flat=True)) == {"final"}
    assert api.get(f"/api/v1/scores/?year={year}").json()["count"] == 0
    assert Objection.objects.count() == 1


def test_notice_needs_results_and_an_active_year(scheme, finance):
    with pytest.raises(StateConflict, match="汇总"):
        services.open_notice(services.district_year(luqiao(), scheme.year), finance)
    Scheme.objects.filter(pk=scheme.pk).update(status="draft")
    with pytest.raises(StateConflict):
        services.open_notice(services.district_year(luqiao(), scheme.year), finance)


def test_publish_needs_the_notice_first(scored, finance):
    dy = services.district_year(luqiao(), scored.year)
    with pytest.raises(StateConflict, match="公示"):
        services.publish_year(dy, finance)
    with pytest.raises(StateConflict):
        services.reopen_year(dy, finance, "没有发布也想重开")
