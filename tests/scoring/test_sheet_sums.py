"""Each submitted sheet's sums, stored when it is submitted and read by the aggregation instead of its
entries (scoring.sheet_sums): the same results as counting the entries, cleared on return, not trusted
once the scheme's map changed or an entry was saved behind the portal's back, stored by a run that had
to count them, and filled for data loaded in bulk."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scoring import services, sheet_sums
from scoring.models import Indicator, NormClause, Result, ScoreSheet, SheetEntry, item_points_of
from tests.conftest import client_for
from tests.factories import InstitutionFactory
from tests.scoring.factories import luqiao

from .factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet
from .test_aggregation import snapshot

pytestmark = pytest.mark.django_db

D = Decimal
YEAR = 2033


def entries_read(queries) -> list[str]:
    """The statements that counted entries (`sheet_sums.from_entries`); looking for entries saved since the
    last run (through the `updated_at` index) is not counting them."""
    return [q["sql"] for q in queries if f"{SheetEntry._meta.db_table} e ON e.sheet_id" in q["sql"]]


def file_and_submit(finance, assessment, sheets=WORKED_SHEETS) -> None:
    """Every source's entries saved as drafts, then submitted through the API by the finance center."""
    client = client_for(finance)
    for source, values in sheets.items():
        fill_sheet(assessment, source, values, submit=False)
        resp = client.post(f"/api/v1/assessments/{assessment.pk}/sheets/{source}/submit/")
        assert resp.status_code == 200, resp.json()


def items_of(institution) -> dict[int, Decimal]:
    """The institution's stored per-item summary (`Result.item_cents`), {} without a result."""
    return item_points_of(next(iter(Result.objects.filter(institution=institution, year=YEAR)
                                    .values_list("item_cents", flat=True)), {}))


def stored_items() -> list[tuple[str, int, Decimal]]:
    """(institution code, item number, points) of every stored per-item summary of the year."""
    return sorted((code, number, points) for code, cents in Result.objects.filter(year=YEAR)
                  .values_list("institution__code", "item_cents") for number, points in item_points_of(cents).items())


def test_submission_stores_the_sums_the_aggregation_reads_instead_of_the_entries(finance):
    scheme = build_scheme(YEAR)
    institution = InstitutionFactory(code="S01")
    assessment = assessment_for(institution, scheme)
    file_and_submit(finance, assessment)

    key = sheet_sums.scheme_keys([scheme.pk])[scheme.pk]
    stored = {s.source: s.sums for s in ScoreSheet.objects.filter(assessment=assessment)}
    # SCORING.md's worked sheets: B1, B2 on item 1, B3 on item 2; X1, X2 bonus; R1 not hit.
    assert stored == {
        "self": {"key": key, "items": [[1, 780], [2, 200]], "other": 0, "bonus": 120, "red": 0},
        "inspection": {"key": key, "items": [[1, 660], [2, 180]], "other": 0, "bonus": 110, "red": 0},
        "third_party": {"key": key, "items": [[1, 720], [2, 160]], "other": 0, "bonus": 0, "red": 0},
    }

    with CaptureQueriesContext(connection) as queries:
        services.aggregate_year(YEAR, luqiao())
    assert entries_read(queries) == []
    from_sums = snapshot(YEAR, with_run=False)["S01"]
    assert (str(from_sums["basic"]), str(from_sums["bonus"]), str(from_sums["total"])) == ("88.00", "10.00", "98.00")
    assert items_of(institution) == {1: D("70.20"), 2: D("17.80")}

    # Counting the entries instead (the sums gone) gives the very same figures.
    ScoreSheet.objects.filter(assessment=assessment).update(sums=None)
    services.aggregate_year(YEAR, luqiao())
    assert snapshot(YEAR, with_run=False)["S01"] == from_sums
    assert items_of(institution) == {1: D("70.20"), 2: D("17.80")}


