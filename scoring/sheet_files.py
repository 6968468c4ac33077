"""一机构一表 offline: an institution's sheet as an xlsx template, and the filled file read back."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from core.exports import append_row, unquote
from core.tabular import load_dataset

from .models import Assessment, IndicatorKind, Source

TEMPLATE_COLUMNS = ("indicator_code", "item", "clause", "title", "kind", "max_points", "value", "note")
HEADER_LABELS = ("指标编码", "项目", "条款", "指标", "类型", "满分", "填报值", "说明")
KIND_LABELS = {IndicatorKind.BASIC: "基础项", IndicatorKind.BONUS: "加分项",
               IndicatorKind.RED_LINE: "红线项（1=触碰，0=未触碰）"}


def template_xlsx(assessment: Assessment, source: str, indicators) -> bytes:
    """`indicators` from selectors.indicators_with_entries: current values are pre-filled."""
    wb = Workbook()
    ws = wb.active
    ws.title = "测评表"
    append_row(ws, TEMPLATE_COLUMNS)
    append_row(ws, HEADER_LABELS)
    for cell in ws[1]:
        cell.font = Font(color="888888", size=8)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")
    for indicator in indicators:
        entry = indicator.by_source.get(source)
        value = None
        if entry is not None:
            if indicator.kind == IndicatorKind.RED_LINE:
                value = int(entry.hit) if entry.hit is not None else None
            else:
                value = entry.points
        clause = indicator.clause
        append_row(ws, [
            indicator.code, f"{clause.item.number}. {clause.item.title}" if clause else "",
            f"{clause.number} {clause.title}" if clause else "", indicator.title, KIND_LABELS[indicator.kind],
            indicator.max_points, value, entry.note if entry else "",
        ])
    red = DataValidation(type="list", formula1='"0,1"', allow_blank=True)
    ws.add_data_validation(red)
    for row in range(3, ws.max_row + 1):
        if ws.cell(row=row, column=5).value == KIND_LABELS[IndicatorKind.RED_LINE]:
            red.add(ws.cell(row=row, column=7))
        ws.cell(row=row, column=7).fill = PatternFill("solid", fgColor="FFF9C4")
        ws.cell(row=row, column=4).alignment = Alignment(wrap_text=True)
    for col, width in zip("ABCDEFGH", (10, 18, 30, 44, 12, 8, 10, 30), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    info = wb.create_sheet("说明")
    append_row(info, [f"{assessment.institution.name} {assessment.year} 年度 {Source(source).label}"])
    append_row(info, ["在“填报值”列填写得分（最多一位小数，不超过满分）；红线项填 1（触碰）或 0（未触碰）。"])
    append_row(info, ["请勿修改第 1 行和“指标编码”列；保存后在平台“上传填好的表”处上传，全部校验通过才会保存。"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_filled(data: bytes, filename: str) -> list[tuple[int, str, object, str]]:
    """(line, indicator code, raw value, note) for each row with a value; raises TabularError."""
    dataset = load_dataset(data, filename, required=("indicator_code", "value"))
    rows = []
    for line, row in enumerate(dataset.dict, 2):
        code = str(row.get("indicator_code", "")).strip()
        if code == HEADER_LABELS[0] or not code:
            continue
        value = row.get("value", "")
        if value in ("", None):
            continue
        rows.append((line, code, value, unquote(str(row.get("note", "") or "").strip())))
    return rows
