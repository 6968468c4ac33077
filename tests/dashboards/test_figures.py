"""The pure rules of dashboards/figures.py, each against a hand computation."""

import datetime as dt
from decimal import Decimal as D

from dashboards import figures


def test_percent_and_mean_round_half_up():
    assert figures.percent(2, 3) == D("66.7")
    assert figures.percent(1, 8) == D("12.5")
    assert figures.percent(1, 0) is None
    assert figures.mean([D("93.00"), D("91.43"), D("74.50"), D("100.00")]) == D("89.73")
    assert figures.mean([]) is None
    assert figures.mean_of_sum(45, 3, places=1) == D("15.0")
    assert figures.mean_of_sum(D("0.005"), 1) == D("0.01")


def test_year_on_year_changes():
    # The figures the district reports: satisfaction "+1.2" points, violations "−30%".
    assert figures.points_change(D("92.3"), D("91.1")) == D("1.2")
    assert figures.signed(figures.points_change(D("92.3"), D("91.1"))) == "+1.2"
    assert figures.relative_change(7, 10) == D("-30.0")
    assert figures.signed(figures.relative_change(7, 10), "%") == "−30.0%"
    assert figures.relative_change(3, 0) is None
    assert figures.points_change(None, D("80")) is None
    assert figures.signed(None) == "—"
    assert figures.signed(D("0.0")) == "0.0"
    assert figures.difference(D("93.00"), D("90.00")) == D("3.00")


def test_same_period_cut_only_for_the_running_year():
    today = dt.date(2026, 11, 27)
    assert figures.same_period_end(2026, today) == (11, 27)
    assert figures.same_period_end(2025, today) is None
    assert figures.in_period(dt.date(2025, 11, 27), (11, 27))
    assert not figures.in_period(dt.date(2025, 11, 28), (11, 27))
    assert figures.in_period(dt.date(2025, 12, 31), None)


def test_colour_shares_and_distribution():
    shares = figures.colour_shares({"green": 2, "yellow": 1, "red": 1})
    assert [(s["colour"], s["count"], s["share"]) for s in shares] == [
        ("green", 2, D("50.0")), ("blue", 0, D("0.0")), ("yellow", 1, D("25.0")), ("red", 1, D("25.0"))]
    bins = figures.score_distribution([D("93.00"), D("91.43"), D("74.50"), D("100.00"), D("59.99"), D("60")])
    assert {b["key"]: b["count"] for b in bins} == {"lt60": 1, "60": 1, "70": 1, "80": 0, "90": 2, "ge100": 1}


def test_city_index_by_hand():
    # Luqiao of the fixed data set: 4 institutions, totals 358.93, 2 green, 1 yellow, 1 red (a red line),
    # 1 substantiated and 1 partially substantiated complaint.
    got = figures.city_index(figures.DistrictYear(institutions=4, total_sum=D("358.93"),
                                                  colours={"green": 2, "yellow": 1, "red": 1}, red_lines=1,
                                                  substantiated=1, partially=1))
    # 0.5 × 89.7325 + 0.2 × 60 + 0.2 × 75 + 0.1 × 62.5 = 78.11625
    assert (got.score, got.colour, got.red_line, got.complaints) == (D("89.73"), D("60.00"), D("75.00"), D("62.50"))
    assert got.index == D("78.12")
    assert got.complaints_per_institution == D("0.38")
    capped = figures.city_index(figures.DistrictYear(institutions=1, total_sum=D("105"), colours={"green": 1},
                                                     red_lines=0, substantiated=3))
    assert capped.score == D("100.00") and capped.complaints == D("0.00")
    assert capped.index == D("90.00")
    assert figures.city_index(figures.DistrictYear(0, D(0), {}, 0)).index is None
    assert figures.league_ranks([D("45"), None, D("78.12"), D("45")]) == [2, None, 1, 2]