def test_a_returned_sheet_loses_its_sums_and_is_counted_again_when_resubmitted(finance):
    scheme = build_scheme(YEAR)
    institution = InstitutionFactory(code="S02")
    assessment = assessment_for(institution, scheme)
    file_and_submit(finance, assessment)
    services.aggregate_year(YEAR, luqiao())
    client = client_for(finance)

    resp = client.post(f"/api/v1/assessments/{assessment.pk}/sheets/inspection/return/", {"reason": "B1 复核"},
                       format="json")
    assert resp.status_code == 200, resp.json()
    assert ScoreSheet.objects.get(assessment=assessment, source="inspection").sums is None
    resp = client.put(f"/api/v1/assessments/{assessment.pk}/sheets/inspection/entries/B1/", {"points": "26"},
                      format="json")
    assert resp.status_code == 200, resp.json()
    assert client.post(f"/api/v1/assessments/{assessment.pk}/sheets/inspection/submit/").status_code == 200
    assert ScoreSheet.objects.get(assessment=assessment, source="inspection").sums["items"] == [[1, 560], [2, 180]]

    services.aggregate_year(YEAR, luqiao())
    result = snapshot(YEAR, with_run=False)["S02"]
    ScoreSheet.objects.filter(assessment=assessment).update(sums=None)
    services.aggregate_year(YEAR, luqiao())
    assert snapshot(YEAR, with_run=False)["S02"] == result
    assert result["basic"] < D("88.00")  # the lower B1 counted


def test_sums_counted_against_another_map_are_not_used(finance):
    """B2 moved from item 1 to item 2 after the sheets were submitted (the scheme is not frozen while
    the year is open): the stored sums no longer say which item the points belong to, so the run counts
    the entries, the per-item summary follows the move, and the sums are stored again."""
    scheme = build_scheme(YEAR)
    institution = InstitutionFactory(code="S03")
    assessment = assessment_for(institution, scheme)
    file_and_submit(finance, assessment)
    services.aggregate_year(YEAR, luqiao())
    assert items_of(institution) == {1: D("70.20"), 2: D("17.80")}

    b2 = Indicator.objects.get(scheme=scheme, code="B2")
    b2.clause = NormClause.objects.get(norms=b2.clause.norms, number="2.1")
    b2.save()
    with CaptureQueriesContext(connection) as queries:
        services.aggregate_year(YEAR, luqiao())
    assert entries_read(queries)
    assert items_of(institution) == {1: D("37.40"), 2: D("50.60")}  # 37.4; 32.8 + 17.8
    assert snapshot(YEAR, with_run=False)["S03"]["basic"] == D("88.00")
    key = sheet_sums.scheme_keys([scheme.pk])[scheme.pk]
    assert all(s.sums["key"] == key for s in ScoreSheet.objects.filter(assessment=assessment))

    with CaptureQueriesContext(connection) as queries:
        services.aggregate_year(YEAR, luqiao())
    assert entries_read(queries) == []


def test_a_run_that_counted_the_entries_stores_the_sums_for_the_next():
    scheme = build_scheme(YEAR)
    institutions = [InstitutionFactory(code=f"S1{i}") for i in range(3)]
    for institution in institutions:  # loaded in bulk: submitted, no sums
        assessment = assessment_for(institution, scheme)
        for source, values in WORKED_SHEETS.items():
            fill_sheet(assessment, source, values)
    assert not ScoreSheet.objects.filter(sums__isnull=False).exists()

    services.aggregate_year(YEAR, luqiao())
    first = snapshot(YEAR, with_run=False)
    assert ScoreSheet.objects.filter(sums__isnull=False).count() == 9
    with CaptureQueriesContext(connection) as queries:
        services.aggregate_year(YEAR, luqiao())
    assert entries_read(queries) == []
    assert snapshot(YEAR, with_run=False) == first


def test_an_entry_saved_behind_the_portals_back_is_counted_by_the_next_run(finance):
    scheme = build_scheme(YEAR)
    institution = InstitutionFactory(code="S04")
    assessment = assessment_for(institution, scheme)
    file_and_submit(finance, assessment)
    services.aggregate_year(YEAR, luqiao())

    entry = SheetEntry.objects.get(sheet__assessment=assessment, sheet__source="inspection", indicator__code="B1")
    entry.points = D("26")
    entry.save()  # not through the services: the sheet stays submitted with its old sums
    services.aggregate_year(YEAR, luqiao())
    counted = snapshot(YEAR, with_run=False)["S04"]
    assert ScoreSheet.objects.get(assessment=assessment, source="inspection").sums["items"] == [[1, 560], [2, 180]]
    ScoreSheet.objects.filter(assessment=assessment).update(sums=None)
    services.aggregate_year(YEAR, luqiao())
    assert snapshot(YEAR, with_run=False)["S04"] == counted


