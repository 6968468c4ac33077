"""Linkage (结果运用) per use and colour, red lines, and the scores API's `linkage` / `linkage_points`."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from scoring import rules, services
from scoring.models import AggregationRun, Result, Scheme
from tests.conftest import client_for
from tests.scoring.factories import luqiao

from .conftest import YEAR, scored_year

D = Decimal
ALL = ("self", "inspection", "third_party")


def values(total_basic: str, red_line: bool = False, params: rules.SchemeParams | None = None):
    basic = D(total_basic)
    return rules.compute_from_sums(params or rules.SchemeParams(), ALL, {s: basic for s in ALL}, D(0), red_line)


@pytest.mark.parametrize(("basic", "colour", "fiscal", "party", "appraisal", "points"), [
    ("95", "green", "priority", "recommended", "bonus", ("0.00", "2.00", "2.00")),
    ("85", "blue", "eligible", "eligible", "standard", ("0.00", "0.00", "0.00")),
    ("75", "yellow", "restricted", "capped", "deduct", ("0.00", "-2.00", "-2.00")),
    ("60", "red", "excluded", "excluded", "heavy_deduct", ("0.00", "-5.00", "-5.00")),
])
def test_default_table_per_colour(basic, colour, fiscal, party, appraisal, points):
    result = values(basic)
    assert result.colour == colour
    assert result.linkage == fiscal
    assert {use: o.code for use, o in result.uses.items()} == {
        "fiscal_tender": fiscal, "party_building": party, "performance_appraisal": appraisal}
    assert tuple(format(result.uses[u].points, "f") for u in rules.LINKAGE_USES) == points


def test_red_line_takes_the_use_s_red_line_entry_and_red_otherwise():
    hit = values("99", red_line=True)
    assert hit.colour == "red"
    assert hit.uses["fiscal_tender"].code == "excluded"  # no red_line entry: the red colour's
    assert (hit.uses["party_building"].code, hit.uses["party_building"].points) == ("veto", D("-5.00"))
    assert (hit.uses["performance_appraisal"].label, hit.uses["performance_appraisal"].points) == (
        "一票否决（不得评优）", D("-10.00"))
    low = values("50")
    assert low.colour == "red" and low.uses["performance_appraisal"].code == "heavy_deduct"


def test_scheme_table_with_points_and_red_line_override_for_tenders():
    table = rules.default_linkage_uses()
    table["fiscal_tender"]["green"]["points"] = "3.5"
    table["fiscal_tender"]["yellow"]["points"] = "-1.25"
    table["fiscal_tender"]["red_line"] = {"code": "banned", "label": "三年禁入", "points": "-20"}
    params = rules.SchemeParams(linkage_uses=table)
    assert rules.validate_scheme_params(params) == []
    assert values("95", params=params).uses["fiscal_tender"].points == D("3.50")
    assert values("75", params=params).uses["fiscal_tender"].points == D("-1.25")
    hit = values("95", red_line=True, params=params)
    assert (hit.linkage, hit.uses["fiscal_tender"].label) == ("banned", "三年禁入")


def test_older_fiscal_codes_field_wins_for_tender_codes():
    params = rules.SchemeParams(linkage={"green": "A", "blue": "B", "yellow": "C", "red": "D"})
    assert values("95", params=params).linkage == "A"
    assert values("95", params=params).uses["party_building"].code == "recommended"


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda t: t.pop("party_building"), "缺少「党建星级评定」"),
    (lambda t: t["performance_appraisal"]["green"].update(points="1.234"), "最多两位小数"),
    (lambda t: t["performance_appraisal"]["green"].update(points="101"), "-100 到 100"),
    (lambda t: t["fiscal_tender"]["blue"].update(code=""), "代码不能为空"),
    (lambda t: t["fiscal_tender"]["blue"].update(label="x" * 31), "名称不能为空"),
    (lambda t: t["fiscal_tender"].update(purple={"code": "p", "label": "p"}), "未知颜色"),
    (lambda t: t.update(bonus_use={}), "未知用途"),
    (lambda t: t["party_building"].pop("yellow"), "黄色缺少对应的处理"),
])
def test_broken_tables_are_refused_with_a_reason(mutate, message):
    table = copy.deepcopy(rules.default_linkage_uses())
    mutate(table)
    problems = rules.validate_scheme_params(rules.SchemeParams(linkage_uses=table))
    assert any(message in p for p in problems), problems


def test_activation_refuses_a_broken_table(finance):
    scheme = scored_year(status=Scheme.Status.DRAFT)
    scheme.linkage_uses = {"fiscal_tender": {}}
    scheme.save()
    problems = services.activation_problems(scheme)
    assert any("党建星级评定" in p for p in problems)


def test_scores_api_carries_three_codes_and_points(scored, finance):
    body = client_for(finance).get(f"/api/v1/scores/?year={YEAR}").json()
    rows = {r["institution"]["code"]: r for r in body["results"]}
    assert rows["G001"]["colour"] == "green"
    assert rows["G001"]["linkage"] == {"fiscal_tender": "priority", "party_building": "recommended",
                                       "performance_appraisal": "bonus"}
    assert rows["G001"]["linkage_points"] == {"fiscal_tender": "0.00", "party_building": "2.00",
                                              "performance_appraisal": "2.00"}
    assert rows["G001"]["linkage_labels"]["party_building"] == "优先推荐评星"
    assert rows["U001"]["colour"] == "blue" and rows["U001"]["linkage"]["performance_appraisal"] == "standard"
    red = rows["R001"]
    assert (red["colour"], red["red_line"]) == ("red", True)
    assert red["linkage"] == {"fiscal_tender": "excluded", "party_building": "veto", "performance_appraisal": "veto"}
    assert red["linkage_points"]["performance_appraisal"] == "-10.00"
    detail = client_for(finance).get(f"/api/v1/scores/{YEAR}/R001/").json()
    assert detail["linkage"] == red["linkage"] and detail["linkage_points"] == red["linkage_points"]


def test_scheme_api_shows_the_table(scored, finance):
    body = client_for(finance).get(f"/api/v1/schemes/{YEAR}/").json()
    assert body["linkage"]["green"] == "priority"  # v1 field unchanged
    assert body["linkage_uses"]["performance_appraisal"]["red_line"]["points"] == "-10"


def test_a_changed_table_is_written_by_the_next_aggregation_and_only_then(scored):
    scheme = Scheme.objects.get(year=YEAR)
    table = rules.default_linkage_uses()
    table["party_building"]["green"] = {"code": "five_star", "label": "可评五星", "points": "4"}
    scheme.linkage_uses = table
    scheme.save()
    assert Result.objects.get(institution__code="G001").party_building == "recommended"
    services.execute_run(AggregationRun.objects.create(year=YEAR, district=luqiao()).pk)
    row = Result.objects.get(institution__code="G001")
    assert (row.party_building, row.party_building_points, row.linkage_labels["party_building"]) == (
        "five_star", D("4.00"), "可评五星")
    run = AggregationRun.objects.filter(year=YEAR).latest("pk")
    assert run.results_changed == 1  # only the green row changed
