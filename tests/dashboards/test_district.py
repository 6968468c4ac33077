"""Every figure of the district dashboard against the hand computations of conftest.py's data set."""

import pytest

from tests.conftest import client_for

from .conftest import YEAR

pytestmark = pytest.mark.django_db

BASE = "/api/v1/dashboards/district/"


def get(user, figure, **params):
    params = {"district": "331004", "year": YEAR, **params}
    response = client_for(user).get(f"{BASE}{figure}/", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_colours(dataset):
    data = get(dataset.finance, "colours")
    assert data["district"] == {"code": "331004", "name": "路桥区"}
    assert data["institutions"] == 4  # Jiaojiang's E is not counted
    assert [(c["colour"], c["count"], c["share"]) for c in data["colours"]] == [
        ("green", 2, "50.0"), ("blue", 0, "0.0"), ("yellow", 1, "25.0"), ("red", 1, "25.0")]
    assert data["red_lines"] == 1
    assert data["mean_total"] == "89.73"  # (93.00 + 91.43 + 74.50 + 100.00) / 4


def test_colours_filtered_by_category(dataset):
    data = get(dataset.finance, "colours", category="bank")
    assert data["institutions"] == 2 and data["category_label"] == "银行"
    assert {c["colour"]: c["count"] for c in data["colours"]} == {"green": 1, "blue": 0, "yellow": 1, "red": 0}


def test_ranking_shows_the_stored_district_ranks(dataset):
    data = get(dataset.finance, "ranking")
    assert data["count"] == 4
    rows = [(r["rank"], r["code"], r["total"], r["colour"], r["red_line"], r["previous_total"], r["change"])
            for r in data["results"]]
    assert rows == [
        (1, "A", "93.00", "green", False, "90.00", "3.00"),
        (2, "C", "91.43", "green", False, None, None),
        (3, "B", "74.50", "yellow", False, "80.00", "-5.50"),
        (4, "D", "100.00", "red", True, None, None),  # one-vote veto: last, whatever the total
    ]
    assert [r["category_rank"] for r in data["results"]] == [1, 1, 2, 2]
    assert [(r["rank_text"], r["of"], r["category_of"]) for r in data["results"]] == [
        ("1/4", 4, 2), ("2/4", 4, 2), ("3/4", 4, 2), ("4/4", 4, 2)]
    assert data["results"][0]["url"] == f"/dashboards/institutions/A/?year={YEAR}"
    # A category is a filter, not a new ranking: B keeps its district rank 3 (of 4), category rank 2.
    bank = get(dataset.finance, "ranking", category="bank")
    assert [(r["rank"], r["category_rank"], r["code"]) for r in bank["results"]] == [(1, 1, "A"), (3, 2, "B")]


def test_ranking_pages(dataset):
    data = get(dataset.finance, "ranking", page_size=3)
    assert len(data["results"]) == 3 and data["next"] and data["previous"] is None
    second = get(dataset.finance, "ranking", page_size=3, page=2)
    assert [r["code"] for r in second["results"]] == ["D"] and second["next"] is None


def test_distribution(dataset):
    data = get(dataset.finance, "distribution")
    assert {b["key"]: b["count"] for b in data["bins"]} == {"lt60": 0, "60": 0, "70": 1, "80": 0, "90": 2, "ge100": 1}


def test_items_average_against_maximum(dataset):
    items = {i["number"]: i for i in get(dataset.finance, "items")["items"]}
    # The stored item points (scoring.Result.item_cents): item 1 (B1 + B2, max 80): A 70.00, B 60.00,
    # C (0.2·80 + 0.5·78)/0.7 = 78.571… -> 78.57, D 80.00 -> mean 288.57 / 4 = 72.1425 -> 72.14; best 80.
    assert (items[1]["maximum"], items[1]["average"], items[1]["best"], items[1]["share"]) == (
        "80.0", "72.14", "80.00", "90.2")
    # Item 2 (B3, max 20): A 18.00, B 15.00, C (0.2·20 + 0.5·10)/0.7 = 12.857… -> 12.86, D 20.00
    # -> mean 65.86 / 4 = 16.465 -> 16.47; share 82.35 % -> 82.4.
    assert (items[2]["maximum"], items[2]["average"], items[2]["best"], items[2]["share"]) == (
        "20.0", "16.47", "20.00", "82.4")


def test_trend_year_on_year_totals(dataset):
    years = get(dataset.finance, "trend")["years"]
    assert [(y["year"], y["institutions"], y["mean_total"], y["change"]) for y in years] == [
        (2023, 2, "85.00", None), (2024, 4, "89.73", "4.73")]


def test_complaints_by_month_and_kind_substantiation_and_handling_days(dataset):
    data = get(dataset.finance, "complaints")
    assert data["total"] == 6  # the merged duplicate, Jiaojiang's case and 2023-12-31 23:30 are out
    assert {k["kind"]: k["count"] for k in data["kinds"]} == {"rating": 2, "suggestion": 1, "complaint": 2,
                                                              "report": 1}
    assert data["series"]["complaint"][2] == 1 and data["series"]["report"][2] == 1  # March
    assert data["series"]["complaint"][4] == 1 and data["series"]["suggestion"][4] == 1  # May
    assert data["series"]["rating"][5] == 2  # June
    assert sum(sum(v) for v in data["series"].values()) == 6
    assert data["concluded"] == 3
    assert {o["outcome"]: o["count"] for o in data["outcomes"]} == {
        "substantiated": 1, "partially_substantiated": 1, "unsubstantiated": 1}
    assert data["substantiation_rate"] == "66.7"  # (1 + 1) / 3
    assert data["average_handling_days"] == "15.0"  # (10 + 30 + 5) / 3 calendar days


def test_satisfaction_by_month_and_year_on_year_points(dataset):
    data = get(dataset.finance, "satisfaction")
    months = {m["month"]: m for m in data["months"]}
    assert (months[3]["rated"], months[3]["rate"], months[3]["previous_rate"], months[3]["change"]) == (
        4, "75.0", "80.0", "-5.0")
    assert (months[6]["rated"], months[6]["satisfied"], months[6]["rate"]) == (2, 1, "50.0")  # public ratings
    assert months[7]["rate"] == "100.0" and months[1]["rate"] is None
    # 2024: 9 satisfied of 11 = 81.8 %; 2023: 8 of 10 = 80.0 % -> +1.8 points.
    assert (data["rated"], data["rate"], data["previous_rated"], data["previous_rate"]) == (11, "81.8", 10, "80.0")
    assert data["change"] == "1.8" and data["change_text"] == "+1.8"
    assert data["same_period_to"] is None  # a past year is compared whole


def test_staff_violations_year_on_year(dataset):
    data = get(dataset.finance, "violations")
    assert (data["count"], data["previous"], data["change"], data["change_text"]) == (7, 10, "-30.0", "−30.0%")
    months = {m["month"]: m for m in data["months"]}
    assert (months[1]["count"], months[1]["previous"]) == (0, 10)
    assert (months[2]["count"], months[4]["count"]) == (3, 4)
    assert {m["module"]: m["count"] for m in data["modules"]}["compliance"] == 7
    bank = get(dataset.finance, "violations", category="bank")
    assert (bank["count"], bank["previous"], bank["change"]) == (5, 10, "-50.0")


def test_acknowledgement_rates(dataset):
    data = get(dataset.finance, "acknowledgements")
    assert (data["delivered"], data["read"], data["acknowledged"], data["acknowledged_on_time"]) == (4, 3, 2, 1)
    assert (data["read_rate"], data["acknowledged_rate"], data["on_time_rate"]) == ("75.0", "50.0", "25.0")
    [warning] = data["warnings"]
    assert warning["title"] == "【测试】黄某违规收受礼金"  # names masked on a dashboard
    assert (warning["delivered"], warning["acknowledged"], warning["acknowledged_rate"]) == (4, 2, "50.0")
    assert {c["category"]: c["acknowledged_rate"] for c in data["categories"]} == {"bank": "66.7",
                                                                                   "insurance": "0.0"}


def test_bad_parameters_are_400_per_field(dataset):
    response = client_for(dataset.finance).get(f"{BASE}colours/", {"district": "331004", "category": "x",
                                                                    "year": "20x4"})
    assert response.status_code == 400
    assert set(response.json()) >= {"year", "category"}
    assert client_for(dataset.finance).get(f"{BASE}colours/", {"year": "abc"}).status_code == 400
    # An unknown district is like another district's: not found.
    assert client_for(dataset.finance).get(f"{BASE}colours/", {"district": "999999"}).status_code == 404


def test_defaults_to_the_users_only_district_and_latest_year(dataset):
    data = client_for(dataset.finance).get(f"{BASE}colours/").json()
    assert data["district"]["code"] == "331004" and data["year"] == YEAR
    data = client_for(dataset.finance_jj).get(f"{BASE}colours/").json()
    assert data["district"]["code"] == "331002" and data["institutions"] == 1


def test_a_user_of_several_districts_chooses_one(dataset):
    api = client_for(dataset.finance_both)
    assert api.get(f"{BASE}colours/", {"district": "331002", "year": YEAR}).json()["institutions"] == 1
    assert api.get(f"{BASE}colours/", {"district": "331004", "year": YEAR}).json()["institutions"] == 4
    # None chosen: the API says which to choose from; the page shows the first with a chooser.
    response = api.get(f"{BASE}colours/", {"year": YEAR})
    assert response.status_code == 400 and "331002" in str(response.json()) and "331004" in str(response.json())


def test_acknowledgement_titles_mask_the_registry_names(dataset):
    """The dashboard (and the annual report, which reads the same figures) masks a name of the
    registry that neither the warning's list nor the tagger finds (issue #11, item 3)."""
    from institutions.models import Institution
    from tests.factories import EmployeeFactory
    from warnings_feed.models import Warning

    EmployeeFactory(institution=Institution.objects.filter(district__code="331004").first(), name="任重远")
    Warning.objects.update(title="贷款由任重远经办的通报", names=[])
    [warning] = get(dataset.finance, "acknowledgements")["warnings"]
    assert warning["title"] == "贷款由任某经办的通报"
