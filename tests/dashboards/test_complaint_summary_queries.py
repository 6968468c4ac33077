"""The district dashboard's complaint figures (issue 16): the totals only, never complaints' per-institution
table (a grouped query over every case of the district, 0.5 s for a province, that the panel does not show)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import client_for

from .conftest import YEAR

pytestmark = pytest.mark.django_db


def test_complaint_panel_does_not_group_cases_by_institution(dataset):
    client = client_for(dataset.finance)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/dashboards/district/complaints/", {"district": "331004", "year": YEAR})
    assert response.status_code == 200 and response.json()["total"] == 6
    per_institution = [q["sql"] for q in ctx.captured_queries
                       if 'FROM "complaints_complaint"' in q["sql"] and '"institutions_institution"."name"' in q["sql"]]
    assert per_institution == []
