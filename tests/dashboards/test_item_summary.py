"""The per-item score summary (models.ItemScore): the items charts read it only while it reflects the
current results, give the same figures as the computation from the entries, and ask for a refresh
when it falls behind."""

import pytest
from django.core.cache import cache

from dashboards import selectors, services
from dashboards.models import ItemScore, ItemScoreRefresh
from scoring.models import Scheme
from tests.conftest import client_for

from .conftest import YEAR
from .test_queries import ENDPOINTS, _more_institutions

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/dashboards/district/items/"


def items_figure(user) -> dict:
    response = client_for(user).get(ITEMS, {"district": "331004", "year": YEAR})
    assert response.status_code == 200, response.content
    return {i["number"]: (i["average"], i["best"]) for i in response.json()["items"]} | {
        "institutions": response.json()["institutions"]}


def current(year: int = YEAR) -> bool:
    return selectors.item_summary_is_current(year, selectors.results_version([year]))


def test_refresh_writes_a_row_per_assessed_institution_and_item(dataset):
    assert not current()
    rows = services.refresh_item_scores(YEAR)
    # Four assessed institutions of 331004 plus the second district's, each with both basic items.
    assessed = {s.institution_id for s in ItemScore.objects.filter(year=YEAR)}
    assert rows == ItemScore.objects.filter(year=YEAR).count() == 2 * len(assessed)
    assert current()
    # C: item 1 = (0.2·80 + 0.5·78) / 0.7 (hand computation in test_district.py).
    c_item_1 = ItemScore.objects.get(year=YEAR, institution__code="C", item=1).score
    assert c_item_1 == pytest.approx((0.2 * 80 + 0.5 * 78) / 0.7)
    # Idempotent.
    assert services.refresh_item_scores(YEAR) == rows
    assert ItemScore.objects.filter(year=YEAR).count() == rows
    assert ItemScoreRefresh.objects.filter(year=YEAR).count() == 1


def test_figures_from_the_summary_equal_the_hand_computation(dataset):
    from_entries = items_figure(dataset.finance)
    services.refresh_item_scores(YEAR)
    cache.clear()
    from_summary = items_figure(dataset.finance)
    assert from_summary == from_entries
    assert from_summary[1] == ("72.14", "80.00") and from_summary[2] == ("16.46", "20.00")
    assert from_summary["institutions"] == 4


def test_institution_items_and_rows_from_the_summary(dataset):
    services.refresh_item_scores(YEAR)
    cache.clear()
    data = client_for(dataset.head_a).get("/api/v1/dashboards/institutions/A/items/", {"year": YEAR}).json()
    assert {i["number"]: (i["own"], i["average"], i["best"]) for i in data["items"]} == {
        1: ("70.00", "72.14", "80.00"), 2: ("18.00", "16.46", "20.00")}
    rows = client_for(dataset.finance).get("/api/v1/dashboards/district/rows/items/",
                                           {"district": "331004", "year": YEAR, "key": "1", "page_size": 2}).json()
    assert rows["count"] == 4
    assert [(r["code"], r["score"]) for r in rows["results"]] == [("D", "80.00"), ("C", "78.57")]


def test_a_summary_behind_the_results_is_not_used(dataset):
    services.refresh_item_scores(YEAR)
    _more_institutions(1)  # an aggregation that changes the results moves the version
    assert not current()
    cache.clear()
    # Computed from the entries: the new institution counts although the summary does not have it.
    assert items_figure(dataset.finance)["institutions"] == 5
    services.refresh_item_scores(YEAR)
    assert current()
    cache.clear()
    assert items_figure(dataset.finance)["institutions"] == 5


def test_a_reader_finding_it_behind_queues_one_refresh(dataset, settings, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    from dashboards import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False  # as with a real worker
    queued = []
    monkeypatch.setattr(tasks.refresh_item_scores, "delay", lambda year: queued.append(year))
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        items_figure(dataset.finance)
    assert queued == [YEAR]
    # A second reader within the minute does not queue another.
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(dataset.head_a).get("/api/v1/dashboards/institutions/A/items/", {"year": YEAR})
    assert queued == []


def test_warm_task_refreshes_the_summary(dataset):
    from dashboards import tasks

    assert tasks.warm_cache(YEAR) > 0
    assert current()


def test_publishing_moves_the_version(dataset):
    services.refresh_item_scores(YEAR)
    scheme = Scheme.objects.get(year=YEAR)
    scheme.save(update_fields=["status", "updated_at"])  # what publish and reopen do
    assert not current()


@pytest.mark.parametrize("path", [p for p in ENDPOINTS if "items" in p])
def test_bounded_queries_from_the_summary(dataset, django_assert_max_num_queries, path):
    services.refresh_item_scores(YEAR)
    cache.clear()
    user = dataset.finance
    sep = "&" if "?" in path else "?"
    with django_assert_max_num_queries(ENDPOINTS[path]):
        assert client_for(user).get(f"{path}{sep}year={YEAR}").status_code == 200
