"""Pages that listed every institution of the district on one page (issue 16 item 7, docs/performance.md
"Operations", the "still above 300 ms" list): one page at a time, totals summed in SQL, queries that do
not grow with the institutions, and a bad page number gives a normal page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import InstitutionFactory, UserFactory

YEAR = 2026
BAD_PAGES = ("abc", "0", "-3", "99999", "1.5")


def _get(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response, len(ctx.captured_queries)


# --- /risk/summary/ -------------------------------------------------------------------------------


def _risk_rows(html: str) -> int:
    return html.count('<td data-label="机构">')


@pytest.mark.django_db
def test_risk_summary_lists_a_page_of_institutions_with_the_districts_totals(client, monkeypatch,
                                                                              django_assert_max_num_queries):
    from risk import views as risk_views
    from risk.models import InstitutionSummary

    monkeypatch.setattr(risk_views, "SUMMARY_PAGE_SIZE", 5)
    client.force_login(UserFactory(roles=["finance_center"]))
    url = f"/risk/summary/?district=331004&year={YEAR}"

    def add(n, start):
        for i in range(n):
            institution = InstitutionFactory()
            InstitutionSummary.objects.create(institution=institution, year=YEAR, total=start + i, overdue=1,
                                              closed=i, by_status={"escalated": 2, "closed": i})

    add(3, 10)
    response, few = _get(client, url)
    assert response.status_code == 200
    assert _risk_rows(response.content.decode()) == 3
    add(9, 20)
    inactive = InstitutionFactory(is_active=False)
    InstitutionSummary.objects.create(institution=inactive, year=YEAR, total=1000, overdue=1000, closed=1000,
                                      by_status={"escalated": 1000})
    with django_assert_max_num_queries(few + 2):  # + the paginator's count
        response = client.get(url)
    html = response.content.decode()
    assert _risk_rows(html) == 5
    assert "page=2" in html
    totals = response.context["totals"]
    alerts = sum(range(10, 13)) + sum(range(20, 29))
    assert totals == {"institutions": 12, "alerts": alerts, "overdue": 12,
                      "closed": sum(range(3)) + sum(range(9)), "escalated": 24}
    assert _risk_rows(client.get(url + "&page=3").content.decode()) == 2
    for bad in BAD_PAGES:
        response = client.get(url + f"&page={bad}")
        assert response.status_code == 200, bad
        assert _risk_rows(response.content.decode()) in (5, 2), bad


# --- /complaints/stats/ ---------------------------------------------------------------------------


def _stats_rows(html: str) -> int:
    start = html.index("<h2>按机构</h2>")
    return html[start:].count('<td data-label="查实率">')


@pytest.mark.django_db
def test_complaint_statistics_list_a_page_of_institutions_and_keep_the_totals(client, monkeypatch, settings,
                                                                              tmp_path,
                                                                              django_assert_max_num_queries):
    from django.utils import timezone

    from complaints import staff_views
    from tests.complaints.helpers import submit_case

    settings.COMPLAINTS_EVIDENCE_ROOT = tmp_path / "evidence"
    monkeypatch.setattr(staff_views, "STATS_PAGE_SIZE", 4)
    client.force_login(UserFactory(roles=["finance_center"], is_staff=True))
    url = f"/complaints/stats/?year={timezone.localdate().year}"

    def add(n):
        for _ in range(n):
            institution = InstitutionFactory()
            submit_case(institution, kind="suggestion", description="建议")
            submit_case(institution)

    add(2)
    response, few = _get(client, url)
    assert response.status_code == 200
    assert _stats_rows(response.content.decode()) == 2
    add(8)
    with django_assert_max_num_queries(few + 2):  # + the paginator's count
        response = client.get(url)
    html = response.content.decode()
    assert _stats_rows(html) == 4
    assert response.context["stats"].total == 20  # the totals cover every institution
    assert response.context["stats"].by_kind == {"suggestion": 10, "complaint": 10}
    assert response.context["page"].paginator.count == 10
    assert "page=2" in html and "year=" in html[html.index('class="wf-pager"'):]
    last = client.get(url + "&page=3")
    assert _stats_rows(last.content.decode()) == 2 and last.context["stats"].total == 20
    for bad in BAD_PAGES:
        response = client.get(url + f"&page={bad}")
        assert response.status_code == 200, bad
        assert _stats_rows(response.content.decode()) in (4, 2), bad


# --- /inspections/plan/ ---------------------------------------------------------------------------


def _plan_rows(html: str) -> int:
    return html.count('<td data-label="完成情况">')


@pytest.mark.django_db
def test_inspection_plan_lists_a_page_of_entries_and_no_institution_options(client, monkeypatch,
                                                                           django_assert_max_num_queries):
    from inspections import services as inspection_services
    from inspections import views as inspection_views
    from institutions.models import District

    monkeypatch.setattr(inspection_views, "PAGE_SIZE", 5)
    finance = UserFactory(roles=["finance_center"])
    client.force_login(finance)
    plan = inspection_services.create_plan(finance, District.objects.get(code="331004"), YEAR)
    url = f"/inspections/plan/?year={YEAR}&district=331004"

    def add(n):
        for i in range(n):
            inspection_services.add_plan_entry(finance, plan, institution_code=InstitutionFactory().code,
                                               month=1 + i % 12)

    add(3)
    response, few = _get(client, url)
    assert response.status_code == 200
    assert _plan_rows(response.content.decode()) == 3
    add(9)
    with django_assert_max_num_queries(few + 2):  # + the paginator's count
        response = client.get(url)
    html = response.content.decode()
    assert _plan_rows(html) == 5
    assert "<option" not in html.split('name="institution_code"')[1].split("</label>")[0]
    assert html.count("<option") < 30  # months and kinds only, not one per institution
    assert "page=2" in html and "district=331004" in html[html.index('class="wf-pager"'):]
    assert _plan_rows(client.get(url + "&page=3").content.decode()) == 2
    for bad in BAD_PAGES:
        response = client.get(url + f"&page={bad}")
        assert response.status_code == 200, bad
        assert _plan_rows(response.content.decode()) in (5, 2), bad


# --- /activities/trainings/ and /activities/notices/<pk>/ ----------------------------------------


def _table_rows(html: str, table_id: str) -> int:
    start = html.index(f'id="{table_id}"')
    return html[html.index("<tbody>", start):html.index("</tbody>", start)].count("<tr>")


@pytest.mark.django_db
def test_training_rates_list_a_page_of_institutions(client, monkeypatch, django_assert_max_num_queries):
    from activities import views as activity_views

    monkeypatch.setattr(activity_views, "PAGE_SIZE", 5)
    client.force_login(UserFactory(roles=["finance_center"]))
    url = f"/activities/trainings/?year={YEAR}&district=331004"
    for _ in range(3):
        InstitutionFactory()
    response, few = _get(client, url)
    assert response.status_code == 200
    assert _table_rows(response.content.decode(), "completion-rates") == 3
    for _ in range(9):
        InstitutionFactory()
    with django_assert_max_num_queries(few + 2):  # + the paginator's count
        response = client.get(url)
    html = response.content.decode()
    assert _table_rows(html, "completion-rates") == 5
    assert "rpage=2" in html
    assert _table_rows(client.get(url + "&rpage=3").content.decode(), "completion-rates") == 2
    for bad in BAD_PAGES:
        response = client.get(url + f"&rpage={bad}")
        assert response.status_code == 200, bad
        assert _table_rows(response.content.decode(), "completion-rates") in (5, 2), bad


@pytest.mark.django_db
def test_notice_recipients_listed_a_page_at_a_time(client, monkeypatch, django_assert_max_num_queries):
    from activities import services as activity_services
    from activities import views as activity_views

    monkeypatch.setattr(activity_views, "PAGE_SIZE", 5)
    finance = UserFactory(roles=["finance_center"])
    client.force_login(finance)

    def publish():
        return activity_services.publish_notice(finance, activity_services.NoticeInput(
            title="通知", body="正文", return_kind="form", return_within=5, district_code="331004"))

    for _ in range(3):
        InstitutionFactory()
    small = publish()
    response, few = _get(client, f"/activities/notices/{small.pk}/")
    assert response.status_code == 200
    assert _table_rows(response.content.decode(), "recipients") == 3
    for _ in range(9):
        InstitutionFactory()
    big = publish()
    url = f"/activities/notices/{big.pk}/"
    with django_assert_max_num_queries(few + 2):  # + the paginator's count
        response = client.get(url)
    html = response.content.decode()
    assert _table_rows(html, "recipients") == 5
    assert "已读 0/12" in html  # the figures cover every recipient
    assert "page=2" in html
    assert _table_rows(client.get(url + "?page=3").content.decode(), "recipients") == 2
    for bad in BAD_PAGES:
        response = client.get(url + f"?page={bad}")
        assert response.status_code == 200, bad
        assert _table_rows(response.content.decode(), "recipients") in (5, 2), bad


# --- /activities/archives/ -------------------------------------------------------------------------


@pytest.mark.django_db
def test_archives_page_takes_a_code_instead_of_listing_every_institution(client, django_assert_max_num_queries):
    client.force_login(UserFactory(roles=["finance_center"]))
    for _ in range(3):
        InstitutionFactory()
    response, few = _get(client, "/activities/archives/")
    assert response.status_code == 200
    for _ in range(20):
        InstitutionFactory()
    options = response.content.decode().count("<option")
    with django_assert_max_num_queries(few):
        response = client.get("/activities/archives/")
    html = response.content.decode()
    assert html.count("<option") == options  # none per institution (the language picker's only)
    form = html[html.index('id="build-archive"') - 1000:html.index('id="build-archive"')]
    assert "<option" not in form
    assert 'name="institution"' in html and "data-lookup=" in html


# --- /activities/notices/ ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_notice_form_takes_codes_instead_of_listing_every_institution(client, django_assert_max_num_queries):
    from activities.models import Notice

    client.force_login(UserFactory(roles=["finance_center"]))
    for _ in range(3):
        InstitutionFactory()
    response, few = _get(client, "/activities/notices/?district=331004")
    assert response.status_code == 200
    options = response.content.decode().count("<option")
    codes = [InstitutionFactory().code for _ in range(20)]
    with django_assert_max_num_queries(few):
        response = client.get("/activities/notices/?district=331004")
    assert response.content.decode().count("<option") == options  # none per institution
    data = {"title": "仅两家", "body": "正文", "audience": "institutions", "district": "331004"}
    response = client.post("/activities/notices/", {**data, "institutions": f"{codes[0]}，{codes[1]} "})
    assert response.status_code == 302
    assert sorted(Notice.objects.get(title="仅两家").recipients.values_list("institution__code", flat=True)) == \
        sorted(codes[:2])
    response = client.post("/activities/notices/", {**data, "title": "未知", "institutions": "NOPE-1"})
    assert response.status_code == 400 and not Notice.objects.filter(title="未知").exists()
