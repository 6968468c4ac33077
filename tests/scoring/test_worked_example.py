"""SCORING.md's worked example through the whole stack: the operators' commands, then the REST API.

import_institutions → import_scheme --activate → import_scores --submit → aggregate_scores →
GET /api/v1/scores/?year=2030. These tests commit for real (transaction=True) because
aggregate_scores enqueues the aggregation on commit, exactly as it does in production.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from scoring.models import AggregationRun, Result, ScoreSheet
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory

from .conftest import (
    WORKED_YEAR,
    data_file,
    import_worked_scheme_and_institution,
    worked_score_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db(transaction=True)

SCORES_URL = f"/api/v1/scores/?year={WORKED_YEAR}"


def aggregate(capsys) -> str:
    call_command("aggregate_scores", "--year", str(WORKED_YEAR), "--timeout", "30")
    return capsys.readouterr().out


def finance_client():
    return client_for(UserFactory(username="fc", roles=["finance_center"]))


def only_row(body: dict) -> dict:
    assert body["count"] == 1, body
    return body["results"][0]


def test_worked_example_without_complaints_gives_98(capsys):
    import_worked_scheme_and_institution()
    call_command("import_scores", data_file("worked_example_scores.csv"), "--submit")
    assert ScoreSheet.objects.filter(status="submitted").count() == 3
    out = aggregate(capsys)
    assert "2030" in out and "1 家机构" in out

    row = only_row(finance_client().get(SCORES_URL).json())
    assert row["institution"] == {"code": "W001", "name": "示例银行", "category": "bank"}
    assert row["year"] == WORKED_YEAR
    assert (row["basic"], row["bonus"], row["deduction"], row["total"]) == ("88.00", "10.00", "0.00", "98.00")
    assert row["red_line"] is False and row["colour"] == "green" and row["status"] == "final"
    assert row["rank"] == 1 and row["category_rank"] == 1
    assert row["sources"] == ["self", "inspection", "third_party"]
    assert row["linkage"] == {"fiscal_tender": "priority", "party_building": "recommended",
                              "performance_appraisal": "bonus"}
    assert row["linkage_points"] == {"fiscal_tender": "0.00", "party_building": "2.00",
                                     "performance_appraisal": "2.00"}
    run = AggregationRun.objects.get()
    assert run.status == "succeeded" and run.results_changed == 1


def test_worked_example_with_two_substantiated_complaints_gives_96(capsys, complaints):
    import_worked_scheme_and_institution()
    call_command("import_scores", data_file("worked_example_scores.csv"), "--submit")
    from institutions.models import Institution

    complaints.add(Institution.objects.get(code="W001"), WORKED_YEAR, substantiated=2)
    aggregate(capsys)

    client = finance_client()
    row = only_row(client.get(SCORES_URL).json())
    assert (row["basic"], row["bonus"], row["deduction"], row["total"]) == ("88.00", "10.00", "2.00", "96.00")
    assert row["colour"] == "green" and row["status"] == "final" and row["red_line"] is False
    assert row["complaints_substantiated"] == 2

    # The per-indicator detail shows the weighted means of SCORING.md: 37.4, 32.8, 17.8.
    detail = client.get(f"/api/v1/scores/{WORKED_YEAR}/W001/")
    assert detail.status_code == 200
    combined = {i["code"]: i.get("combined") for i in detail.json()["indicators"]}
    assert combined == {"B1": "37.40", "B2": "32.80", "B3": "17.80", "X1": None, "X2": None, "R1": None}
    assert detail.json()["total"] == "96.00"


def test_third_party_sheet_not_submitted_gives_provisional_with_the_same_total(tmp_path, capsys, complaints):
    import_worked_scheme_and_institution()
    header, without_tp = worked_score_rows(skip_source="third_party")
    call_command("import_scores", write_csv(tmp_path, "two.csv", header, without_tp), "--submit")
    # The third party's entries are on file, but as a draft: they must not count.
    _, all_rows = worked_score_rows()
    tp_rows = [r for r in all_rows if ",third_party," in r]
    call_command("import_scores", write_csv(tmp_path, "tp.csv", header, tp_rows))
    assert ScoreSheet.objects.get(source="third_party").status == "draft"
    from institutions.models import Institution

    complaints.add(Institution.objects.get(code="W001"), WORKED_YEAR, substantiated=2)
    aggregate(capsys)

    row = only_row(finance_client().get(SCORES_URL).json())
    assert row["status"] == "provisional"
    assert row["sources"] == ["self", "inspection"]
    assert (row["basic"], row["bonus"], row["deduction"], row["total"]) == ("88.00", "10.00", "2.00", "96.00")
    assert row["colour"] == "green"


def test_red_line_hit_on_third_party_is_red_and_ranked_below_every_clean_institution(tmp_path, capsys):
    import_worked_scheme_and_institution()
    InstitutionFactory(code="M001", name="中等银行", category="bank")
    InstitutionFactory(code="L001", name="低分保险", category="insurance")
    header, rows = worked_score_rows(override={("third_party", "R1"): "1"})
    for code, b1, b2, b3 in (("M001", 30, 30, 15), ("L001", 10, 10, 5)):
        for source in ("self", "inspection", "third_party"):
            rows += [f"{WORKED_YEAR},{code},{source},B1,{b1},", f"{WORKED_YEAR},{code},{source},B2,{b2},",
                     f"{WORKED_YEAR},{code},{source},B3,{b3},", f"{WORKED_YEAR},{code},{source},R1,0,"]
    call_command("import_scores", write_csv(tmp_path, "scores.csv", header, rows), "--submit")
    aggregate(capsys)

    body = finance_client().get(SCORES_URL).json()
    by_code = {r["institution"]["code"]: r for r in body["results"]}
    w = by_code["W001"]
    assert w["total"] == "98.00" and w["red_line"] is True and w["colour"] == "red"
    assert w["linkage"] == {"fiscal_tender": "excluded", "party_building": "veto", "performance_appraisal": "veto"}
    # 75 (yellow) and 25 (red by its band, but no red line) both rank above the 98 with a red line.
    assert (by_code["M001"]["total"], by_code["M001"]["colour"], by_code["M001"]["red_line"]) == ("75.00", "yellow",
                                                                                                   False)
    assert (by_code["L001"]["total"], by_code["L001"]["colour"], by_code["L001"]["red_line"]) == ("25.00", "red",
                                                                                                   False)
    assert [r["institution"]["code"] for r in body["results"]] == ["M001", "L001", "W001"]
    assert [r["rank"] for r in body["results"]] == [1, 2, 3]
    assert w["category_rank"] == 2 and by_code["M001"]["category_rank"] == 1
    assert by_code["L001"]["category_rank"] == 1
    assert Result.objects.get(institution__code="W001").red_line is True
