"""One source of truth for ranks (SCORING.md rank rule 8): every dashboard figure and the annual report
show exactly the stored `Result.rank` / `category_rank` ("区内排名 x/y"), never one of their own."""

import io

import pytest
from django.core.cache import cache
from django.test import Client
from openpyxl import load_workbook

from dashboards import report as builder
from scoring.models import Result
from tests.conftest import client_for

from .conftest import YEAR

pytestmark = pytest.mark.django_db


@pytest.fixture
def odd_ranks(dataset):
    """Stored ranks no recomputation would give (A 3rd, C 1st, B 2nd of 4; categories swapped too)."""
    for code, rank, category_rank in (("A", 3, 2), ("C", 1, 2), ("B", 2, 1), ("D", 4, 1)):
        Result.objects.filter(institution__code=code, year=YEAR).update(rank=rank, category_rank=category_rank)
    cache.clear()  # written past the aggregation: the results version does not see it
    return dataset


def test_ranking_api_and_rows_show_the_stored_ranks(odd_ranks):
    api = client_for(odd_ranks.finance)
    ranking = api.get("/api/v1/dashboards/district/ranking/", {"district": "331004", "year": YEAR}).json()
    assert [(r["code"], r["rank"], r["rank_text"], r["category_rank"]) for r in ranking["results"]] == [
        ("C", 1, "1/4", 2), ("B", 2, "2/4", 1), ("A", 3, "3/4", 2), ("D", 4, "4/4", 1)]
    rows = api.get("/api/v1/dashboards/district/rows/colours/", {"district": "331004", "year": YEAR,
                                                                  "key": "green"}).json()
    assert [(r["code"], r["rank_text"]) for r in rows["results"]] == [("C", "1/4"), ("A", "3/4")]
    client = Client()
    client.force_login(odd_ranks.finance)
    page = client.get(f"/dashboards/district/?district=331004&year={YEAR}").content.decode()
    assert page.index("丙演示保险") < page.index("乙演示银行") < page.index("甲演示银行")
    assert ">3/4<" in page


def test_institution_history_shows_the_stored_rank(odd_ranks):
    history = client_for(odd_ranks.head_a).get("/api/v1/dashboards/institutions/A/history/").json()
    assert [(y["year"], y["rank"], y["rank_text"], y["category_rank"]) for y in history["years"]][-1] == (
        YEAR, 3, "3/4", 2)
    client = Client()
    client.force_login(odd_ranks.head_a)
    assert "3/4" in client.get(f"/dashboards/institutions/A/?year={YEAR}").content.decode()


def test_annual_report_shows_the_stored_ranks(odd_ranks):
    content = builder.gather(odd_ranks.luqiao, YEAR)
    assert [(r["code"], r["rank"]) for r in content.ranking] == [("C", 1), ("B", 2), ("A", 3), ("D", 4)]
    book = load_workbook(io.BytesIO(builder.render_xlsx(content)))
    ranking = [row[:4] for row in book["积分排名"].iter_rows(min_row=2, values_only=True)]
    assert ranking == [(1, 4, 2, "C"), (2, 4, 1, "B"), (3, 4, 2, "A"), (4, 4, 1, "D")]
    html = builder.render_to_string("dashboards/report/annual.html", {"c": content, "signed": str})
    assert '<td class="n">3/4</td><td>甲演示银行</td>' in html