def test_storing_leaves_a_sheet_changed_since_it_was_read_alone(finance):
    scheme = build_scheme(YEAR)
    services.district_year(luqiao(), YEAR)  # as filing the sheets opens it
    assessment = assessment_for(InstitutionFactory(code="S05"), scheme)
    sheet = fill_sheet(assessment, "inspection", WORKED_SHEETS["inspection"])
    read_at = ScoreSheet.objects.get(pk=sheet.pk).updated_at
    counted = sheet_sums.from_entries([sheet.pk])[sheet.pk]

    sheet.returned_reason = "改"
    sheet.save()  # changed after the run read it
    assert sheet_sums.store([sheet_sums.Pending(sheet.pk, read_at, counted)]) == 0
    assert ScoreSheet.objects.get(pk=sheet.pk).sums is None
    fresh = ScoreSheet.objects.get(pk=sheet.pk)
    assert sheet_sums.store([sheet_sums.Pending(sheet.pk, fresh.updated_at, counted)]) == 1
    assert ScoreSheet.objects.get(pk=sheet.pk).updated_at == fresh.updated_at  # not a change of the sheet
    ScoreSheet.objects.filter(pk=sheet.pk).update(status=ScoreSheet.Status.DRAFT, sums=None)
    assert sheet_sums.store([sheet_sums.Pending(sheet.pk, fresh.updated_at, counted)]) == 0  # a draft: none


def test_fill_stores_the_missing_sums_once():
    scheme = build_scheme(YEAR)
    services.district_year(luqiao(), YEAR)  # as filing the sheets opens it
    for i in range(2):
        assessment = assessment_for(InstitutionFactory(code=f"S2{i}"), scheme)
        for source, values in WORKED_SHEETS.items():
            fill_sheet(assessment, source, values, submit=source != "third_party")
    empty = ScoreSheet.objects.create(assessment=assessment_for(InstitutionFactory(code="S22"), scheme),
                                      source="inspection", status=ScoreSheet.Status.SUBMITTED)

    assert sheet_sums.fill(YEAR) == 5  # two institutions' two submitted sheets, and the empty one
    assert ScoreSheet.objects.get(pk=empty.pk).sums["items"] == []
    assert not ScoreSheet.objects.filter(source="third_party", sums__isnull=False).exists()  # drafts: none
    assert sheet_sums.fill(YEAR) == 0
    assert sheet_sums.fill(YEAR, [luqiao().pk]) == 0


def test_unreadable_stored_sums_are_counted_again():
    scheme = build_scheme(YEAR)
    assessment = assessment_for(InstitutionFactory(code="S06"), scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)
    services.aggregate_year(YEAR, luqiao())
    good = snapshot(YEAR, with_run=False)["S06"]
    ScoreSheet.objects.filter(assessment=assessment).update(sums={"key": "x"})
    services.aggregate_year(YEAR, luqiao())
    assert snapshot(YEAR, with_run=False)["S06"] == good
    assert sheet_sums.SheetSums.parse('{"key": "x"}') is None and sheet_sums.SheetSums.parse(None) is None


