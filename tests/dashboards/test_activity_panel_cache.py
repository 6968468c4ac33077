"""The district dashboard's complaint, satisfaction and violation panels are cached under the change
counters of the tables they read (core/changes.py, moved by database triggers on every write): a second
read is served from the cache with fewer queries, and every kind of write shows at the next request,
whichever path wrote it (issue 16)."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints import services as complaint_services
from complaints.models import Complaint, Question, Questionnaire, SatisfactionTally
from institutions.models import Employee, Institution
from staff_points import services as staff_services
from staff_points.models import PointRecord, ViolationType
from tests.complaints.helpers import act, submit_case
from tests.conftest import client_for
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory

from .conftest import YEAR

pytestmark = pytest.mark.django_db

BASE = "/api/v1/dashboards/district/"


def figure(user, name, year=YEAR, **params):
    response = client_for(user).get(f"{BASE}{name}/", {"district": "331004", "year": year, **params})
    assert response.status_code == 200, response.content
    return response.json()


def _queries(callable_) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        out = callable_()
    return len(ctx.captured_queries), out


def test_the_page_serves_the_panels_from_the_cache_on_a_second_request(dataset, django_assert_max_num_queries):
    client = Client()
    client.force_login(dataset.finance)
    params = {"district": "331004", "year": YEAR}
    first_count, first = _queries(lambda: client.get("/dashboards/district/", params))
    assert first.status_code == 200
    # Saved: complaints' grouped scan and month × kind (2), satisfaction's tallies and ratings for two
    # years (4), the violation records (1); read instead: the change counters, once for the three panels.
    with django_assert_max_num_queries(first_count - 6):
        second = client.get("/dashboards/district/", params)
    assert second.status_code == 200
    for panel in ("complaints", "satisfaction", "violations"):
        assert second.context[panel] == first.context[panel]


@pytest.mark.parametrize("name,saved", [("complaints", 1), ("satisfaction", 3), ("violations", 0)])
def test_each_panels_json_is_served_from_the_cache(dataset, django_assert_max_num_queries, name, saved):
    first_count, first = _queries(lambda: figure(dataset.finance, name))
    # Saved: the panel's own queries (2, 4 and 1) but for the change counters' read (1).
    with django_assert_max_num_queries(first_count - saved):
        assert figure(dataset.finance, name) == first


# --- every kind of write shows at the next request --------------------------------------------------


def test_a_new_complaint_shows_at_once(dataset):
    year = timezone.localdate().year
    before = figure(dataset.finance, "complaints", year=year)
    submit_case(dataset.a)
    after = figure(dataset.finance, "complaints", year=year)
    assert after["total"] == before["total"] + 1
    assert {k["kind"]: k["count"] for k in after["kinds"]}["complaint"] == (
        {k["kind"]: k["count"] for k in before["kinds"]}["complaint"] + 1)


def test_a_status_change_and_an_outcome_show_at_once(dataset):
    year = timezone.localdate().year
    case, _ = submit_case(dataset.b)
    empty = figure(dataset.finance, "complaints", year=year)
    assert empty["concluded"] == 0
    for action in ("accept", "verify"):
        act(case, action, dataset.finance)
    act(case, "conclude", dataset.finance, outcome="substantiated")
    after = figure(dataset.finance, "complaints", year=year)
    assert after["concluded"] == 1 and after["substantiation_rate"] == "100.0"
    assert {o["outcome"]: o["count"] for o in after["outcomes"]}["substantiated"] == 1


def test_a_merge_leaves_the_counts_at_once(dataset):
    year = timezone.localdate().year
    target, _ = submit_case(dataset.a)
    duplicate, _ = submit_case(dataset.a)
    assert figure(dataset.finance, "complaints", year=year)["total"] == 2
    act(duplicate, "merge", dataset.finance, target=target.pk)
    assert figure(dataset.finance, "complaints", year=year)["total"] == 1


def test_a_write_past_the_services_shows_at_once(dataset):
    """A bulk update (as a data fix or a management command would make) moves the counter too."""
    before = figure(dataset.finance, "complaints")
    Complaint.objects.filter(institution=dataset.b, outcome="unsubstantiated").update(outcome="substantiated")
    after = figure(dataset.finance, "complaints")
    counts = {o["outcome"]: o["count"] for o in after["outcomes"]}
    assert counts["substantiated"] == {o["outcome"]: o["count"] for o in before["outcomes"]}["substantiated"] + 1
    assert counts["unsubstantiated"] == 0


def test_an_institution_changing_category_or_district_shows_at_once(dataset):
    assert figure(dataset.finance, "complaints", category="bank")["total"] == 3
    Institution.objects.filter(pk=dataset.b.pk).update(category="insurance")
    assert figure(dataset.finance, "complaints", category="bank")["total"] == 1
    assert figure(dataset.finance, "violations", category="bank")["count"] == 3  # B1's two now insurance
    dataset.a.district = dataset.jiaojiang
    dataset.a.save()
    assert figure(dataset.finance, "complaints", category="bank")["total"] == 0


def test_a_survey_answer_shows_at_once(dataset):
    year = timezone.localdate().year
    questionnaire = Questionnaire.objects.create(year=year, title="本年问卷")
    question = Question.objects.create(questionnaire=questionnaire, position=1, kind=Question.Kind.RATING,
                                       text="总体满意度")
    before = figure(dataset.finance, "satisfaction", year=year)
    result = complaint_services.submit_survey(questionnaire, dataset.a, {question.pk: "5"})
    assert result.response.satisfied is True
    after = figure(dataset.finance, "satisfaction", year=year)
    assert after["rated"] == before["rated"] + 1


def test_a_public_rating_shows_at_once(dataset):
    year = timezone.localdate().year
    before = figure(dataset.finance, "satisfaction", year=year)
    submit_case(dataset.c, kind="rating", description="", ratings={"attitude": 2, "efficiency": 2, "integrity": 2})
    after = figure(dataset.finance, "satisfaction", year=year)
    assert after["rated"] == before["rated"] + 1


def test_rebuilt_tallies_show_at_once(dataset):
    before = figure(dataset.finance, "satisfaction")
    SatisfactionTally.objects.filter(institution=dataset.a, year=YEAR).delete()  # lost, as after a bad load
    assert figure(dataset.finance, "satisfaction")["rated"] == before["rated"] - 4
    complaint_services.rebuild_satisfaction_tallies()
    assert figure(dataset.finance, "satisfaction") == before


def test_a_violation_record_shows_at_once(dataset):
    today = timezone.localdate()
    before = figure(dataset.finance, "violations", year=today.year)
    employee = Employee.objects.get(employee_no="A1")
    vtype = ViolationType.objects.get(code="VT")
    staff_services.record_points(UserFactory(is_superuser=True), employee, staff_services.RecordInput(
        date=today, kind="deduction", violation_code=vtype.code))
    after = figure(dataset.finance, "violations", year=today.year)
    assert after["count"] == before["count"] + 1


def test_a_deleted_record_and_an_employee_moving_show_at_once(dataset):
    assert figure(dataset.finance, "violations")["count"] == 7
    PointRecord.objects.filter(employee__employee_no="D1", date=dt.date(YEAR, 4, 3)).delete()
    assert figure(dataset.finance, "violations")["count"] == 6
    employee = Employee.objects.get(employee_no="B1")
    employee.institution = dataset.e  # to Jiaojiang: its records no longer count for Luqiao
    employee.save()
    assert figure(dataset.finance, "violations")["count"] == 4


def test_a_new_institution_in_the_district_is_counted_with_its_data(dataset):
    before = figure(dataset.finance, "violations")
    newcomer = InstitutionFactory(code="N", category="bank")
    employee = EmployeeFactory(institution=newcomer, employee_no="N1")
    PointRecord.objects.create(employee=employee, date=dt.date(YEAR, 8, 1), kind="deduction",
                               violation_type=ViolationType.objects.get(code="VT"), module="compliance", points=5)
    assert figure(dataset.finance, "violations")["count"] == before["count"] + 1


def test_the_counters_move_on_every_kind_of_statement(dataset):
    from core import changes

    def count() -> int:
        return changes.counts(["complaints.complaint"])["complaints.complaint"]

    start = count()
    case, _ = submit_case(dataset.a)
    after_insert = count()
    Complaint.objects.filter(pk=case.pk).update(description="改")
    after_update = count()
    Complaint.objects.filter(pk=case.pk).delete()
    after_delete = count()
    assert start < after_insert < after_update < after_delete
