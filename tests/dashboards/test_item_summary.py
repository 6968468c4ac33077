"""The per-item summary (scoring.models.Result.item_cents): written by scoring's aggregation in the
results' own rows, per district, by the basic score's rule in Decimal (SCORING.md's worked example),
read in queries through scoring.selectors.ItemCents, and what every dashboard and the report read."""

import html
from collections import defaultdict
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from django.core.cache import cache

from institutions.models import District
from scoring import services as scoring_services
from scoring.models import AggregationRun, Result, ScoreSheet, SheetEntry
from scoring.selectors import ItemCents
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory
from tests.scoring.factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet
from tests.scoring.test_aggregation import raise_after_writing

from .conftest import YEAR

pytestmark = pytest.mark.django_db

WORKED_YEAR = 2030


def item_points(year: int, **filters) -> dict[tuple[str, int], D]:
    """(institution code, item number) -> the stored points (`Result.item_points()`) of the year's results."""
    return {(r.institution.code, n): p
            for r in Result.objects.filter(year=year, **filters).select_related("institution")
            for n, p in r.item_points().items()}


def stored_rows(**filters) -> list[tuple]:
    """The dataset year's results as the aggregation left them: (pk, item_cents, computed_at)."""
    return list(Result.objects.filter(year=YEAR, **filters).order_by("pk")
                .values_list("pk", "item_cents", "computed_at"))


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
    jiaojiang = stored_rows(district=dataset.jiaojiang)
    assert jiaojiang and all(cents == {"1": 2000, "2": 1000} for _pk, cents, _at in jiaojiang)
    scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    fill_sheet(assessment_for(dataset.a, dataset.a.assessments.get(year=YEAR).scheme), "inspection",
               {"B1": D("40"), "B2": D("34"), "B3": D("18"), "X1": D("6"), "R1": False})
    scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert item_points(YEAR, institution=dataset.a) == {("A", 1): D("74.00"), ("A", 2): D("18.00")}
    assert Result.objects.get(institution=dataset.a, year=YEAR).item_cents == {"1": 7400, "2": 1800}
    # Jiaojiang's rows (their per-item summary included) are untouched by Luqiao's aggregation.
    assert stored_rows(district=dataset.jiaojiang) == jiaojiang
    # Idempotent: the same data writes nothing the second time.
    luqiao = stored_rows(district=dataset.luqiao)
    summary = scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert (summary.written, summary.removed) == (0, 0)
    assert stored_rows(district=dataset.luqiao) == luqiao


def test_institutions_without_a_result_lose_their_rows(dataset):
    scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    ScoreSheet.objects.filter(assessment__institution=dataset.d).update(status="draft")
    summary = scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert summary.removed == 1
    # D's summary went with its result row.
    assert not Result.objects.filter(institution=dataset.d, year=YEAR).exists()
    assert {code for code, _n in item_points(YEAR, district=dataset.luqiao)} == {"A", "B", "C"}


def test_written_and_undone_with_the_results(dataset, monkeypatch):
    """The summary is in the result's own row: written by the aggregation's write of the results and
    undone with them when the run fails."""
    scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    late = InstitutionFactory(code="L")
    fill_sheet(assessment_for(late, dataset.a.assessments.get(year=YEAR).scheme), "inspection",
               {"B1": D("20"), "B2": D("20"), "B3": D("10")})
    scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert Result.objects.get(institution=late, year=YEAR).item_cents == {"1": 4000, "2": 1000}
    assert item_points(YEAR, institution=late) == {("L", 1): D("40.00"), ("L", 2): D("10.00")}

    # A run killed after writing (L's sheet returned, A's inspection changed) leaves every row as it was.
    ScoreSheet.objects.filter(assessment__institution=late).update(status="draft")
    fill_sheet(assessment_for(dataset.a, dataset.a.assessments.get(year=YEAR).scheme), "inspection",
               {"B1": D("40"), "B2": D("34"), "B3": D("18"), "X1": D("6"), "R1": False})
    before = stored_rows(district=dataset.luqiao)
    raise_after_writing(monkeypatch, RuntimeError)
    with pytest.raises(RuntimeError, match="killed after writing"):
        scoring_services.aggregate_year(YEAR, dataset.luqiao,
                                        AggregationRun.objects.create(year=YEAR, district=dataset.luqiao))
    assert stored_rows(district=dataset.luqiao) == before
    assert item_points(YEAR, institution=late) == {("L", 1): D("40.00"), ("L", 2): D("10.00")}

    monkeypatch.undo()
    scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert not Result.objects.filter(institution=late, year=YEAR).exists()
    assert Result.objects.get(institution=dataset.a, year=YEAR).item_cents == {"1": 7400, "2": 1800}


