"""Every data endpoint runs a bounded number of queries, whatever the number of institutions, and the
results figures are served from the cache until the results change (an aggregation or a publish)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from institutions.models import District
from scoring import services as scoring_services
from scoring.models import Result, Scheme
from tests.conftest import client_for
from tests.factories import InstitutionFactory
from tests.scoring.factories import assessment_for, fill_sheet

from .conftest import YEAR

pytestmark = pytest.mark.django_db
User = get_user_model()

ENDPOINTS = {
    "/api/v1/dashboards/district/colours/": 9,
    "/api/v1/dashboards/district/ranking/": 9,
    "/api/v1/dashboards/district/distribution/": 9,
    "/api/v1/dashboards/district/items/": 9,
    "/api/v1/dashboards/district/trend/": 8,
    "/api/v1/dashboards/district/complaints/": 11,
    "/api/v1/dashboards/district/satisfaction/": 7,
    "/api/v1/dashboards/district/violations/": 4,
    # (+2, constant: the recent titles masked with the registry, warnings_feed.selectors.masked_titles)
    "/api/v1/dashboards/district/acknowledgements/": 7,
    "/api/v1/dashboards/district/rows/colours/": 9,
    "/api/v1/dashboards/district/rows/items/?key=1": 5,
    "/api/v1/dashboards/district/rows/complaints/?key=complaint": 5,
    "/api/v1/dashboards/district/rows/satisfaction/": 6,
    "/api/v1/dashboards/district/rows/violations/": 5,
    "/api/v1/dashboards/district/rows/acknowledgements/": 4,
    "/api/v1/dashboards/institutions/A/history/": 6,
    "/api/v1/dashboards/institutions/A/items/": 14,
    "/api/v1/dashboards/institutions/A/complaints/": 16,
    "/api/v1/dashboards/institutions/A/employees/": 8,  # (+1: the recent titles masked with the registry)
    # The city's index weights: one query more, read on every call (they key the cached figures).
    "/api/v1/dashboards/city/league/": 20,
    "/api/v1/dashboards/city/trend/": 15,
}


def _more_institutions(n: int) -> None:
    """n more scored institutions in Luqiao: its published year reopened, aggregated again."""
    luqiao = District.objects.get(code="331004")
    year = scoring_services.district_year(luqiao, YEAR)
    if year.status != "open":
        scoring_services.reopen_year(year, User.objects.get(username="dash_finance"), "补充机构")
    scheme = Scheme.objects.get(year=YEAR, district__isnull=True)
    for _ in range(n):
        institution = InstitutionFactory()
        fill_sheet(assessment_for(institution, scheme), "inspection", {"B1": 30, "B2": 30, "B3": 15})
    scoring_services.aggregate_year(YEAR, luqiao)


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


def test_a_change_of_stage_or_of_item_points_alone_moves_the_version(dataset):
    from dashboards.selectors import results_version

    def version() -> str:
        return results_version([dataset.luqiao.pk], [YEAR])

    published = version()
    year = scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    reopened = version()
    assert reopened != published  # the DistrictYear's status, not the scheme's
    # Points moved between A's items: its total (and every other field of the results) is unchanged, its
    # per-item summary (Result.item_cents) is not: only A's row is rewritten, with a new computed_at.
    scheme = Scheme.objects.get(year=YEAR, district__isnull=True)
    fill_sheet(assessment_for(dataset.a, scheme), "inspection", {"B1": 38, "B2": 34, "B3": 16, "X1": 6, "R1": False})

    def rows() -> dict:
        return {r.pop("institution__code"): r for r in Result.objects.filter(year=YEAR, district=dataset.luqiao)
                .values("institution__code", "pk", "total", "rank", "item_cents", "computed_at")}

    before = rows()
    assert scoring_services.aggregate_year(YEAR, dataset.luqiao).written == 1
    after = rows()
    assert {code for code in after if after[code] != before[code]} == {"A"}
    assert after["A"]["item_cents"] != before["A"]["item_cents"]
    assert [after["A"][f] for f in ("pk", "total", "rank")] == [before["A"][f] for f in ("pk", "total", "rank")]
    assert after["A"]["computed_at"] > before["A"]["computed_at"]
    assert version() != reopened
    scoring_services.open_notice(year, dataset.finance)
    assert version() not in (published, reopened)


def test_results_changes_queue_the_warm_up_through_scorings_hook(dataset, settings, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    from dashboards import services, tasks

    assert services.results_changed in scoring_services.RESULTS_CHANGED_HOOKS  # registered in ready()
    queued = []
    # Queued through core.queue, which publishes with apply_async (eagerly here: the app's own setting).
    monkeypatch.setattr(tasks.warm_cache, "apply_async", lambda args, kwargs=None, **kw: queued.append(tuple(args)))
    with django_capture_on_commit_callbacks(execute=True):
        scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    assert queued == []  # tasks run in process (no broker): nothing is queued
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a real worker
    with django_capture_on_commit_callbacks(execute=True):
        scoring_services.aggregate_year(YEAR, dataset.luqiao)
        assert queued == []  # only once the aggregation committed
    assert queued == [(YEAR, [dataset.luqiao.pk])]
    assert tasks.warm_cache.run(YEAR, [dataset.luqiao.pk]) == 4
    assert tasks.warm_cache.run(YEAR, dataset.luqiao.pk) == 4  # a message queued by an earlier version
