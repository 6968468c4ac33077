"""Each district runs its own year (DOMAIN.md "Districts are the tenants", SCORING.md rank rule 8):
ranks within the district, notice and publishing per district, the template fallback, the objection
correction, the published-year refusal on the command line, and results seen in stages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from institutions.models import District
from scoring import services
from scoring.models import AggregationRun, Assessment, DistrictYear, Objection, Result, Scheme, ScoreSheet, SheetEntry
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory, institution_user

from .conftest import DATA
from .factories import WORKED_SHEETS, assessment_for, assign, build_scheme, fill_sheet, luqiao

pytestmark = pytest.mark.django_db

D = Decimal


def jiaojiang():
    return District.objects.get(code="331002")


def scored_institution(code, district, scheme, *, b1=D("40")):
    institution = InstitutionFactory(code=code, district=district)
    assessment = assessment_for(institution, scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, {**values, "B1": b1} if "B1" in values else values)
    return institution


def aggregate(year, district):
    return services.execute_run(AggregationRun.objects.create(year=year, district=district).pk)


@pytest.fixture
def two_districts(scheme):
    """路桥: L1 (best), L2; 椒江: J1 (lower than both of 路桥's); every sheet submitted."""
    lq, jj = luqiao(), jiaojiang()
    scored_institution("L1", lq, scheme, b1=D("40"))
    scored_institution("L2", lq, scheme, b1=D("30"))
    scored_institution("J1", jj, scheme, b1=D("20"))
    aggregate(scheme.year, lq)
    aggregate(scheme.year, jj)
    return scheme


@pytest.fixture
def finance_lq(db):
    return UserFactory(username="fc_lq", roles=["finance_center"])


@pytest.fixture
def finance_jj(db):
    return UserFactory(username="fc_jj", roles=["finance_center"], roles__districts=["331002"])


def ranks(year):
    return {r.institution.code: (r.district.code, r.rank, r.category_rank)
            for r in Result.objects.filter(year=year).select_related("institution", "district")}


def test_ranks_are_within_the_district_and_stored(two_districts):
    assert ranks(two_districts.year) == {"L1": ("331004", 1, 1), "L2": ("331004", 2, 2), "J1": ("331002", 1, 1)}


def test_aggregating_one_district_leaves_the_other_untouched(two_districts):
    before = list(Result.objects.filter(district=jiaojiang()).values())
    scored_institution("L3", luqiao(), two_districts, b1=D("10"))
    aggregate(two_districts.year, luqiao())
    assert list(Result.objects.filter(district=jiaojiang()).values()) == before
    assert ranks(two_districts.year)["L3"] == ("331004", 3, 3)


def test_notice_and_publish_through_the_api_change_one_district_only(two_districts, finance_lq, finance_jj):
    year = two_districts.year
    lq = client_for(finance_lq)
    resp = lq.post(f"/api/v1/years/{year}/notice/", {}, format="json")
    assert resp.status_code == 200, resp.content
    assert (resp.json()["district"], resp.json()["status"]) == ("331004", "notice")
    assert DistrictYear.objects.get(district=jiaojiang(), year=year).status == "open"
    assert set(Assessment.objects.filter(institution__district=jiaojiang()).values_list("state", flat=True)) != {
        "notice"}
    # Another district is not the 路桥 officer's to name: 404, nothing changes.
    assert lq.post(f"/api/v1/years/{year}/publish/", {"district": "331002"}, format="json").status_code == 404
    assert DistrictYear.objects.get(district=jiaojiang(), year=year).status == "open"
    # Wrong state: 409.
    assert client_for(finance_jj).post(f"/api/v1/years/{year}/publish/", {}, format="json").status_code == 409
    assert lq.post(f"/api/v1/years/{year}/notice/", {}, format="json").status_code == 409
    resp = lq.post(f"/api/v1/years/{year}/publish/", {}, format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "published"
    assert set(Result.objects.filter(district=luqiao()).values_list("status", flat=True)) == {"published"}
    assert set(Result.objects.filter(district=jiaojiang()).values_list("status", flat=True)) == {"final"}
    # Not a finance officer: 403; an unknown year: 404.
    filer = institution_user(Result.objects.get(institution__code="L1").institution, "institution_filer")
    assert client_for(filer).post(f"/api/v1/years/{year}/notice/", {}, format="json").status_code == 403
    assert lq.post("/api/v1/years/1999/notice/", {}, format="json").status_code == 404


def test_a_user_of_two_districts_chooses_one(two_districts):
    both = UserFactory(username="fc_both", roles=["finance_center"], roles__districts=["331004", "331002"])
    client = client_for(both)
    resp = client.post(f"/api/v1/years/{two_districts.year}/notice/", {}, format="json")
    assert resp.status_code == 400 and "district" in resp.json()["detail"]
    assert client.post(f"/api/v1/years/{two_districts.year}/notice/", {"district": "331002"},
                       format="json").status_code == 200
    assert DistrictYear.objects.get(district=luqiao(), year=two_districts.year).status == "open"
    assert client.get("/api/v1/me/").json()["districts"] == ["331002", "331004"]


def test_published_district_year_is_refused_from_the_command_line(two_districts, finance_lq, capsys):
    year = services.district_year(luqiao(), two_districts.year)
    services.publish_year(services.open_notice(year, finance_lq), finance_lq)
    before = list(Result.objects.order_by("pk").values())
    with pytest.raises(CommandError):
        call_command("aggregate_scores", "--year", str(two_districts.year), "--district", "331004")
    assert "已发布" in capsys.readouterr().err
    assert list(Result.objects.filter(district=luqiao()).order_by("pk").values()) == [
        r for r in before if r["district_id"] == luqiao().pk]
    # The API and the service give the same answer.
    assert client_for(finance_lq).post("/api/v1/aggregations/", {"year": two_districts.year},
                                       format="json").status_code == 409


def test_template_fallback_and_a_districts_own_scheme(tmp_path, finance_jj):
    call_command("import_scheme", "--year", "2032", str(DATA / "worked_example_norms.csv"),
                 str(DATA / "worked_example_indicators.csv"), "--activate")
    template = Scheme.objects.get(year=2032, district__isnull=True)
    assert services.scheme_for(luqiao(), 2032) == template == services.scheme_for(jiaojiang(), 2032)
    call_command("import_scheme", "--year", "2032", str(DATA / "worked_example_norms.csv"),
                 str(DATA / "worked_example_indicators.csv"), "--district", "331002", "--activate")
    own = Scheme.objects.get(year=2032, district=jiaojiang())
    assert services.scheme_for(jiaojiang(), 2032) == own and services.scheme_for(luqiao(), 2032) == template
    body = client_for(finance_jj).get("/api/v1/schemes/2032/").json()
    assert (body["district"], body["template"]) == ("331002", False)
    lq_body = client_for(UserFactory(username="fc_lq2", roles=["finance_center"])).get("/api/v1/schemes/2032/").json()
    assert lq_body["template"] is True
    with pytest.raises(CommandError):
        call_command("import_scheme", "--year", "2032", str(DATA / "worked_example_norms.csv"),
                     str(DATA / "worked_example_indicators.csv"), "--district", "999999")


def test_objection_upheld_reopens_the_sheet_and_the_correction_shows(two_districts, finance_lq):
    year = two_districts.year
    l2 = Result.objects.get(institution__code="L2").institution
    head = institution_user(l2, "institution_head", username="head_l2")
    third_party = UserFactory(username="tp_l2", roles=["third_party"])
    assign(third_party, l2, year, "third_party")
    dy = services.open_notice(services.district_year(luqiao(), year), finance_lq)
    assessment = Assessment.objects.get(institution=l2)
    objection = services.file_objection(head, assessment, "第三方测评 B1 项漏记材料")
    # During the notice period nobody may edit a sheet that was not reopened.
    tp = client_for(third_party)
    url = f"/api/v1/assessments/{assessment.pk}/sheets/third_party/entries/B1/"
    assert tp.put(url, {"points": "40"}, format="json").status_code == 409
    # Reopening needs the objection upheld first, a reason, and the finance center of the district.
    with pytest.raises(services.StateConflict):
        services.reopen_for_objection(finance_lq, objection, "third_party", "补记材料")
    services.decide_objection(finance_lq, objection, upheld=True, decision="材料属实，更正第三方评分")
    with pytest.raises(services.ScoringError):
        services.reopen_for_objection(finance_lq, objection, "third_party", " ")
    other_finance = UserFactory(username="fc_jj2", roles=["finance_center"], roles__districts=["331002"])
    with pytest.raises(services.NotAllowed):
        services.reopen_for_objection(other_finance, objection, "third_party", "越权")
    services.reopen_for_objection(finance_lq, objection, "third_party", "补记材料")
    assert ScoreSheet.objects.get(assessment=assessment, source="third_party").status == "draft"
    # Publishing waits for the corrected sheet.
    with pytest.raises(services.StateConflict, match="重新开放"):
        services.publish_year(dy, finance_lq)
    # The source corrects and submits; only the reopened sheet is editable.
    assert tp.put(url, {"points": "40"}, format="json").status_code == 200
    assert client_for(head).put(f"/api/v1/assessments/{assessment.pk}/sheets/self/entries/B1/", {"points": "1"},
                                format="json").status_code == 409
    assert tp.post(f"/api/v1/assessments/{assessment.pk}/sheets/third_party/submit/").status_code == 200
    aggregate(year, luqiao())
    changes = dict((label, (before, now)) for label, before, now in
                   services.objection_changes(Objection.objects.get(pk=objection.pk)))
    assert changes["总分"] == ("90.60", "93.60")  # third party's B1 30 → 40, weight 0.3
    services.publish_year(dy, finance_lq)
    assert DistrictYear.objects.get(pk=dy.pk).status == "published"


def test_results_are_seen_in_stages(two_districts, finance_lq):
    year = two_districts.year
    l1 = Result.objects.get(institution__code="L1").institution
    filer = institution_user(l1, "institution_filer", username="filer_l1")
    readers = {role: UserFactory(username=f"r_{role}", roles=[role]) for role in
               ("api_client", "discipline", "city", "inspector", "third_party")}
    assign(readers["inspector"], l1, year, "inspection")

    def seen(user):
        return client_for(user).get(f"/api/v1/scores/?year={year}").json()["count"]

    def page_shows_total(user):
        from django.test import Client

        browser = Client()
        browser.force_login(user)
        resp = browser.get(f"/scoring/assessments/{Assessment.objects.get(institution=l1).pk}/")
        return resp.status_code == 200 and "result-total" in resp.content.decode()

    assert seen(finance_lq) == 2
    assert all(seen(user) == 0 for user in [filer, *readers.values()])
    assert not page_shows_total(filer) and not page_shows_total(readers["inspector"])
    dy = services.open_notice(services.district_year(luqiao(), year), finance_lq)
    assert seen(filer) == 1 and page_shows_total(filer)
    assert all(seen(user) == 0 for user in readers.values())
    services.publish_year(dy, finance_lq)
    assert {role: seen(user) for role, user in readers.items()} == {
        "api_client": 2, "discipline": 2, "city": 2, "inspector": 0, "third_party": 0}
    # 椒江's results stay unseen by 路桥's readers (and 椒江 is not published anyway).
    assert client_for(readers["city"]).get(f"/api/v1/scores/?year={year}&district=331002").json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_every_district_is_aggregated_but_a_published_one_refused(capsys):
    scheme = build_scheme(2031)
    finance_lq = UserFactory(username="fc_lq_t", roles=["finance_center"])
    scored_institution("L1", luqiao(), scheme)
    scored_institution("J1", jiaojiang(), scheme)
    call_command("aggregate_scores", "--year", "2031")
    assert "路桥区" in capsys.readouterr().out
    services.publish_year(services.open_notice(services.district_year(luqiao(), 2031), finance_lq), finance_lq)
    with pytest.raises(CommandError):
        call_command("aggregate_scores", "--year", "2031")
    out = capsys.readouterr()
    assert "椒江区 2031 年度汇总完成" in out.out and "路桥区" in out.err and "已发布" in out.err


def test_objection_correction_through_the_pages(two_districts, finance_lq):
    from django.test import Client

    year = two_districts.year
    l2 = Result.objects.get(institution__code="L2").institution
    head = institution_user(l2, "institution_head", username="head_l2p")
    services.open_notice(services.district_year(luqiao(), year), finance_lq)
    assessment = Assessment.objects.get(institution=l2)
    pages = {user: Client() for user in (head, finance_lq)}
    for user, browser in pages.items():
        browser.force_login(user)
    pages[head].post(f"/scoring/assessments/{assessment.pk}/objection/", {"reason": "自评 B1 漏记"})
    objection = Objection.objects.get(assessment=assessment)
    overview = pages[finance_lq].get(f"/scoring/years/{year}/").content.decode()
    assert "待处理异议 1 件" in overview and f"/scoring/years/{year}/objections/" in overview
    listing = pages[finance_lq].get(f"/scoring/years/{year}/objections/?status=pending").content.decode()
    assert "自评 B1 漏记" in listing
    # The 椒江 officer cannot decide or reopen 路桥's objection: 404, nothing changes.
    other = Client()
    other.force_login(UserFactory(username="fc_jj_p", roles=["finance_center"], roles__districts=["331002"]))
    assert other.post(f"/scoring/objections/{objection.pk}/decide/", {"upheld": "1", "decision": "越权"}
                      ).status_code == 404
    assert Objection.objects.get(pk=objection.pk).status == "pending"
    pages[finance_lq].post(f"/scoring/objections/{objection.pk}/decide/", {"upheld": "1", "decision": "属实"})
    resp = pages[finance_lq].post(f"/scoring/objections/{objection.pk}/reopen/", {"source": "self", "reason": "补记"})
    assert resp.status_code == 302
    assert ScoreSheet.objects.get(assessment=assessment, source="self").status == "draft"
    history = pages[finance_lq].get(f"/scoring/assessments/{assessment.pk}/").content.decode()
    assert "异议更正：补记" in history and "已重新开放评分表" in history


def test_a_reader_of_every_district_reads_the_template_unless_naming_one(admin_user):
    from django.core.management import call_command as run

    run("import_scheme", "--year", "2033", str(DATA / "worked_example_norms.csv"),
        str(DATA / "worked_example_indicators.csv"), "--activate")
    run("import_scheme", "--year", "2033", str(DATA / "worked_example_norms.csv"),
        str(DATA / "worked_example_indicators.csv"), "--district", "331002", "--activate")
    client = client_for(admin_user)
    assert client.get("/api/v1/schemes/2033/").json()["template"] is True
    assert client.get("/api/v1/schemes/2033/?district=331002").json()["template"] is False
    assert client.get("/api/v1/norms/2033/").status_code == 200
    assert client.get("/api/v1/schemes/2034/").status_code == 400  # no template: name a district
    assert client.get("/api/v1/schemes/2034/?district=331004").status_code == 404
    assert client.get("/api/v1/schemes/2033/?district=999999").status_code == 404


def test_an_employee_membership_elsewhere_grants_no_filing_or_results(two_districts, finance_lq):
    """A filer of L1 who is merely an employee member of L2 neither fills L2's self sheet nor sees its
    result; a revoked inspector's assignment no longer lets them score."""
    from institutions.models import DistrictGrant
    from institutions.services import revoke_role

    year = two_districts.year
    l1 = Result.objects.get(institution__code="L1").institution
    l2 = Result.objects.get(institution__code="L2").institution
    filer = institution_user(l1, "institution_filer", username="filer_l1x")
    from institutions.models import Membership

    Membership.objects.create(user=filer, institution=l2, role="employee")
    services.open_notice(services.district_year(luqiao(), year), finance_lq)
    other = Assessment.objects.get(institution=l2)
    assert "self" not in services.fillable_sources(filer, other)
    assert client_for(filer).get(f"/api/v1/scores/{year}/L2/").status_code == 404
    inspector = UserFactory(username="insp_revoked", roles=["inspector"])
    assign(inspector, l2, year, "inspection")
    assert services.fillable_sources(inspector, other) == ["inspection"]
    revoke_role(DistrictGrant.objects.get(user=inspector))
    inspector = type(inspector).objects.get(pk=inspector.pk)
    assert services.fillable_sources(inspector, other) == []


def test_publishing_waits_for_an_aggregation_after_a_correction(two_districts, finance_lq):
    year = two_districts.year
    l2 = Result.objects.get(institution__code="L2").institution
    head = institution_user(l2, "institution_head", username="head_l2w")
    dy = services.open_notice(services.district_year(luqiao(), year), finance_lq)
    assessment = Assessment.objects.get(institution=l2)
    objection = services.file_objection(head, assessment, "更正")
    services.decide_objection(finance_lq, objection, upheld=True, decision="属实")
    services.reopen_for_objection(finance_lq, objection, "self", "补记")
    with pytest.raises(services.StateConflict):  # one sheet per objection
        services.reopen_for_objection(finance_lq, Objection.objects.get(pk=objection.pk), "inspection", "再开")
    services.submit_sheet(finance_lq, assessment, "self")
    with pytest.raises(services.StateConflict, match="重新汇总"):
        services.publish_year(dy, finance_lq)
    aggregate(year, luqiao())
    services.publish_year(dy, finance_lq)
    assert Assessment.objects.get(pk=assessment.pk).state == "published"


def test_publishing_waits_for_an_aggregation_after_a_substantiated_conclusion(two_districts, finance_lq):
    """A complaint concluded substantiated after the last aggregation changes the deduction (SCORING.md
    step 4): the district is aggregated again before its results are published. Another district's
    conclusion, or one found unsubstantiated, does not hold it back."""
    import uuid
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from complaints.models import Complaint

    year = two_districts.year
    l2 = Result.objects.get(institution__code="L2").institution
    elsewhere = Result.objects.exclude(district=luqiao()).first().institution
    dy = services.open_notice(services.district_year(luqiao(), year), finance_lq)

    def concluded(institution, outcome):  # received mid-year, concluded now (after the aggregation)
        received = datetime(year, 6, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
        Complaint.objects.create(institution=institution, kind="complaint", status="concluded", outcome=outcome,
                                 description="测试用投诉", receipt_hash=uuid.uuid4().hex, received_at=received,
                                 deadline_from=received.date(), concluded_at=timezone.now())

    concluded(elsewhere, "substantiated")
    concluded(l2, "unsubstantiated")
    services.publish_year(dy, finance_lq)  # neither changes Luqiao's deduction
    services.reopen_year(dy, finance_lq, "补充结论")
    dy = services.open_notice(services.district_year(luqiao(), year), finance_lq)
    concluded(l2, "partially_substantiated")
    with pytest.raises(services.StateConflict, match="1 家机构的属实或部分属实举报投诉件数与最近一次汇总所用的不同"):
        services.publish_year(dy, finance_lq)
    assert DistrictYear.objects.get(pk=dy.pk).status == "notice"
    aggregate(year, luqiao())
    services.publish_year(dy, finance_lq)
    assert DistrictYear.objects.get(pk=dy.pk).status == "published"


def test_a_conclusion_stamped_before_the_aggregation_but_counted_after_it_holds_publishing(two_districts,
                                                                                        finance_lq):
    """A conclusion whose time is before the last aggregation but which the aggregation did not count
    (its transaction committed after the aggregation read the cases): the stored counts differ from
    today's, so the district is aggregated again first."""
    import uuid
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from complaints.models import Complaint

    year = two_districts.year
    l1 = Result.objects.get(institution__code="L1").institution
    dy = services.open_notice(services.district_year(luqiao(), year), finance_lq)
    aggregated_at = DistrictYear.objects.get(pk=dy.pk).aggregated_at
    received = datetime(year, 3, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    Complaint.objects.create(institution=l1, kind="complaint", status="concluded", outcome="substantiated",
                             description="测试用投诉", receipt_hash=uuid.uuid4().hex, received_at=received,
                             deadline_from=received.date(), concluded_at=aggregated_at - timedelta(seconds=1))
    with pytest.raises(services.StateConflict, match="重新汇总"):
        services.publish_year(dy, finance_lq)
    aggregate(year, luqiao())
    services.publish_year(dy, finance_lq)


def test_a_scheme_in_notice_is_frozen_in_the_admin(two_districts, finance_lq, admin_user):
    from django.test import Client

    from scoring.models import Indicator

    services.open_notice(services.district_year(luqiao(), two_districts.year), finance_lq)
    indicator = Indicator.objects.filter(scheme=two_districts).first()
    browser = Client()
    browser.force_login(admin_user)
    url = f"/admin/scoring/indicator/{indicator.pk}/change/"
    resp = browser.post(url, {"scheme": two_districts.pk, "code": indicator.code, "kind": indicator.kind,
                              "max_points": "55", "title": "改", "position": 0})
    assert resp.status_code == 403
    assert Indicator.objects.get(pk=indicator.pk).max_points == indicator.max_points
    with pytest.raises(services.StateConflict):
        services.open_year(services.district_year(luqiao(), two_districts.year))


def test_import_scheme_reports_oversized_values_as_row_problems():
    import tablib

    norms = tablib.Dataset(headers=list(services.NORMS_COLUMNS))
    norms.append(["70000", "项目", "1.1", "条款"])
    norms.append(["1", "项目", "1." + "9" * 20, "条款"])
    indicators = tablib.Dataset(headers=list(services.INDICATOR_COLUMNS))
    indicators.append(["B" * 30, "basic", "", "10", "指标"])
    report = services.import_scheme(2035, norms, indicators)
    assert not report.ok and len(report.problems) == 3
    assert not Scheme.objects.filter(year=2035).exists()


def test_a_sheet_opened_before_the_district_switched_to_its_own_scheme_is_not_saved_into_the_old_one():
    """(Review finding: the switch to a district's own scheme checked for entries under the template
    without holding the year, and a save read its scheme before holding it: an entry could land under the
    template's indicator in an assessment already moved to the new scheme, lost to every figure.)"""
    import tablib

    build_scheme(2035)
    bank = InstitutionFactory(code="OWN1", district=luqiao())
    filer = institution_user(bank, "institution_filer", username="filer_own1")
    services.district_year(luqiao(), 2035)
    opened = services.ensure_assessment(bank, 2035)  # the filing page, read under the template
    norms = tablib.Dataset(headers=list(services.NORMS_COLUMNS))
    norms.append(["1", "项目一", "1.1", "条款一"])
    indicators = tablib.Dataset(headers=list(services.INDICATOR_COLUMNS))
    indicators.append(["B1", "basic", "1.1", "100", "本区指标"])
    report = services.import_scheme(2035, norms, indicators, activate=True, district=luqiao())
    assert report.ok, report.problems
    assert services.district_year(luqiao(), 2035).scheme.district_id == luqiao().pk

    with pytest.raises(services.StateConflict, match="新的评价方案"):
        services.save_entry(filer, opened, "self", services.EntryInput("B1", "30"))
    assert not SheetEntry.objects.filter(sheet__assessment__institution=bank).exists()
    fresh = Assessment.objects.get(pk=opened.pk)
    entry = services.save_entry(filer, fresh, "self", services.EntryInput("B1", "30"))
    assert entry.indicator.scheme.district_id == luqiao().pk
