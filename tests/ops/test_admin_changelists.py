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
