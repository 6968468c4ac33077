"""Province-scale pages answer with a bounded number of queries (issue 16: /scoring/ made two
assignment queries per assessment, 10,009 queries for a city user)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scoring.models import Assessment
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import assessment_for, assign, build_scheme

YEAR = 2026


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _more_assessments(scheme, n):
    for _ in range(n):
        assessment_for(InstitutionFactory(), scheme, Assessment.State.SCORED)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["city", "discipline", "api_client", "inspector"])
def test_scoring_list_queries_do_not_grow_with_rows(client, role, django_assert_max_num_queries):
    scheme = build_scheme(YEAR, status="published")
    user = UserFactory(roles=[role])
    client.force_login(user)
    _more_assessments(scheme, 3)
    if role == "inspector":
        for a in Assessment.objects.all():
            assign(user, a.institution, YEAR, "inspection")
    small = _queries(client, f"/scoring/?year={YEAR}")
    _more_assessments(scheme, 12)
    if role == "inspector":
        for a in Assessment.objects.exclude(institution__scoring_assignments__user=user):
            assign(user, a.institution, YEAR, "inspection")
    with django_assert_max_num_queries(small):
        response = client.get(f"/scoring/?year={YEAR}")
    assert response.status_code == 200
    # The rows are there: the readers see every published assessment, the inspector its assigned ones.
    assert Assessment.objects.first().institution.name in response.content.decode()
    assert len(response.context["rows"]) == 15


@pytest.mark.django_db
def test_scoring_list_filer_sees_own_rows_with_few_queries(client, django_assert_max_num_queries):
    scheme = build_scheme(YEAR)
    own = InstitutionFactory()
    assessment_for(own, scheme)
    _more_assessments(scheme, 10)
    filer = institution_user(own)
    client.force_login(filer)
    with django_assert_max_num_queries(20):
        response = client.get(f"/scoring/?year={YEAR}")
    rows = response.context["rows"]
    assert [r["assessment"].institution_id for r in rows] == [own.pk]
    assert [source for source, _sheet in rows[0]["sheets"]] == ["self"]


@pytest.mark.django_db
def test_batched_fillable_sources_agree_with_the_service():
    """The list's batched rule gives each row what services.fillable_sources gives it alone."""
    from institutions.models import District, DistrictGrant
    from institutions.services import revoke_role
    from scoring import selectors, services

    scheme = build_scheme(YEAR)
    a, b = InstitutionFactory(), InstitutionFactory()
    jiaojiang = InstitutionFactory(district=District.objects.get(code="331002"))
    assessments = [assessment_for(i, scheme) for i in (a, b, jiaojiang)]
    inspector = UserFactory(roles=["inspector", "third_party"])
    assign(inspector, a, YEAR, "inspection")
    assign(inspector, a, YEAR, "third_party")
    assign(inspector, jiaojiang, YEAR, "inspection")  # outside the district the role is granted in
    users = [inspector, institution_user(b), UserFactory(roles=["finance_center"]), UserFactory(roles=["city"]),
             UserFactory(username="root", is_superuser=True)]
    for user in users:
        batched = selectors.fillable_sources_by_assessment(user, assessments)
        for assessment in assessments:
            assert batched[assessment.pk] == services.fillable_sources(user, assessment), (user, assessment)
    assert selectors.fillable_sources_by_assessment(inspector, assessments)[assessments[0].pk] == [
        "inspection", "third_party"]
    # A reviewer who lost the role keeps the assignment row but no longer fills that sheet.
    revoke_role(DistrictGrant.objects.get(user=inspector, role="third_party"))
    inspector = type(inspector).objects.get(pk=inspector.pk)
    assert selectors.fillable_sources_by_assessment(inspector, assessments)[assessments[0].pk] == ["inspection"]
    assert services.fillable_sources(inspector, assessments[0]) == ["inspection"]