@pytest.mark.parametrize(("raw", "expected"), [
    # What the portal stores: taken as it is.
    ('{"key": "k", "items": [[1, 116], [2, -3]], "other": 4, "bonus": 45, "red": 1}',
     ("k", ((1, 116), (2, -3)), 4, 45, 1)),
    ({"key": "k", "items": [], "other": 0, "bonus": 0, "red": 0}, ("k", (), 0, 0, 0)),
    # Written by hand or by an older release: converted value by value, as before.
    ('{"key": "k", "items": [["1", "116"]], "other": "4", "bonus": 45, "red": true}', ("k", ((1, 116),), 4, 45, 1)),
    ('{"key": "k", "items": [[1, 116.0]], "other": 4, "bonus": 45, "red": 0}', ("k", ((1, 116),), 4, 45, 0)),
    # Not readable: counted again from the entries.
    ('{"key": "k", "items": [[1, 116.5]], "other": 4, "bonus": 45, "red": 0}', None),
    ('{"key": "k", "items": [[1, 116]], "other": 4.5, "bonus": 45, "red": 0}', None),
    ('{"key": "k", "items": [[1, 2, 3]], "other": 4, "bonus": 45, "red": 0}', None),
    ('{"key": "k", "items": [[1]], "other": 4, "bonus": 45, "red": 0}', None),
    ('{"key": "k", "items": [1], "other": 4, "bonus": 45, "red": 0}', None),
    ('{"key": "k", "items": [["a", 1]], "other": 4, "bonus": 45, "red": 0}', None),
    ('{"key": "k", "items": [[1, 2]], "other": null, "bonus": 45, "red": 0}', None),
    ('{"key": "k", "items": [[1, 2]], "bonus": 45, "red": 0}', None),
    ("not json", None),
])
def test_parsing_stored_sums(raw, expected):
    sums = sheet_sums.SheetSums.parse(raw)
    if expected is None:
        assert sums is None
        return
    assert (sums.key, sums.items, sums.other, sums.bonus, sums.red) == expected
    assert all(type(value) is int for pair in sums.items for value in pair)
    assert sums.basic == sums.other + sum(tenths for _number, tenths in sums.items)
    assert sheet_sums.SheetSums.parse(sums.as_json()) == sums


def test_every_kind_of_entry_counts_the_same_from_the_sums_in_a_batch_of_two_schemes():
    """A basic indicator outside every clause, empty points, a bonus on the self and third-party sheets
    (which must not count), a red line hit on the third-party sheet, and a second district with a
    scheme of its own in the same batch: the stored sums give what counting the entries gives, and
    both what the pure rules give."""
    from institutions.models import District
    from scoring import rules

    from .factories import WORKED_INDICATORS

    luqiao_scheme = build_scheme(YEAR, (*WORKED_INDICATORS, ("B9", "basic", None, D("10"))))
    other = District.objects.get(code="331002")
    own_scheme = build_scheme(YEAR, [("C1", "basic", "1.1", D("60")), ("C2", "basic", "3.1", D("40")),
                                     ("Y1", "bonus", None, D("8")), ("S1", "red_line", None, None)],
                              district=other)
    plans = {
        "K01": (luqiao_scheme, luqiao(), {
            "self": {"B1": D("40"), "B2": None, "B3": D("20"), "X1": D("6"), "B9": D("5"), "R1": False},
            "inspection": {"B1": D("30"), "B2": D("31.5"), "X1": D("4"), "B9": D("8"), "R1": False},
            "third_party": {"B1": D("35"), "X2": D("5"), "R1": False}}),
        "K02": (luqiao_scheme, luqiao(), {
            "inspection": {"B1": D("39.5"), "B3": D("12"), "X2": D("6")},
            "third_party": {"B2": D("30"), "R1": True}}),
        "K03": (own_scheme, other, {
            "self": {"C1": D("50"), "C2": D("35"), "Y1": D("8")},
            "inspection": {"C1": D("55.5"), "C2": D("30"), "Y1": D("7.5"), "S1": False}}),
    }
    for code, (scheme, district, sheets) in plans.items():
        assessment = assessment_for(InstitutionFactory(code=code, district=district), scheme)
        for source, values in sheets.items():
            fill_sheet(assessment, source, values)
    districts = [luqiao().pk, other.pk]

    services.aggregate_districts(YEAR, districts)  # counted from the entries (none stored yet)
    from_entries = snapshot(YEAR, with_run=False)
    items = stored_items()
    assert sheet_sums.fill(YEAR) == 0  # the run stored every sheet's sums already
    Result.objects.filter(year=YEAR).delete()
    with CaptureQueriesContext(connection) as queries:
        services.aggregate_districts(YEAR, districts)
    assert entries_read(queries) == []
    assert snapshot(YEAR, with_run=False) == from_entries
    assert stored_items() == items
    assert {number for code, number, _ in items if code == "K03"} == {1, 3}

    for code, (scheme, _district, sheets) in plans.items():
        specs = [rules.IndicatorSpec(i.code, i.kind, i.max_points) for i in Indicator.objects.filter(scheme=scheme)]
        want = rules.compute_result(services.scheme_params(scheme), specs,
                                    {s: {k: v for k, v in values.items() if v is not None}
                                     for s, values in sheets.items()})
        got = from_entries[code]
        assert (got["basic"], got["bonus"], got["total"], got["red_line"], got["colour"]) == (
            want.basic, want.bonus, want.total, want.red_line, want.colour), code
    assert from_entries["K02"]["red_line"] and not from_entries["K01"]["red_line"]


