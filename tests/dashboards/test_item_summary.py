"""The per-item summary (scoring.models.ItemResult): written by scoring's aggregation in the results'
transaction, per district, by the basic score's rule in Decimal (SCORING.md's worked example), and
what every dashboard and the report read."""

from collections import defaultdict
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.db import connection

from institutions.models import District
from scoring import item_summary
from scoring import services as scoring_services
from scoring.models import ItemResult, Result, ScoreSheet, SheetEntry
from tests.conftest import client_for
from tests.factories import InstitutionFactory
from tests.scoring.factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet

from .conftest import YEAR

pytestmark = pytest.mark.django_db

WORKED_YEAR = 2030


def item_points(year: int, **filters) -> dict[tuple[str, int], D]:
    return {(code, n): p for code, n, p in ItemResult.objects.filter(year=year, **filters)
            .values_list("institution__code", "item_number", "points")}


def recomputed(year: int, district: District) -> dict[tuple[str, int], D]:
    """The item points from the submitted sheets' entries, by hand: Σ_s w_s · Σ_i p_si / Σ_s w_s over the
    present sources (plain mean when their weights sum to 0), rounded half up to cents, in Decimal."""
    sums: dict[tuple[str, int], dict[str, D]] = defaultdict(lambda: defaultdict(D))
    present: dict[str, set[str]] = defaultdict(set)
    weights = {}
    for sheet in ScoreSheet.objects.filter(assessment__year=year, assessment__institution__district=district,
                                           status="submitted").select_related("assessment__institution",
                                                                              "assessment__scheme"):
        code = sheet.assessment.institution.code
        present[code].add(sheet.source)
        weights[code] = sheet.assessment.scheme
    items = {}
    for entry in SheetEntry.objects.filter(sheet__assessment__year=year, sheet__status="submitted",
                                           sheet__assessment__institution__district=district,
                                           indicator__kind="basic").select_related(
            "sheet__assessment__institution", "indicator__clause__item"):
        number = entry.indicator.clause.item.number
        items[number] = True
        sums[(entry.sheet.assessment.institution.code, number)][entry.sheet.source] += entry.points or D(0)
    out = {}
    for code, sources in present.items():
        scheme = weights[code]
        w = {s: scheme.weight_for(s) for s in sources}
        for number in items:
            total_w = sum(w.values())
            got = sums[(code, number)]
            exact = (sum(w[s] * got[s] for s in sources) / total_w if total_w
                     else sum(got[s] for s in sources) / len(sources))
            out[(code, number)] = exact.quantize(D("0.01"), rounding=ROUND_HALF_UP)
    return out


def test_worked_example_of_scoring_md(reference_data):
    luqiao = District.objects.get(code="331004")
    scheme = build_scheme(WORKED_YEAR)  # B1, B2 in item 1; B3 in item 2 (tests.scoring.factories)
    institution = InstitutionFactory(code="W")
    assessment = assessment_for(institution, scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)
    scoring_services.aggregate_year(WORKED_YEAR, luqiao)
    # c_B1 + c_B2 = 37.4 + 32.8; c_B3 = 17.8; together the basic score 88.00.
    assert item_points(WORKED_YEAR) == {("W", 1): D("70.20"), ("W", 2): D("17.80")}
    assert Result.objects.get(year=WORKED_YEAR).basic == D("88.00")
    # Third-party sheet not submitted: (8 + 18 + 7.6 + 15) / 0.7 = 69.428… ; 13 / 0.7 = 18.571…
    fill_sheet(assessment, "third_party", WORKED_SHEETS["third_party"], submit=False)
    scoring_services.aggregate_year(WORKED_YEAR, luqiao)
    assert item_points(WORKED_YEAR) == {("W", 1): D("69.43"), ("W", 2): D("18.57")}
    assert item_points(WORKED_YEAR) == recomputed(WORKED_YEAR, luqiao)
    assert Result.objects.get(year=WORKED_YEAR).basic == D("88.00")


def test_present_weights_summing_to_zero_take_the_plain_mean(reference_data):
    luqiao = District.objects.get(code="331004")
    scheme = build_scheme(WORKED_YEAR, weight_self=D("0"), weight_inspection=D("1"), weight_third_party=D("0"))
    assessment = assessment_for(InstitutionFactory(code="W"), scheme)
    fill_sheet(assessment, "self", WORKED_SHEETS["self"])
    fill_sheet(assessment, "third_party", WORKED_SHEETS["third_party"])
    scoring_services.aggregate_year(WORKED_YEAR, luqiao)
    # (78 + 72) / 2 and (20 + 16) / 2.
    assert item_points(WORKED_YEAR) == {("W", 1): D("75.00"), ("W", 2): D("18.00")}
    assert item_points(WORKED_YEAR) == recomputed(WORKED_YEAR, luqiao)