def test_a_lost_or_tampered_summary_is_rewritten_by_the_next_aggregation(dataset):
    """item_cents is one of the compared fields: the write path of either database (SQLite's ORM
    upsert, PostgreSQL's COPY and upsert) rewrites a row whose summary differs, and only that row."""
    scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    scoring_services.aggregate_year(YEAR, dataset.luqiao)
    before = item_points(YEAR, district=dataset.luqiao)
    assert before == recomputed(YEAR, dataset.luqiao)
    rows = {pk: (cents, at) for pk, cents, at in stored_rows(district=dataset.luqiao)}
    Result.objects.filter(year=YEAR, institution__in=[dataset.b, dataset.c]).update(item_cents={})
    Result.objects.filter(year=YEAR, institution=dataset.a).update(item_cents={"1": 1111, "2": 1800})
    summary = scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert (summary.written, summary.removed) == (3, 0)
    assert item_points(YEAR, district=dataset.luqiao) == before
    after = {pk: (cents, at) for pk, cents, at in stored_rows(district=dataset.luqiao)}
    d = Result.objects.get(institution=dataset.d, year=YEAR).pk
    assert after[d] == rows[d]  # D's row untouched
    assert all(after[pk][0] == rows[pk][0] and after[pk][1] > rows[pk][1] for pk in rows if pk != d)
    assert scoring_services.aggregate_year(YEAR, dataset.luqiao).written == 0


def test_item_cents_expression_annotates_orders_and_filters(dataset):
    """scoring.selectors.ItemCents: one item's stored cents as an integer column (NULL when absent),
    the object's key and not a position, on SQLite and PostgreSQL alike."""
    luqiao = Result.objects.filter(year=YEAR, district=dataset.luqiao)
    by_item_1 = (luqiao.annotate(cents=ItemCents(1)).filter(cents__isnull=False)
                 .order_by("-cents", "institution__code").values_list("institution__code", "cents"))
    assert list(by_item_1) == [("D", 8000), ("C", 7857), ("A", 7000), ("B", 6000)]
    assert list(luqiao.annotate(cents=ItemCents(2)).order_by("cents", "institution__code")
                .values_list("institution__code", "cents")) == [("C", 1286), ("B", 1500), ("A", 1800), ("D", 2000)]
    assert list(luqiao.annotate(cents=ItemCents(1)).filter(cents__gte=7000).order_by("cents")
                .values_list("institution__code", flat=True)) == ["A", "C", "D"]
    # An item outside the scheme, a key that only starts with the number, an empty summary: NULL.
    Result.objects.filter(year=YEAR, institution=dataset.b).update(item_cents={"2": 1500, "10": 5})
    Result.objects.filter(year=YEAR, institution=dataset.c).update(item_cents={})
    assert not luqiao.annotate(cents=ItemCents(3)).filter(cents__isnull=False).exists()
    assert sorted(luqiao.annotate(cents=ItemCents(1)).filter(cents__isnull=True)
                  .values_list("institution__code", flat=True)) == ["B", "C"]
    assert dict(luqiao.annotate(cents=ItemCents(10)).values_list("institution__code", "cents")) == {
        "A": None, "B": 5, "C": None, "D": None}
    # Results written before the summary existed (the 2023 rows of the dataset) have none either.
    old = Result.objects.filter(year=YEAR - 1).annotate(cents=ItemCents(1))
    assert old.exists() and not old.filter(cents__isnull=False).exists()


def test_dashboards_read_the_stored_item_points(dataset):
    """Whatever scoring stored is what the charts, rows, institution page and report show."""
    Result.objects.filter(institution=dataset.c, year=YEAR).update(item_cents={"1": 1111, "2": 1286})
    cache.clear()
    rows = client_for(dataset.finance).get("/api/v1/dashboards/district/rows/items/",
                                           {"district": "331004", "year": YEAR, "key": "1"}).json()
    assert [(r["code"], r["score"]) for r in rows["results"]] == [("D", "80.00"), ("A", "70.00"), ("B", "60.00"),
                                                                   ("C", "11.11")]
    items = client_for(dataset.finance).get("/api/v1/dashboards/district/items/",
                                            {"district": "331004", "year": YEAR}).json()["items"]
    assert items[0]["average"] == "55.28"  # (70 + 60 + 11.11 + 80) / 4 = 55.2775
    own = client_for(dataset.finance).get("/api/v1/dashboards/institutions/C/items/", {"year": YEAR}).json()
    assert own["items"][0]["own"] == "11.11"
    # The next aggregation puts the computed points back.
    scoring_services.reopen_year(scoring_services.district_year(dataset.luqiao, YEAR), dataset.finance, "更正")
    scoring_services.aggregate_year(YEAR, dataset.luqiao)
    assert item_points(YEAR, institution=dataset.c) == {("C", 1): D("78.57"), ("C", 2): D("12.86")}


def test_the_admin_shows_a_results_item_points(dataset, client):
    """The admin's (read-only) result page lists the stored item points, not the raw cents."""
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    result = Result.objects.get(institution=dataset.c, year=YEAR)
    page = client.get(f"/admin/scoring/result/{result.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "第1项 78.57；第2项 12.86" in text
    assert '"1": 7857' not in html.unescape(text)  # the raw cents are not shown
