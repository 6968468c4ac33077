"""The dashboards' city page ranks with the city's own index weights (CityIndexWeights, edited on
/scoring/city/) and prints the formula with them (issue #17)."""

import re

import pytest
from django.test import Client

from tests.conftest import client_for

from .conftest import YEAR
from .test_institution_and_city import publish_jiaojiang

pytestmark = pytest.mark.django_db


def league(user) -> list[tuple[str, str | None, int | None]]:
    response = client_for(user).get("/api/v1/dashboards/city/league/", {"year": YEAR})
    assert response.status_code == 200, response.content
    return [(r["district"]["code"], r["index"], r["rank"]) for r in response.json()["districts"]]


def page(user) -> str:
    browser = Client()
    browser.force_login(user)
    response = browser.get("/dashboards/city/", {"year": YEAR})
    assert response.status_code == 200
    return response.content.decode()


def test_changing_the_weights_changes_the_ranks_indices_and_formula(dataset):
    publish_jiaojiang(dataset)
    # Default weights 0.5 / 0.2 / 0.2 / 0.1: Luqiao 78.12, Jiaojiang 45.00 (30 points, red, no red line).
    assert league(dataset.city_user)[:2] == [("331004", "78.12", 1), ("331002", "45.00", 2)]
    html = page(dataset.city_user)
    formula = re.search(r'id="city-formula">(.*?)<', html, re.S).group(1)
    assert "0.5×平均总分" in formula and "0.2×四色得分" in formula and "0.1×投诉得分" in formula

    # The city weighs only red lines and complaints: Jiaojiang (no red line, no complaint) leads.
    browser = Client()
    browser.force_login(dataset.city_user)
    response = browser.post("/scoring/city/weights/", {
        "city": "3310", "score": "0", "colour": "0", "red_line": "0.5", "complaints": "0.5"})
    assert response.status_code == 302
    # Luqiao: 0.5 × 75.00 + 0.5 × 62.50 = 68.75; Jiaojiang: 0.5 × 100 + 0.5 × 100 = 100.
    assert league(dataset.city_user)[:2] == [("331002", "100.00", 1), ("331004", "68.75", 2)]
    html = page(dataset.city_user)
    formula = re.search(r'id="city-formula">(.*?)<', html, re.S).group(1)
    assert "0×平均总分" in formula and "0.5×无红线比例" in formula and "0.5×投诉得分" in formula
    assert html.index("椒江") < html.index("路桥", html.index("排行榜"))
    assert "100.00" in html and "68.75" in html

    # A refused edit (sum ≠ 1) changes nothing.
    browser.post("/scoring/city/weights/", {
        "city": "3310", "score": "0.9", "colour": "0.9", "red_line": "0", "complaints": "0"})
    assert league(dataset.city_user)[:2] == [("331002", "100.00", 1), ("331004", "68.75", 2)]