def test_a_sheet_submitted_while_an_import_waited_is_not_written_into(finance, monkeypatch):
    """The import checks the sheets before its transaction and again once it holds each one: a sheet
    submitted in between is refused, nothing is written."""
    import tablib

    scheme = build_scheme(YEAR)
    institution = InstitutionFactory(code="S07")
    assessment = assessment_for(institution, scheme)
    fill_sheet(assessment, "inspection", WORKED_SHEETS["inspection"], submit=False)
    dataset = tablib.Dataset(headers=["year", "institution_code", "source", "indicator_code", "value", "note"])
    dataset.append([YEAR, "S07", "inspection", "B1", "12", ""])

    real_sheet = services._sheet

    def submitted_meanwhile(assessment, source, lock=False):
        sheet = real_sheet(assessment, source, lock=lock)
        if lock:  # the submission won the race for the sheet
            ScoreSheet.objects.filter(pk=sheet.pk).update(status=ScoreSheet.Status.SUBMITTED)
            sheet.refresh_from_db()
        return sheet

    before = sorted(SheetEntry.objects.values_list("pk", "points"))
    monkeypatch.setattr(services, "_sheet", submitted_meanwhile)
    report = services.import_scores(dataset, actor=finance)
    assert not report.ok and "已提交" in report.problems[0].message
    assert sorted(SheetEntry.objects.values_list("pk", "points")) == before


def test_the_command_stores_the_missing_sums_of_a_year_or_a_district():
    from io import StringIO

    from django.core.management import CommandError, call_command

    scheme = build_scheme(YEAR)
    services.district_year(luqiao(), YEAR)
    assessment = assessment_for(InstitutionFactory(code="S30"), scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)

    out = StringIO()
    call_command("store_sheet_sums", "--year", str(YEAR), "--district", "331002", stdout=out)
    assert "0 张" in out.getvalue() and not ScoreSheet.objects.filter(sums__isnull=False).exists()
    call_command("store_sheet_sums", "--year", str(YEAR), stdout=out)
    assert "3 张" in out.getvalue() and ScoreSheet.objects.filter(sums__isnull=False).count() == 3
    with pytest.raises(CommandError, match="未知区县代码"):
        call_command("store_sheet_sums", "--year", str(YEAR), "--district", "999999")
    with pytest.raises(CommandError, match="不合理"):
        call_command("store_sheet_sums", "--year", "1900")


KEY = "0123456789abcdef" * 2  # a scheme's map key has 32 hex digits (scheme_keys)


