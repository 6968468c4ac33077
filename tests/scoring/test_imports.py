"""import_scheme and import_scores: validate everything first; any bad row and nothing is stored."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from scoring.models import Assessment, Indicator, Norms, Scheme, SchemeEvent, ScoreSheet, SheetEntry
from tests.factories import InstitutionFactory

from .conftest import WORKED_YEAR, data_file, import_worked_scheme_and_institution, write_csv
from .factories import assessment_for, build_scheme, fill_sheet, set_year_status

pytestmark = pytest.mark.django_db

SCORES_HEADER = "year,institution_code,source,indicator_code,value,note"
INDICATORS_HEADER = "code,kind,clause_no,max_points,title"


def test_worked_scheme_import_creates_norms_and_an_active_scheme():
    import_worked_scheme_and_institution()
    scheme = Scheme.objects.get(year=WORKED_YEAR)
    assert scheme.status == "active"
    assert (scheme.weight_self, scheme.weight_inspection, scheme.weight_third_party) == (
        Decimal("0.2"), Decimal("0.5"), Decimal("0.3"))
    assert scheme.norms.items.count() == 2 and scheme.norms.clauses.count() == 3
    assert list(scheme.indicators.values_list("code", "kind", "max_points")) == [
        ("B1", "basic", Decimal("40")), ("B2", "basic", Decimal("40")), ("B3", "basic", Decimal("20")),
        ("X1", "bonus", Decimal("6")), ("X2", "bonus", Decimal("6")), ("R1", "red_line", None)]
    assert Indicator.objects.get(scheme=scheme, code="B3").clause.number == "2.1"
    assert SchemeEvent.objects.filter(scheme=scheme, action="activate").exists()


def test_import_scheme_whose_basic_points_do_not_add_to_100_refuses_to_activate(tmp_path, capsys):
    indicators = write_csv(tmp_path, "ind.csv", INDICATORS_HEADER, [
        "B1,basic,1.1,40,一", "B2,basic,1.2,40,二", "B3,basic,2.1,15,三", "X1,bonus,,6,加分", "R1,red_line,,,红线"])
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_scheme", "--year", "2031", data_file("worked_example_norms.csv"), indicators,
                     "--activate")
    err = capsys.readouterr().err
    assert "95" in err and "100" in err and "不能启用" in err
    assert not Scheme.objects.filter(year=2031).exists() and not Norms.objects.filter(year=2031).exists()

    # Without --activate it is stored as a draft, and activating it later still says why not.
    call_command("import_scheme", "--year", "2031", data_file("worked_example_norms.csv"), indicators)
    scheme = Scheme.objects.get(year=2031)
    assert scheme.status == "draft"
    from scoring import services

    with pytest.raises(services.ScoringError, match="100"):
        services.activate_scheme(scheme)
    scheme.refresh_from_db()
    assert scheme.status == "draft"


def test_import_scheme_reports_every_bad_indicator_line(tmp_path, capsys):
    indicators = write_csv(tmp_path, "ind.csv", INDICATORS_HEADER, [
        "B1,basic,1.1,40,一",          # line 2: fine
        "B2,basic,9.9,40,二",          # line 3: clause not in the norms
        "B3,weird,2.1,20,三",          # line 4: unknown kind
        "R1,red_line,,5,红线",          # line 5: red line with max points
        "B1,basic,1.2,10,重复",         # line 6: duplicate code
        "X1,bonus,,6.25,加分",          # line 7: two decimals
    ])
    with pytest.raises(CommandError):
        call_command("import_scheme", "--year", "2031", data_file("worked_example_norms.csv"), indicators)
    err = capsys.readouterr().err
    assert "第 2 行" not in err
    for line, word in ((3, "9.9"), (4, "weird"), (5, "R1"), (6, "重复"), (7, "6.25")):
        assert f"第 {line} 行" in err and word in err, (line, word, err)
    assert not Scheme.objects.exists()


# --------------------------------------------------------------------------------------------
# import_scores


def test_import_scores_reports_every_bad_row_with_its_line_and_stores_nothing(tmp_path, capsys):
    import_worked_scheme_and_institution()
    InstitutionFactory(code="Z001")
    rows = [
        "2030,W001,self,B1,40,",         # 2 fine
        "2030,W001,self,B2,40.5,",       # 3 above max 40
        "2030,W001,self,B3,19.55,",      # 4 two decimals
        "2030,W001,inspection,B1,-2,",   # 5 negative
        "2030,NOPE,self,B1,10,",         # 6 unknown institution
        "2030,W001,boss,B1,10,",         # 7 unknown source
        "2030,W001,self,Q9,1,",          # 8 unknown indicator
        "2030,W001,self,R1,2,",          # 9 red line takes 1/0
        "2030,W001,self,B1,39,",         # 10 duplicates line 2
        "1999,W001,self,B1,10,",         # 11 no scheme that year
        "2030,Z001,inspection,X1,6,",    # 12 fine
    ]
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_scores", write_csv(tmp_path, "bad.csv", SCORES_HEADER, rows), "--submit")
    err = capsys.readouterr().err
    expected = {3: ["B2", "40"], 4: ["B3", "一位小数"], 5: ["B1", "0"], 6: ["NOPE"], 7: ["boss"], 8: ["Q9"],
                9: ["R1"], 10: ["第 2 行", "重复"], 11: ["1999"]}
    lines = {int(line.split(" ")[1]): line for line in err.splitlines() if line.startswith("第 ")}
    assert set(lines) == set(expected), err
    for number, words in expected.items():
        for word in words:
            assert word in lines[number], (number, word, lines[number])
    assert not SheetEntry.objects.exists() and not ScoreSheet.objects.exists() and not Assessment.objects.exists()


def test_import_scores_refuses_rows_for_a_submitted_sheet_or_a_published_year(tmp_path, capsys):
    import_worked_scheme_and_institution()
    call_command("import_scores", data_file("worked_example_scores.csv"), "--submit")
    before = list(SheetEntry.objects.order_by("pk").values_list("pk", "points", "hit", "version"))
    with pytest.raises(CommandError):
        call_command("import_scores", write_csv(tmp_path, "again.csv", SCORES_HEADER, ["2030,W001,self,B1,10,"]))
    assert "已提交" in capsys.readouterr().err
    set_year_status(WORKED_YEAR, "published")
    with pytest.raises(CommandError):
        call_command("import_scores", write_csv(tmp_path, "pub.csv", SCORES_HEADER, ["2030,W001,self,B1,10,"]))
    assert "已发布" in capsys.readouterr().err
    assert list(SheetEntry.objects.order_by("pk").values_list("pk", "points", "hit", "version")) == before


def test_import_scores_without_submit_leaves_drafts_and_updates_on_reimport(tmp_path):
    import_worked_scheme_and_institution()
    path = write_csv(tmp_path, "s.csv", SCORES_HEADER, ["2030,W001,self,B1,36.5,第一次", "2030,W001,self,R1,1,"])
    call_command("import_scores", path)
    sheet = ScoreSheet.objects.get()
    assert sheet.status == "draft" and sheet.assessment.state == "self_in_progress"
    entry = sheet.entries.get(indicator__code="B1")
    assert (entry.points, entry.note, entry.version) == (Decimal("36.5"), "第一次", 1)
    assert sheet.entries.get(indicator__code="R1").hit is True
    call_command("import_scores", write_csv(tmp_path, "s2.csv", SCORES_HEADER, ["2030,W001,self,B1,30,第二次"]))
    entry.refresh_from_db()
    assert (entry.points, entry.note, entry.version) == (Decimal("30"), "第二次", 2)


def test_import_scores_reads_xlsx_like_csv(tmp_path):
    import_worked_scheme_and_institution()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(SCORES_HEADER.split(","))
    ws.append([2030, "W001", "inspection", "B1", 36.5, "表格"])
    ws.append([2030, "W001", "inspection", "R1", 0, None])
    path = tmp_path / "scores.xlsx"
    wb.save(path)
    call_command("import_scores", str(path), "--submit")
    sheet = ScoreSheet.objects.get(source="inspection")
    assert sheet.status == "submitted"
    assert sheet.entries.get(indicator__code="B1").points == Decimal("36.5")
    assert sheet.entries.get(indicator__code="R1").hit is False


def test_import_scores_into_a_draft_scheme_is_refused(tmp_path, capsys):
    scheme = build_scheme(2031, status="draft")
    institution = InstitutionFactory(code="D001")
    fill_sheet(assessment_for(institution, build_scheme(2032)), "self", {"B1": Decimal("1")}, submit=False)
    with pytest.raises(CommandError):
        call_command("import_scores", write_csv(tmp_path, "d.csv", SCORES_HEADER, ["2031,D001,self,B1,10,"]))
    assert "尚未启用" in capsys.readouterr().err
    assert not SheetEntry.objects.filter(sheet__assessment__scheme=scheme).exists()
