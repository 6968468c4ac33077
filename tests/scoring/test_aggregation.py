"""The set-based aggregation (services.aggregate_year): ranks and ties, idempotence, a worker killed
half-way, and agreement with the pure rules (rules.compute_result) on random data."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.db import connection, transaction

from scoring import rules, services
from scoring.models import AggregationRun, Assessment, Result
from tests.conftest import client_for
from tests.factories import InstitutionFactory
from tests.scoring.factories import luqiao

from .factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet

pytestmark = pytest.mark.django_db

D = Decimal
SOURCES = ("self", "inspection", "third_party")


def run_aggregation(year: int) -> AggregationRun:
    run = AggregationRun.objects.create(year=year, district=luqiao())
    return services.execute_run(run.pk)


def snapshot(year: int, *, with_run: bool = True) -> dict[str, dict]:
    """Every stored result of the year, by institution code, with every field that matters."""
    fields = [*services.COMPARED_FIELDS, "computed_at", "run_id"] if with_run else list(services.COMPARED_FIELDS)
    return {r.institution.code: {f: getattr(r, f) for f in fields}
            for r in Result.objects.filter(year=year).select_related("institution")}


# --------------------------------------------------------------------------------------------
# Ranks: 1, 2, 2, 4 and category ranks


def test_ties_share_a_rank_and_the_next_rank_skips(finance, django_capture_on_commit_callbacks):
    scheme = build_scheme(2031)
    # (code, category, inspection sheet): totals 95, 90 (basic 90), 90 (basic 85 + bonus 5), 80, and a
    # red-line hit with the best total of all, which must still come last.
    plan = [
        ("T1", "bank", {"B1": D("40"), "B2": D("40"), "B3": D("15")}),
        ("T2", "bank", {"B1": D("40"), "B2": D("35"), "B3": D("15")}),
        ("T3", "insurance", {"B1": D("35"), "B2": D("35"), "B3": D("15"), "X1": D("5")}),
        ("T4", "bank", {"B1": D("30"), "B2": D("30"), "B3": D("20")}),
        ("T5", "insurance", {"B1": D("40"), "B2": D("40"), "B3": D("20"), "R1": True}),
    ]
    for code, category, values in plan:
        fill_sheet(assessment_for(InstitutionFactory(code=code, category=category), scheme), "inspection", values)

    client = client_for(finance)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/v1/aggregations/", {"year": 2031}, format="json")
    assert started.status_code == 202
    assert client.get(f"/api/v1/aggregations/{started.json()['id']}/").json()["status"] == "succeeded"

    body = client.get("/api/v1/scores/?year=2031").json()
    got = [(r["institution"]["code"], r["total"], r["rank"], r["category_rank"]) for r in body["results"]]
    assert got == [
        ("T1", "95.00", 1, 1),
        ("T2", "90.00", 2, 2),
        ("T3", "90.00", 2, 1),
        ("T4", "80.00", 4, 3),
        ("T5", "100.00", 5, 2),
    ]
    assert {r["institution"]["code"]: r["status"] for r in body["results"]}["T1"] == "provisional"
    by_total = client.get("/api/v1/scores/?year=2031&ordering=-total").json()["results"]
    assert [r["institution"]["code"] for r in by_total][:2] == ["T5", "T1"]
    bank_only = client.get("/api/v1/scores/?year=2031&category=insurance").json()["results"]
    assert [(r["institution"]["code"], r["category_rank"]) for r in bank_only] == [("T3", 1), ("T5", 2)]


# --------------------------------------------------------------------------------------------
# Idempotence


def small_year(year: int = 2031, n: int = 5):
    scheme = build_scheme(year)
    institutions = [InstitutionFactory(code=f"I{i:02d}", category="bank" if i % 2 else "insurance")
                    for i in range(n)]
    for i, institution in enumerate(institutions):
        assessment = assessment_for(institution, scheme)
        for source, values in WORKED_SHEETS.items():
            shifted = {k: (v if isinstance(v, bool) else max(v - i, D(0))) for k, v in values.items()}
            fill_sheet(assessment, source, shifted, submit=not (source == "third_party" and i == 0))
    return scheme, institutions


def test_second_aggregation_changes_nothing(finance):
    scheme, institutions = small_year()
    first = run_aggregation(scheme.year)
    assert first.status == "succeeded" and first.results_changed == len(institutions)
    before = snapshot(scheme.year)
    assert len(before) == len(institutions)
    assert {row["run_id"] for row in before.values()} == {first.pk}

    second = run_aggregation(scheme.year)
    assert second.status == "succeeded"
    assert second.results_changed == 0 and second.results_written == 0
    assert second.institutions_total == len(institutions)
    assert snapshot(scheme.year) == before  # same values, same computed_at, still the first run's rows
    detail = client_for(finance).get(f"/api/v1/aggregations/{second.pk}/").json()
    assert detail["changed"] == 0 and detail["status"] == "succeeded"

    # ...whereas a real change rewrites exactly the row it concerns.
    entry = Assessment.objects.get(institution=institutions[3]).sheets.get(source="inspection").entries.get(
        indicator__code="B1")
    entry.points = entry.points - 1
    entry.save()
    third = run_aggregation(scheme.year)
    assert third.results_changed == 1
    after = snapshot(scheme.year)
    changed = {code for code in after if after[code] != before[code]}
    assert changed == {"I03"} and after["I03"]["run_id"] == third.pk
    assert after["I03"]["computed_at"] > before["I03"]["computed_at"]


# --------------------------------------------------------------------------------------------
# A worker killed half-way


class WorkerKilled(BaseException):
    """Not an Exception: like a killed process, nothing may catch and tidy it up."""


def final_state(scheme, institutions: dict[str, object]) -> None:
    """Write the data as it stands after the edits below (used for the uninterrupted 'copy')."""
    for code, plan in STATE_AFTER.items():
        assessment = assessment_for(institutions[code], scheme)
        for source, (values, submitted) in plan.items():
            fill_sheet(assessment, source, values, submit=submitted)


STATE_BEFORE = {
    "K1": {s: (v, True) for s, v in WORKED_SHEETS.items()},
    "K2": {"inspection": ({"B1": D("30"), "B2": D("30"), "B3": D("10"), "X1": D("2")}, True)},
    "K3": {"self": ({"B1": D("20"), "B2": D("20"), "B3": D("20")}, True)},
    "K4": {"inspection": ({"B1": D("35"), "B2": D("35"), "B3": D("15")}, True)},
}
STATE_AFTER = {
    "K1": {**{s: (v, True) for s, v in WORKED_SHEETS.items()},
           "third_party": ({**WORKED_SHEETS["third_party"], "R1": True}, True)},  # now a red-line hit
    "K2": {"inspection": ({"B1": D("31.5"), "B2": D("30"), "B3": D("10"), "X1": D("6")}, True),
           "self": ({"B1": D("40"), "B2": D("40"), "B3": D("20")}, True)},
    "K3": {"self": ({"B1": D("20"), "B2": D("20"), "B3": D("20")}, False)},  # returned: no result now
    "K4": {"inspection": ({"B1": D("35"), "B2": D("35"), "B3": D("15")}, True)},
    "K5": {"third_party": ({"B1": D("39.9"), "B2": D("40"), "B3": D("20")}, True)},  # new this run
}


def raise_after_writing(monkeypatch, exc):
    real = services._write_results

    def write_then_die(years, results, runs, only=None, **options):  # the district-years, their results, their runs
        written, _removed = real(years, results, runs, only, **options)
        assert sum(written.values()), "the patch should fire after the new rows are written"
        run = next(iter(runs.values()))
        assert Result.objects.filter(year=years[0].year, run=run).exists()  # really written, in this transaction
        raise exc("worker killed after writing results")

    monkeypatch.setattr(services, "_write_results", write_then_die)


def raise_while_ranking(monkeypatch, exc):
    def die(results):
        raise exc("worker killed while ranking")

    monkeypatch.setattr(services, "_assign_ranks", die)


@pytest.mark.parametrize("exc", [WorkerKilled, RuntimeError])
@pytest.mark.parametrize("where", [raise_after_writing, raise_while_ranking])
def test_killed_aggregation_leaves_previous_results_and_a_rerun_equals_a_clean_run(monkeypatch, where, exc):
    scheme = build_scheme(2031)
    institutions = {code: InstitutionFactory(code=code, category="bank" if code < "K3" else "insurance")
                    for code in ("K1", "K2", "K3", "K4", "K5")}
    for code, plan in STATE_BEFORE.items():
        assessment = assessment_for(institutions[code], scheme)
        for source, (values, submitted) in plan.items():
            fill_sheet(assessment, source, values, submit=submitted)
    first = run_aggregation(scheme.year)
    before = snapshot(scheme.year)
    assert set(before) == {"K1", "K2", "K3", "K4"}

    final_state(scheme, institutions)  # the edits that the killed run was meant to pick up
    where(monkeypatch, exc)
    killed = AggregationRun.objects.create(year=scheme.year, district=luqiao())
    with pytest.raises(exc):
        services.execute_run(killed.pk)
    assert snapshot(scheme.year) == before, "a killed run must leave the previous results untouched"
    assert set(Result.objects.filter(year=scheme.year).values_list("run_id", flat=True)) == {first.pk}
    killed.refresh_from_db()
    assert killed.status == ("failed" if exc is RuntimeError else "running")
    if exc is RuntimeError:
        assert "killed" in killed.error

    monkeypatch.undo()
    rerun = run_aggregation(scheme.year)
    assert rerun.status == "succeeded"
    after = snapshot(scheme.year, with_run=False)
    assert set(after) == {"K1", "K2", "K4", "K5"}
    assert after != snapshot_values(before)  # the edits did land

    # An uninterrupted run on a copy of the same final data, in another year.
    copy_scheme = build_scheme(2032)
    final_state(copy_scheme, institutions)
    run_aggregation(copy_scheme.year)
    assert snapshot(copy_scheme.year, with_run=False) == after


def snapshot_values(rows: dict[str, dict]) -> dict[str, dict]:
    return {code: {f: row[f] for f in services.COMPARED_FIELDS} for code, row in rows.items()}


def test_aggregation_inside_an_outer_transaction_works():
    """Callers (admin actions, scripts, tests) may already be inside a transaction."""
    scheme, _ = small_year(n=2)
    with transaction.atomic():
        summary = services.aggregate_year(scheme.year, luqiao())
    assert summary.institutions == 2 and Result.objects.filter(year=scheme.year).count() == 2


# --------------------------------------------------------------------------------------------
# Set-based aggregation == rules.compute_result, on random data

BASIC = [("P1", "1.1", "12.5"), ("P2", "1.2", "12.5"), ("P3", "2.1", "10"), ("P4", "2.2", "15"),
         ("P5", "3.1", "20"), ("P6", "3.2", "10"), ("P7", "4.1", "7.5"), ("P8", "4.2", "12.5")]
BONUS = [("Q1", "4"), ("Q2", "5"), ("Q3", "6")]
RED = ["R1", "R2"]
CATEGORIES = ["bank", "insurance", "securities", "private_lending", "other"]


def random_points(rng: random.Random, max_points: Decimal) -> Decimal:
    tenths = int(max_points * 10)
    choice = rng.random()
    if choice < 0.15:
        return max_points
    if choice < 0.2:
        return D("0.0")
    return D(rng.randint(0, tenths)) / 10


@pytest.mark.parametrize(("seed", "weights", "stored_sums"), [
    (20260101, ("0.2", "0.5", "0.3"), False),
    (7, ("0.25", "0.45", "0.3"), False),
    (99, ("0", "0.7", "0.3"), False),  # self alone weighs 0: the plain-mean fallback
    (20260101, ("0.2", "0.5", "0.3"), True),  # from the sheets' stored sums (scoring.sheet_sums)
    (99, ("0", "0.7", "0.3"), True),
])
def test_set_based_aggregation_equals_the_rules_on_random_data(monkeypatch, seed, weights, stored_sums):
    rng = random.Random(seed)
    w_self, w_insp, w_tp = (D(w) for w in weights)
    indicators = ([(c, "basic", clause, D(m)) for c, clause, m in BASIC] + [(c, "bonus", None, D(m)) for c, m in BONUS]
                  + [(c, "red_line", None, None) for c in RED])
    scheme = build_scheme(2033, indicators, weight_self=w_self, weight_inspection=w_insp, weight_third_party=w_tp)
    params = rules.SchemeParams(weights={"self": w_self, "inspection": w_insp, "third_party": w_tp})
    specs = [rules.IndicatorSpec(code, kind, max_points) for code, kind, _clause, max_points in indicators]

    expected: dict[str, rules.ResultValues | None] = {}
    categories: dict[str, str] = {}
    counts: dict[int, tuple[int, int]] = {}
    previous: list[tuple[dict, tuple[int, int]]] = []
    for n in range(30):
        code = f"R{n:03d}"
        institution = InstitutionFactory(code=code, category=rng.choice(CATEGORIES))
        categories[code] = institution.category
        if previous and rng.random() < 0.2:
            sheets, complaint_counts = rng.choice(previous)  # a twin: forces ties in total
        else:
            sheets = {}
            for source in SOURCES:
                if rng.random() < 0.25:
                    continue  # no sheet at all
                values: dict[str, Decimal | bool] = {}
                for code_b, _clause, max_points in BASIC:
                    if rng.random() < 0.9:  # a missing entry counts as 0
                        values[code_b] = random_points(rng, D(max_points))
                for code_x, max_points in BONUS:
                    if rng.random() < 0.6:
                        values[code_x] = random_points(rng, D(max_points))
                for code_r in RED:
                    if rng.random() < 0.8:
                        values[code_r] = rng.random() < 0.04
                sheets[source] = (values, rng.random() < 0.8)  # (entries, submitted?)
            complaint_counts = (rng.choice([0, 0, 0, 1, 2, 7]), rng.choice([0, 0, 1, 3]))
        previous.append((sheets, complaint_counts))
        assessment = assessment_for(institution, scheme)
        for source, (values, submitted) in sheets.items():
            fill_sheet(assessment, source, values, submit=submitted)
        counts[institution.pk] = complaint_counts
        submitted_sheets = {s: v for s, (v, ok) in sheets.items() if ok}
        expected[code] = rules.compute_result(params, specs, submitted_sheets, *complaint_counts)
    monkeypatch.setattr(services, "complaint_counts", lambda year, institutions=None, districts=None: dict(counts))

    if stored_sums:
        from django.test.utils import CaptureQueriesContext

        from scoring import sheet_sums
        from scoring.models import SheetEntry

        services.district_year(luqiao(), scheme.year)
        assert sheet_sums.fill(scheme.year) >= 40  # most of 30 institutions × 3 sources
        with CaptureQueriesContext(connection) as queries:
            services.aggregate_year(scheme.year, luqiao())
        assert not [q for q in queries if f"{SheetEntry._meta.db_table} e ON e.sheet_id" in q["sql"]]
    else:
        services.aggregate_year(scheme.year, luqiao())

    stored = {r.institution.code: r for r in Result.objects.filter(year=scheme.year).select_related("institution")}
    with_result = sorted(code for code, values in expected.items() if values is not None)
    assert sorted(stored) == with_result
    assert 20 <= len(with_result) <= 30  # the data really exercises both cases
    for code in with_result:
        want, got = expected[code], stored[code]
        assert (str(got.basic), str(got.bonus), str(got.deduction), str(got.total)) == (
            str(want.basic), str(want.bonus), str(want.deduction), str(want.total)), code
        assert (got.red_line, got.colour, got.status, tuple(got.sources), got.fiscal_tender) == (
            want.red_line, want.colour, want.status, want.sources, want.linkage), code

    keys = [(expected[c].red_line, expected[c].total) for c in with_result]
    assert [stored[c].rank for c in with_result] == rules.competition_ranks(keys)
    assert len({k for k in keys}) < len(keys), "the random data should contain ties"
    for category in set(categories[c] for c in with_result):
        members = [c for c in with_result if categories[c] == category]
        ranks = rules.competition_ranks([(expected[c].red_line, expected[c].total) for c in members])
        assert [stored[c].category_rank for c in members] == ranks, category


def test_entries_of_indicators_outside_the_scheme_count_nowhere():
    """An entry whose indicator belongs to another scheme (a row left over from a renumbered norm)
    changes neither the result nor the per-item summary: the one grouped read of the entries meets
    only the district's scheme's indicators."""
    from scoring.models import Indicator, ScoreSheet, SheetEntry

    scheme = build_scheme(2036)
    other = build_scheme(2037, [("B1", "basic", "1.1", D("40")), ("X1", "bonus", None, D("6")),
                                ("R1", "red_line", None, None)])
    institution = InstitutionFactory(code="OUT")
    assessment = assessment_for(institution, scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)
    services.aggregate_year(2036, luqiao())
    clean = snapshot(2036, with_run=False)["OUT"]
    items = Result.objects.get(institution=institution, year=2036).item_points()
    assert (str(clean["basic"]), str(clean["bonus"]), str(clean["total"])) == ("88.00", "10.00", "98.00")
    assert items == {1: D("70.20"), 2: D("17.80")}  # 37.4 + 32.8; 17.8

    foreign = {i.code: i for i in Indicator.objects.filter(scheme=other)}
    for sheet in ScoreSheet.objects.filter(assessment=assessment):
        SheetEntry.objects.create(sheet=sheet, indicator=foreign["B1"], points=D("40"))
        SheetEntry.objects.create(sheet=sheet, indicator=foreign["X1"], points=D("6"))
        SheetEntry.objects.create(sheet=sheet, indicator=foreign["R1"], hit=True)
    services.aggregate_year(2036, luqiao())
    assert snapshot(2036, with_run=False)["OUT"] == clean
    assert Result.objects.get(institution=institution, year=2036).item_points() == items


def test_aggregation_marks_in_review_assessments_with_a_result_scored_and_leaves_the_others():
    """The state is marked alongside the rules on PostgreSQL (core.overlap.Alongside), by the write on
    SQLite: either way only assessments in review that got a result move, whole runs and incremental."""
    scheme = build_scheme(2032)
    done, waiting, noticed, changed = (assessment_for(InstitutionFactory(code=code), scheme)
                                       for code in ("M1", "M2", "M3", "M4"))
    for assessment in (done, noticed, changed):
        for source, values in WORKED_SHEETS.items():
            fill_sheet(assessment, source, values)
    Assessment.objects.filter(pk__in=[done.pk, waiting.pk, changed.pk]).update(state="in_review")
    Assessment.objects.filter(pk=noticed.pk).update(state="notice")
    services.aggregate_year(scheme.year, luqiao())
    states = dict(Assessment.objects.filter(year=scheme.year).values_list("pk", "state"))
    assert states == {done.pk: "scored", waiting.pk: "in_review", noticed.pk: "notice", changed.pk: "scored"}
    Assessment.objects.filter(pk=changed.pk).update(state="in_review")
    services.aggregate_districts(scheme.year, [luqiao().pk], institutions=[changed.institution_id])
    assert Assessment.objects.get(pk=changed.pk).state == "scored"
    assert Assessment.objects.get(pk=waiting.pk).state == "in_review"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_an_error_while_making_the_copy_text_is_raised_as_itself_and_nothing_is_written(monkeypatch):
    """psycopg2 reports an error of the COPY's text as a cancelled COPY (an OperationalError, which the
    tasks retry as a database hiccup); the aggregation raises the error itself, and writes nothing."""
    scheme = build_scheme(2033)
    assessment = assessment_for(InstitutionFactory(code="N1"), scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)

    def broken(*args, **kwargs):
        raise TypeError("a value the COPY cannot take")

    monkeypatch.setattr(services, "_copy_line", broken)
    with pytest.raises(TypeError, match="cannot take"):
        services.aggregate_year(scheme.year, luqiao())
    assert not Result.objects.filter(year=scheme.year).exists()
    assert Assessment.objects.get(pk=assessment.pk).state != "scored"