@pytest.mark.parametrize(("raw", "expected"), [
    # What the portal stores (compact text), and what jsonb stored before scoring 0020 (spaced): taken
    # as it is.
    (f'{{"key":"{KEY}","red":1,"bonus":45,"items":[[1,116],[2,-3]],"other":4}}', ([[1, 116], [2, -3]], 117, 45, 1)),
    (f'{{"key": "{KEY}", "red": 1, "bonus": 45, "items": [[1, 116], [2, -3]], "other": 4}}',
     ([[1, 116], [2, -3]], 117, 45, 1)),
    (f'{{"key":"{KEY}","red":0,"bonus":0,"items":[],"other":0}}', ([], 0, 0, 0)),
    ({"key": KEY, "items": [[1, 116]], "other": 0, "bonus": 0, "red": 0}, ([[1, 116]], 116, 0, 0)),
    (f'{{"key": "{KEY}", "items": [[1, 116], [2, -3]], "other": 4, "bonus": 45, "red": 1}}',  # any order
     ([[1, 116], [2, -3]], 117, 45, 1)),
    # Anything but integers (written by hand or by an older release): through `SheetSums.parse`, value
    # by value, as before.
    (f'{{"key": "{KEY}", "items": [["1", "116"]], "other": "4", "bonus": 45, "red": true}}', (((1, 116),), 120, 45, 1)),
    (f'{{"key": "{KEY}", "red": 0, "bonus": 45, "items": [[1, 116.0]], "other": 4}}', (((1, 116),), 120, 45, 0)),
    # Counted against another map, or not readable: None, the sheet is counted from its entries.
    (f'{{"key":"{"f" * 32}","red":0,"bonus":45,"items":[[1,116]],"other":4}}', None),
    ('{"items": [[1, 116]], "other": 4, "bonus": 45, "red": 0}', None),
    (f'{{"key":"{KEY}","red":0,"bonus":45,"items":[[1,2,3]],"other":4}}', None),
    (f'{{"key":"{KEY}","red":0,"bonus":45,"items":[[1,116.5]],"other":4}}', None),
    # An integer too long for 64 bits (orjson reads it as an inexact float).
    (f'{{"key":"{KEY}","red":0,"bonus":45,"items":[[1,{"9" * 30}]],"other":4}}', None),
    (f'{{"key": "{KEY}", "items": {{"ab": 1}}, "other": 4, "bonus": 45, "red": 0}}', None),
    # Two-character strings are not pairs (they once unpacked as two digits).
    (f'{{"key": "{KEY}", "items": {{"12": 1}}, "other": 4, "bonus": 45, "red": 0}}', None),
    (f'{{"key": "{KEY}", "items": ["12"], "other": 4, "bonus": 45, "red": 0}}', None),
    (f'{{"key": "{KEY}", "items": "12", "other": 4, "bonus": 45, "red": 0}}', None),
    (f'{{"key": "{KEY}", "items": [[1, 2]], "other": null, "bonus": 45, "red": 0}}', None),
    ('[1, 2]', None),
    ("not json", None),
    (None, None),
])
def test_reading_stored_sums_for_the_aggregation(raw, expected):
    """What `read` hands the aggregation is what `SheetSums.parse` reads, for the scheme's key only."""
    assert sheet_sums.read(raw, KEY) == expected
    parsed = sheet_sums.SheetSums.parse(raw)
    if expected is not None:
        assert [list(pair) for pair in expected[0]] == [list(pair) for pair in parsed.items]
        assert expected[1:] == (parsed.basic, parsed.bonus, parsed.red)


def test_stored_sums_are_compact_text_of_the_fast_shape():
    """What the portal writes (`dumps`, the field) is the shape `read` takes without a further check."""
    sums = sheet_sums.SheetSums(KEY, ((1, 116), (2, -3)), 4, 45, 1)
    text = sheet_sums.dumps(sums)
    value = orjson.loads(text)
    assert " " not in text and sheet_sums._plain(value["items"], value["other"], value["bonus"], value["red"])
    assert sheet_sums.read(text, KEY) == ([[1, 116], [2, -3]], 117, 45, 1)
    assert sheet_sums.SheetSums.parse(text) == sums


def test_sheets_counted_from_their_entries_are_read_after_the_marking_thread_is_joined(monkeypatch):
    """The aggregation marks the assessments on a thread on its own connection while the sums are parsed
    (core.overlap.Alongside); a sheet whose sums must be counted from the entries is read only once that
    thread is done, never beside it, and the state and figures are those of a run without the thread."""
    import threading

    scheme = build_scheme(YEAR)
    institution = InstitutionFactory(code="S09")
    assessment = assessment_for(institution, scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)
    type(assessment).objects.filter(pk=assessment.pk).update(state="in_review")
    ScoreSheet.objects.filter(assessment=assessment).update(sums=None)
    seen = []
    real = sheet_sums.from_entries

    def from_entries(*args, **kwargs):
        seen.append([t.name for t in threading.enumerate() if t.name == "db-alongside"])
        return real(*args, **kwargs)

    monkeypatch.setattr(sheet_sums, "from_entries", from_entries)
    services.aggregate_year(YEAR, luqiao())
    assert seen == [[]]
    assert type(assessment).objects.get(pk=assessment.pk).state == "scored"
    result = snapshot(YEAR, with_run=False)["S09"]
    assert (str(result["basic"]), str(result["total"])) == ("88.00", "98.00")