def test_equals_a_decimal_recomputation_from_the_entries_per_district(dataset):
    luqiao = item_points(YEAR, district=dataset.luqiao)
    jiaojiang = item_points(YEAR, district=dataset.jiaojiang)
    assert luqiao == recomputed(YEAR, dataset.luqiao)
    assert jiaojiang == recomputed(YEAR, dataset.jiaojiang) == {("E", 1): D("20.00"), ("E", 2): D("10.00")}
    # Every institution with a result, every item of the scheme; nobody else.
    assert {code for code, _n in luqiao} == set(Result.objects.filter(year=YEAR, district=dataset.luqiao)
                                                .values_list("institution__code", flat=True)) == {"A", "B", "C", "D"}
    assert luqiao[("C", 1)] == D("78.57") and luqiao[("C", 2)] == D("12.86")


def test_each_district_writes_its_own_rows_only(dataset):
    jiaojiang = list(ItemResult.objects.filter(district=dataset.jiaojiang).values_list("pk", "points", "computed_at"))
    scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    fill_sheet(assessment_for(dataset.a, dataset.a.assessments.get(year=YEAR).scheme), "inspection",
               {"B1": D("40"), "B2": D("34"), "B3": D("18"), "X1": D("6"), "R1": False})
    scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert item_points(YEAR, institution=dataset.a) == {("A", 1): D("74.00"), ("A", 2): D("18.00")}
    # Jiaojiang's rows are untouched by Luqiao's aggregation.
    assert list(ItemResult.objects.filter(district=dataset.jiaojiang).values_list(
        "pk", "points", "computed_at")) == jiaojiang
    # Idempotent: the same data writes nothing the second time.
    dy = scoring_services.district_year(dataset.luqiao, YEAR)
    assert item_summary.write_item_summary(dy) == (0, 0)


def test_institutions_without_a_result_lose_their_rows(dataset):
    scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    ScoreSheet.objects.filter(assessment__institution=dataset.d).update(status="draft")
    scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert not ItemResult.objects.filter(institution=dataset.d).exists()
    assert not Result.objects.filter(institution=dataset.d, year=YEAR).exists()
    assert {code for code, _n in item_points(YEAR, district=dataset.luqiao)} == {"A", "B", "C"}


def test_written_in_the_aggregations_transaction(dataset, monkeypatch):
    scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    late = InstitutionFactory(code="L")
    fill_sheet(assessment_for(late, dataset.a.assessments.get(year=YEAR).scheme), "inspection",
               {"B1": D("20"), "B2": D("20"), "B3": D("10")})
    original = item_summary.write_item_summary
    seen = {}

    def spy(dy, *results):
        # Called inside the aggregation's transaction, after its results are written.
        seen["atomic"] = connection.in_atomic_block
        seen["result"] = Result.objects.filter(institution=late, year=YEAR).exists()
        return original(dy, *results)

    monkeypatch.setattr(item_summary, "write_item_summary", spy)
    scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert seen == {"atomic": True, "result": True}
    assert item_points(YEAR, institution=late) == {("L", 1): D("40.00"), ("L", 2): D("10.00")}

    # A failing summary undoes the results written beside it: never one without the other.
    ScoreSheet.objects.filter(assessment__institution=late).update(status="draft")

    def broken(dy, *results):
        original(dy, *results)
        raise RuntimeError("disk full")

    monkeypatch.setattr(item_summary, "write_item_summary", broken)
    with pytest.raises(RuntimeError):
        scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert Result.objects.filter(institution=late, year=YEAR).exists()  # the previous results stand
    assert item_points(YEAR, institution=late) == {("L", 1): D("40.00"), ("L", 2): D("10.00")}


def test_portable_write_path_gives_the_same_rows(dataset):
    """SQLite's ORM path and PostgreSQL's COPY path write the same rows from the same computation."""
    dy = scoring_services.district_year(dataset.luqiao, YEAR)
    before = item_points(YEAR, district=dataset.luqiao)
    rows = item_summary.compute_item_summary(dy)
    ItemResult.objects.filter(district=dataset.luqiao).delete()
    assert item_summary._write_orm(dy, rows) == (len(before), 0)
    assert item_points(YEAR, district=dataset.luqiao) == before
    assert item_summary._write_orm(dy, rows) == (0, 0)
    assert item_summary._write_orm(dy, [r for r in rows if r[0] != dataset.d.pk]) == (0, 2)


def test_dashboards_read_the_stored_item_points(dataset):
    """Whatever scoring stored is what the charts, rows, institution page and report show."""
    ItemResult.objects.filter(institution=dataset.c, item_number=1).update(points=D("11.11"))
    cache.clear()
    rows = client_for(dataset.finance).get("/api/v1/dashboards/district/rows/items/",
                                           {"district": "331004", "year": YEAR, "key": "1"}).json()
    assert ("C", "11.11") in [(r["code"], r["score"]) for r in rows["results"]]
    items = client_for(dataset.finance).get("/api/v1/dashboards/district/items/",
                                            {"district": "331004", "year": YEAR}).json()["items"]
    assert items[0]["average"] == "55.28"  # (70 + 60 + 11.11 + 80) / 4 = 55.2775
    own = client_for(dataset.finance).get("/api/v1/dashboards/institutions/C/items/", {"year": YEAR}).json()
    assert own["items"][0]["own"] == "11.11"
