"""Admin changelists of the big tables at province scale (issue 16): the rows are counted once (for the
pager), never a second time over the whole table for the "total" (ScaleSafeAdminMixin)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = ["/admin/institutions/employee/", "/admin/institutions/institution/",
               "/admin/complaints/surveyresponse/", "/admin/complaints/complaint/",
               "/admin/staff_points/pointrecord/", "/admin/scoring/sheetentry/", "/admin/scoring/result/"]


def _counts(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return sum("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)


@pytest.mark.parametrize("url", CHANGELISTS)
def test_big_changelists_count_their_rows_once(client, url):
    for _ in range(2):
        EmployeeFactory(institution=InstitutionFactory())
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert _counts(client, url) == 1
    assert _counts(client, url + "?q=1") == 1  # a search: still no count of the whole table


def test_a_changelist_counts_at_most_the_limit_and_says_so(client, settings):
    """ADMIN_COUNT_LIMIT: the pager's COUNT stops after limit + 1 rows (a LIMITed, unordered subquery),
    the page says "more than N"; below the limit, the exact count as before; the pages still page."""
    settings.ADMIN_COUNT_LIMIT = 3
    institution = InstitutionFactory()
    for _ in range(5):
        EmployeeFactory(institution=institution)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/admin/institutions/employee/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "超过 3 条" in text and "5 " not in text.split('class="paginator"')[1][:200]
    assert "超过 3 条结果" in text and "4 条结果" not in text  # the search bar's count too
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 4" in counts[0].upper() and "ORDER BY" not in counts[0].upper()
    # Below the limit: the exact number, as Django's own pager says it.
    settings.ADMIN_COUNT_LIMIT = 10
    text = client.get("/admin/institutions/employee/").content.decode()
    assert "超过" not in text.split('class="paginator"')[1][:300]
    assert "5" in text.split('class="paginator"')[1][:300]


def test_survey_answers_filter_by_questionnaire_year_without_scanning_their_dates(client):
    """No date hierarchy on the answers (it read the distinct years and the first and last answer of
    the whole table on every page): the questionnaire's year filters instead."""
    from complaints.models import Questionnaire, SurveyResponse

    institution = InstitutionFactory()
    for year in (2025, 2026):
        questionnaire = Questionnaire.objects.create(year=year, title=f"{year} 年问卷")
        SurveyResponse.objects.create(questionnaire=questionnaire, institution=institution, answers={},
                                      mean_rating=4, satisfied=True)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/admin/complaints/surveyresponse/", {"questionnaire__year": 2026})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert not [q for q in ctx.captured_queries if "DATE_TRUNC" in q["sql"].upper() or "MIN(" in q["sql"].upper()]


def test_the_employee_list_never_lists_every_institution_as_a_filter(client):
    """The province's 5,000 institutions were all listed in the employee list's filter on every page
    (573 KB): the filter shows only the institution chosen, and filters by it; a bad value finds none."""
    banks = [InstitutionFactory(name=f"筛选银行{i}") for i in range(3)]
    for bank in banks:
        EmployeeFactory(institution=bank)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    text = client.get("/admin/institutions/employee/").content.decode()
    assert not any(f"筛选银行{i}</a>" in text.split('id="changelist-filter"')[1] for i in range(3))
    chosen = client.get("/admin/institutions/employee/", {"institution": banks[1].pk})
    assert chosen.status_code == 200 and chosen.context["cl"].result_count == 1
    assert "筛选银行1</a>" in chosen.content.decode().split('id="changelist-filter"')[1]
    assert client.get("/admin/institutions/employee/", {"institution": "x"}).context["cl"].result_count == 0


def test_the_institution_filter_never_names_another_districts_institution(client):
    """Not even for an officer who holds another role (API client) in that district: the list is the
    finance center's, and so is the filter."""
    from institutions.models import District
    from institutions.services import grant_role

    jiaojiang = District.objects.get(code="331002")
    elsewhere = InstitutionFactory(name="椒江某银行", district=jiaojiang)
    EmployeeFactory(institution=elsewhere)
    officer = UserFactory(username="fc_lq", roles=["finance_center"], is_staff=True)
    grant_role(officer, "api_client", jiaojiang)
    client.force_login(officer)
    response = client.get("/admin/institutions/employee/", {"institution": elsewhere.pk})
    assert response.status_code == 200 and response.context["cl"].result_count == 0
    assert "椒江某银行" not in response.content.decode()


@pytest.mark.parametrize("value", ["x", "²", "٣", "9" * 5000, "-1"])
def test_a_bad_institution_filter_value_finds_nobody(client, value):
    EmployeeFactory(institution=InstitutionFactory())
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    response = client.get("/admin/institutions/employee/", {"institution": value})
    assert response.status_code == 200 and response.context["cl"].result_count == 0


@pytest.mark.parametrize(("url", "field"), [("/admin/complaints/complaint/", "received_at"),
                                            ("/admin/staff_points/pointrecord/", "date")])
def test_cases_and_point_records_filter_by_date_without_scanning_their_dates(client, url, field):
    """No date hierarchy on the cases and the point records either (its top level read the first and
    last date and every year of the user's rows: 175 of a 355 ms page over a province's cases): a date
    list filter (today, past 7 days, this month, this year) instead, which reads nothing."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from complaints.models import Complaint
    from staff_points.models import PointRecord, ViolationType
    from tests.complaints.helpers import submit_case

    institution = InstitutionFactory()
    old, _ = submit_case(institution, kind="complaint")
    submit_case(institution, kind="complaint")
    Complaint.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=400))
    vtype = ViolationType.objects.create(code="VT", name="测试违规", module="compliance", points=5)
    employee = EmployeeFactory(institution=institution)
    for day in (timezone.localdate(), timezone.localdate() - timedelta(days=400)):
        PointRecord.objects.create(employee=employee, date=day, kind="deduction", violation_type=vtype,
                                   module=vtype.module, points=vtype.points)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200 and response.context["cl"].result_count == 2
    assert not [q for q in ctx.captured_queries if "DATE_TRUNC" in q["sql"].upper() or "MIN(" in q["sql"].upper()]
    this_year = timezone.localdate().replace(month=1, day=1)
    bounds = [this_year, this_year.replace(year=this_year.year + 1)]
    if field == "received_at":  # a date-time field: the filter's bounds are aware, as its links give them
        bounds = [timezone.make_aware(datetime.combine(day, time())) for day in bounds]
    response = client.get(url, {f"{field}__gte": str(bounds[0]), f"{field}__lt": str(bounds[1])})
    assert response.context["cl"].result_count == 1
    assert "今年" in response.content.decode()
