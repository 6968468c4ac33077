"""一机构一表 offline: an institution's sheet as an xlsx template, and the filled file read back."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from core.exports import append_row, unquote
from core.tabular import load_dataset

from .models import Assessment, IndicatorKind, Source

# Row 1 holds the column keys the upload is read by; row 2 the labels people read, in the language of
# the download (read_filled skips that row in any language).
TEMPLATE_COLUMNS = ("indicator_code", "item", "clause", "title", "kind", "max_points", "value", "note")
HEADER_LABELS = (gettext_lazy("指标编码"), gettext_lazy("项目"), gettext_lazy("条款"), gettext_lazy("指标"),
                 gettext_lazy("类型"), gettext_lazy("满分"), gettext_lazy("填报值"), gettext_lazy("说明"))
KIND_LABELS = {IndicatorKind.BASIC: gettext_lazy("基础项"), IndicatorKind.BONUS: gettext_lazy("加分项"),
               IndicatorKind.RED_LINE: gettext_lazy("红线项（1=触碰，0=未触碰）")}


def _code_labels() -> set[str]:
    """The label row's first cell in every language the portal speaks."""
    labels = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            labels.add(str(HEADER_LABELS[0]))
    return labels


def template_xlsx(assessment: Assessment, source: str, indicators) -> bytes:
    """`indicators` from selectors.indicators_with_entries: current values are pre-filled."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("测评表")
    append_row(ws, TEMPLATE_COLUMNS)
    append_row(ws, [str(label) for label in HEADER_LABELS])
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
            f"{clause.number} {clause.title}" if clause else "", indicator.title, str(KIND_LABELS[indicator.kind]),
            indicator.max_points, value, entry.note if entry else "",
        ])
    red = DataValidation(type="list", formula1='"0,1"', allow_blank=True)
    ws.add_data_validation(red)
    for row in range(3, ws.max_row + 1):
        if ws.cell(row=row, column=5).value == str(KIND_LABELS[IndicatorKind.RED_LINE]):
            red.add(ws.cell(row=row, column=7))
        ws.cell(row=row, column=7).fill = PatternFill("solid", fgColor="FFF9C4")
        ws.cell(row=row, column=4).alignment = Alignment(wrap_text=True)
    for col, width in zip("ABCDEFGH", (10, 18, 30, 44, 12, 8, 10, 30), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    info = wb.create_sheet(_("说明"))
    append_row(info, [_("%(institution)s %(year)s 年度 %(source)s") % {
        "institution": assessment.institution.name, "year": assessment.year, "source": Source(source).label}])
    append_row(info, [_("在“填报值”列填写得分（最多一位小数，不超过满分）；红线项填 1（触碰）或 0（未触碰）。")])
    append_row(info, [_("请勿修改第 1 行和“指标编码”列；保存后在平台“上传填好的表”处上传，全部校验通过才会保存。")])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_filled(data: bytes, filename: str) -> list[tuple[int, str, object, str]]:
    """(line, indicator code, raw value, note) for each row with a value; raises TabularError."""
    dataset = load_dataset(data, filename, required=("indicator_code", "value"))
    rows = []
    labels = _code_labels()
    for line, row in enumerate(dataset.dict, 2):
        code = str(row.get("indicator_code", "")).strip()
        if code in labels or not code:
            continue
        value = row.get("value", "")
        if value in ("", None):
            continue
        rows.append((line, code, value, unquote(str(row.get("note", "") or "").strip())))
    return rows
