"""Every data endpoint runs a bounded number of queries, whatever the number of institutions, and the
results figures are served from the cache until the results change (an aggregation or a publish)."""

import pytest
from django.core.cache import cache

from scoring import services as scoring_services
from scoring.models import Scheme
from tests.conftest import client_for
from tests.factories import InstitutionFactory
from tests.scoring.factories import assessment_for, fill_sheet

from .conftest import YEAR

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/dashboards/district/colours/": 9,
    "/api/v1/dashboards/district/ranking/": 9,
    "/api/v1/dashboards/district/distribution/": 9,
    "/api/v1/dashboards/district/items/": 11,
    "/api/v1/dashboards/district/trend/": 10,
    "/api/v1/dashboards/district/complaints/": 8,
    "/api/v1/dashboards/district/satisfaction/": 8,
    "/api/v1/dashboards/district/violations/": 7,
    "/api/v1/dashboards/district/acknowledgements/": 10,
    "/api/v1/dashboards/district/rows/colours/": 9,
    "/api/v1/dashboards/district/rows/items/?key=1": 11,
    "/api/v1/dashboards/district/rows/complaints/?key=complaint": 8,
    "/api/v1/dashboards/district/rows/satisfaction/": 9,
    "/api/v1/dashboards/district/rows/violations/": 8,
    "/api/v1/dashboards/district/rows/acknowledgements/": 7,
    "/api/v1/dashboards/institutions/A/history/": 16,
    "/api/v1/dashboards/institutions/A/items/": 11,
    "/api/v1/dashboards/institutions/A/complaints/": 11,
    "/api/v1/dashboards/institutions/A/employees/": 12,
    "/api/v1/dashboards/city/league/": 12,
    "/api/v1/dashboards/city/trend/": 13,
}


def _more_institutions(n: int) -> None:
    scheme = Scheme.objects.get(year=YEAR)
    for _ in range(n):
        institution = InstitutionFactory()
        fill_sheet(assessment_for(institution, scheme), "inspection", {"B1": 30, "B2": 30, "B3": 15})
    scoring_services.aggregate_year(YEAR)


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_bounded_queries(dataset, django_assert_max_num_queries, path):
    user = dataset.city_user if "/city/" in path else dataset.finance
    api = client_for(user)
    sep = "&" if "?" in path else "?"
    with django_assert_max_num_queries(ENDPOINTS[path]):
        assert api.get(f"{path}{sep}year={YEAR}").status_code == 200
    # Ten times the institutions: the same bound (nothing is queried per row).
    _more_institutions(10)
    cache.clear()
    with django_assert_max_num_queries(ENDPOINTS[path]):
        assert api.get(f"{path}{sep}year={YEAR}").status_code == 200


def test_results_figures_are_cached_until_results_change(dataset, django_assert_max_num_queries):
    api = client_for(dataset.finance)
    first = api.get("/api/v1/dashboards/district/items/", {"year": YEAR, "district": "331004"}).json()
    # Cached: only the user's roles and the results version are read (no figure query).
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/dashboards/district/items/", {"year": YEAR, "district": "331004"}).json() == first
    # A new aggregation that changes results moves the version: the figure is recomputed.
    _more_institutions(1)
    again = api.get("/api/v1/dashboards/district/items/", {"year": YEAR, "district": "331004"}).json()
    assert again["institutions"] == 5 and again != first
