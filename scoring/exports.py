"""The year's results as xlsx (colour-filled cells) or csv."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from core.exports import append_row, csv_writer

from .models import Colour, Result, Source

# Exported for people, never read back: translated when written (str() of each lazy header).
HEADERS = [gettext_lazy("排名"), gettext_lazy("类别内排名"), gettext_lazy("机构编码"), gettext_lazy("机构名称"),
           gettext_lazy("类别"), gettext_lazy("基础分"), gettext_lazy("加分"), gettext_lazy("扣分"),
           gettext_lazy("总分"), gettext_lazy("红线"), gettext_lazy("颜色"), gettext_lazy("状态"),
           gettext_lazy("有效来源"), gettext_lazy("财政性资金招投标")]
TOTAL_COLUMN, COLOUR_COLUMN = 9, 11  # 1-based: 总分, 颜色
FILLS = {"green": "C8E6C9", "blue": "BBDEFB", "yellow": "FFF59D", "red": "FFCDD2"}
LINKAGE_LABELS = {"priority": gettext_lazy("优先"), "eligible": gettext_lazy("正常"),
                  "restricted": gettext_lazy("限制"), "excluded": gettext_lazy("禁入")}


def result_rows(results) -> list[list]:
    rows = []
    for r in results:
        rows.append([
            r.rank, r.category_rank, r.institution.code, r.institution.name, r.institution.get_category_display(),
            r.basic, r.bonus, r.deduction, r.total, _("是") if r.red_line else _("否"), str(Colour(r.colour).label),
            str(Result.Status(r.status).label), "、".join(str(Source(s).label) for s in r.sources),
            str(LINKAGE_LABELS.get(r.fiscal_tender, r.fiscal_tender)),
        ])
    return rows


def results_csv(results) -> bytes:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow([str(h) for h in HEADERS])
    writer.writerows(result_rows(results))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def results_xlsx(results, year: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("%(year)s年度清廉积分") % {"year": year}
    append_row(ws, [str(h) for h in HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    filled = (COLOUR_COLUMN, TOTAL_COLUMN)
    fills = {colour: PatternFill("solid", fgColor=rgb) for colour, rgb in FILLS.items()}
    # The row number is counted, never read back: `ws.max_row` scans every cell written so far, which
    # made the export quadratic (9 s for a province's 5,000 rows; issue 16).
    for row_number, (result, row) in enumerate(zip(results, result_rows(results), strict=True), start=2):
        append_row(ws, row)
        for col in filled:
            ws.cell(row=row_number, column=col).fill = fills[result.colour]
    for col, width in zip("ABCDEFGHIJKLMN", (6, 8, 10, 30, 8, 8, 6, 6, 8, 6, 6, 8, 24, 14), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
