"""The rows behind each chart (every chart links to them), and the drill-down pages."""

import pytest
from django.test import Client

from dashboards import warm
from tests.conftest import client_for

from .conftest import YEAR

pytestmark = pytest.mark.django_db


def rows(user, figure, key="", **params):
    response = client_for(user).get(f"/api/v1/dashboards/district/rows/{figure}/",
                                    {"district": "331004", "year": YEAR, "key": key, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_rows_behind_each_chart(dataset):
    f = dataset.finance
    assert [r["code"] for r in rows(f, "colours", "green")["results"]] == ["A", "C"]
    assert [r["code"] for r in rows(f, "distribution", "90")["results"]] == ["A", "C"]
    assert [r["code"] for r in rows(f, "trend", "2023")["results"]] == ["A", "B"]
    items = rows(f, "items", "1")  # the stored item points (scoring.Result.item_cents)
    assert [(r["code"], r["score"]) for r in items["results"]] == [("D", "80.00"), ("C", "78.57"), ("A", "70.00"),
                                                                     ("B", "60.00")]
    assert [(r["code"], r["score"]) for r in rows(f, "items", "1", page_size=2, page=2)["results"]] == [
        ("A", "70.00"), ("B", "60.00")]
    ranking = rows(f, "ranking")
    assert [(r["rank_text"], r["code"]) for r in ranking["results"]] == [("1/4", "A"), ("2/4", "C"), ("3/4", "B"),
                                                                         ("4/4", "D")]
    assert ranking["columns"][0] == {"key": "rank_text", "label": "区内排名"}
    march = rows(f, "complaints", "complaint:3")
    assert march["count"] == 1 and march["results"][0]["code"] == "A"
    assert march["results"][0]["url"].startswith("/complaints/")
    assert rows(f, "complaints", "3")["count"] == 2  # every kind received in March
    assert rows(f, "outcomes", "concluded")["count"] == 3
    assert [r["code"] for r in rows(f, "outcomes", "substantiated")["results"]] == ["A"]
    sat = rows(f, "satisfaction", "3")
    assert [(r["code"], r["rated"], r["rate"]) for r in sat["results"]] == [("A", 4, "75.0")]
    violations = rows(f, "violations", "4")
    assert violations["count"] == 4 and {r["code"] for r in violations["results"]} == {"B", "D"}
    ack = rows(f, "acknowledgements")
    assert [(r["code"], r["acknowledged_rate"]) for r in ack["results"]] == [("D", "0.0"), ("A", "50.0"),
                                                                             ("B", "100.0")]
    assert client_for(f).get("/api/v1/dashboards/district/rows/nonsense/").status_code == 404


def test_rows_page_links_every_row_to_its_drill_down(dataset):
    client = Client()
    client.force_login(dataset.finance)
    page = client.get(f"/dashboards/district/rows/colours/?district=331004&year={YEAR}&key=green").content.decode()
    assert f'href="/dashboards/institutions/A/?year={YEAR}"' in page and "丙演示保险" in page
    assert "乙演示银行" not in page
    district = client.get(f"/dashboards/district/?district=331004&year={YEAR}").content.decode()
    for figure in ("colours", "distribution", "items", "trend", "complaints", "satisfaction", "violations",
                   "acknowledgements"):
        assert f'data-chart="{figure}"' in district
        assert f"/dashboards/district/rows/{figure}/?district=331004&amp;year={YEAR}" in district
    assert "<script>" not in district and "echarts.min.js" in district  # no inline script under the CSP


def test_warming_fills_the_cache(dataset, django_assert_max_num_queries):
    assert warm.warm_district(YEAR, dataset.luqiao.pk) == 4  # colours, distribution, items, trend
    api = client_for(dataset.finance)
    with django_assert_max_num_queries(9):  # the user's grants and district, the results version: no figure
        api.get("/api/v1/dashboards/district/items/", {"district": "331004", "year": YEAR})
    assert warm.warm_district(YEAR, 0) == 0
