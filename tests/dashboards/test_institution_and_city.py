"""The institution dashboard and the city roll-up against hand computations, and the stages in which
results are seen (DOMAIN.md): a head sees their own result from the notice period on (the district's
figures once published), city users only published districts' results."""

import datetime as dt

import pytest
from django.test import Client

from scoring import services as scoring_services
from tests.conftest import client_for

from .conftest import PREVIOUS, YEAR

pytestmark = pytest.mark.django_db


def get(user, path, **params):
    response = client_for(user).get(path, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_history_total_colour_and_district_rank(dataset):
    data = get(dataset.head_a, "/api/v1/dashboards/institutions/A/history/")
    assert data["institution"]["code"] == "A"
    assert [(y["year"], y["total"], y["colour"], y["rank"], y["of"], y["change"]) for y in data["years"]] == [
        (PREVIOUS, "90.00", "green", 1, 2, None), (YEAR, "93.00", "green", 1, 4, "3.00")]
    assert [(y["rank_text"], y["category_rank"], y["category_of"]) for y in data["years"]] == [
        ("1/2", 1, 2), ("1/4", 1, 2)]
    b = get(dataset.head_b, "/api/v1/dashboards/institutions/B/history/")
    assert [y["rank_text"] for y in b["years"]] == ["2/2", "3/4"]


def test_items_against_district_average_and_best(dataset):
    data = get(dataset.head_a, "/api/v1/dashboards/institutions/A/items/", year=YEAR)
    items = {i["number"]: (i["own"], i["average"], i["best"], i["maximum"]) for i in data["items"]}
    assert items == {1: ("70.00", "72.14", "80.00", "80.0"), 2: ("18.00", "16.47", "20.00", "20.0")}


def test_complaints_and_satisfaction_of_one_institution(dataset):
    data = get(dataset.head_b, "/api/v1/dashboards/institutions/B/complaints/", year=YEAR)
    complaints = data["complaints"]
    assert complaints["total"] == 2 and complaints["concluded"] == 2
    assert complaints["substantiation_rate"] == "50.0"  # one partially substantiated of two concluded
    assert complaints["average_handling_days"] == "17.5"  # (30 + 5) / 2
    satisfaction = data["satisfaction"]
    assert (satisfaction["rate"], satisfaction["previous_rate"], satisfaction["change"]) == (None, "80.0", None)
    a = get(dataset.head_a, "/api/v1/dashboards/institutions/A/complaints/", year=YEAR)["satisfaction"]
    assert (a["rated"], a["rate"], a["previous_rate"]) == (4, "75.0", None)


def test_employees_colours_and_acknowledgement(dataset):
    data = get(dataset.head_a, "/api/v1/dashboards/institutions/A/employees/", year=YEAR)
    # A1: 100 − 3 × 5 = 85 (blue); A2: 100 + 5 (commendation) = 105 (green).
    assert data["employees"] == 2
    assert {c["colour"]: c["count"] for c in data["colours"]} == {"green": 1, "blue": 1, "yellow": 0, "red": 0}
    ack = data["acknowledgements"]
    assert (ack["delivered"], ack["acknowledged"], ack["acknowledged_rate"], ack["on_time_rate"]) == (
        2, 1, "50.0", "50.0")
    assert "A1" not in str(data) and "甲一" not in str(data)  # aggregates only


def publish_jiaojiang(dataset) -> None:
    year = scoring_services.district_year(dataset.jiaojiang, YEAR)
    year = scoring_services.open_notice(year, dataset.finance_jj, dt.date(YEAR + 1, 1, 5))
    scoring_services.publish_year(year, dataset.finance_jj)


def test_city_league_and_index(dataset):
    data = get(dataset.city_user, "/api/v1/dashboards/city/league/", year=YEAR)
    assert data["city"] == {"code": "3310", "name": "台州市"}
    rows = {r["district"]["code"]: r for r in data["districts"]}
    luqiao, jiaojiang = rows["331004"], rows["331002"]
    assert (luqiao["rank"], luqiao["index"], luqiao["institutions"], luqiao["mean_total"]) == (1, "78.12", 4, "89.73")
    assert luqiao["components"] == {"score": "89.73", "colour": "60.00", "red_line": "75.00", "complaints": "62.50"}
    assert (luqiao["complaints"], luqiao["complaints_per_institution"], luqiao["substantiated"],
            luqiao["partially_substantiated"], luqiao["red_lines"]) == (6, "1.50", 1, 1, 1)
    assert luqiao["satisfaction_rate"] == "81.8" and luqiao["published"] is True
    # Jiaojiang's 2024 is not published: none of its results' figures, only aggregate statistics.
    assert (jiaojiang["published"], jiaojiang["rank"], jiaojiang["index"], jiaojiang["institutions"],
            jiaojiang["mean_total"], jiaojiang["colours"], jiaojiang["components"]) == (
        False, None, None, 0, None, None, None)
    assert (jiaojiang["complaints"], jiaojiang["satisfaction_rate"]) == (1, "0.0")
    assert [r["district"]["code"] for r in data["districts"]][:2] == ["331004", "331002"]


def test_city_user_sees_only_published_districts_figures(dataset):
    before = get(dataset.city_user, "/api/v1/dashboards/city/league/", year=YEAR)
    assert [r["district"]["code"] for r in before["districts"] if r["index"] is not None] == ["331004"]
    assert "30.00" not in str(before)  # Jiaojiang's only total
    publish_jiaojiang(dataset)  # moves the results version: no stale figure
    after = {r["district"]["code"]: r for r in get(dataset.city_user, "/api/v1/dashboards/city/league/",
                                                   year=YEAR)["districts"]}
    # Jiaojiang: one institution, 30.00 (red by its total, no red line), no substantiated complaint.
    assert (after["331002"]["rank"], after["331002"]["index"], after["331002"]["mean_total"]) == (2, "45.00", "30.00")
    # Reopening takes it away again.
    scoring_services.reopen_year(scoring_services.district_year(dataset.jiaojiang, YEAR), dataset.finance_jj,
                                 "申诉更正")
    again = get(dataset.city_user, "/api/v1/dashboards/city/league/", year=YEAR)
    assert {r["district"]["code"]: r["index"] for r in again["districts"]}["331002"] is None


def test_city_trend(dataset):
    data = get(dataset.city_user, "/api/v1/dashboards/city/trend/", year=YEAR)
    assert data["years"] == [PREVIOUS, YEAR]
    series = {s["district"]["code"]: s for s in data["series"]}
    assert series["331004"]["mean_total"] == ["85.00", "89.73"]
    assert series["331004"]["index"][1] == "78.12"
    assert series["331002"]["index"] == [None, None]
    publish_jiaojiang(dataset)
    data = get(dataset.city_user, "/api/v1/dashboards/city/trend/", year=YEAR)
    assert {s["district"]["code"]: s for s in data["series"]}["331002"]["index"] == [None, "45.00"]


def test_city_user_of_another_city_or_none_gets_404_or_403(dataset):
    assert client_for(dataset.city_user).get("/api/v1/dashboards/city/league/", {"city": "3301"}).status_code == 404
    assert client_for(dataset.finance).get("/api/v1/dashboards/city/league/").status_code == 403


def test_head_sees_own_result_from_the_notice_period_on(dataset):
    luqiao = scoring_services.district_year(dataset.luqiao, YEAR)
    scoring_services.reopen_year(luqiao, dataset.finance, "申诉更正")
    history = get(dataset.head_a, "/api/v1/dashboards/institutions/A/history/")
    assert [y["year"] for y in history["years"]] == [PREVIOUS]  # 2024 is open: the finance center's only
    items = get(dataset.head_a, "/api/v1/dashboards/institutions/A/items/", year=YEAR)["items"]
    assert all(i["own"] is None and i["average"] is None and i["best"] is None for i in items)
    client = Client()
    client.force_login(dataset.head_a)
    assert "93.00" not in client.get(f"/dashboards/institutions/A/?year={YEAR}").content.decode()
    # The finance center sees it at every stage.
    assert [y["year"] for y in get(dataset.finance, "/api/v1/dashboards/institutions/A/history/")["years"]] == [
        PREVIOUS, YEAR]

    scoring_services.open_notice(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance,
                                 dt.date(YEAR + 1, 1, 5))
    history = get(dataset.head_a, "/api/v1/dashboards/institutions/A/history/")
    assert [(y["year"], y["total"], y["rank_text"]) for y in history["years"]][-1] == (YEAR, "93.00", "1/4")
    items = {i["number"]: (i["own"], i["average"], i["best"]) for i in get(
        dataset.head_a, "/api/v1/dashboards/institutions/A/items/", year=YEAR)["items"]}
    assert items == {1: ("70.00", None, None), 2: ("18.00", None, None)}  # the district's: once published
