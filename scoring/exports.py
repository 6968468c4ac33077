"""The year's results as xlsx (colour-filled cells) or csv."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from core.exports import append_row, csv_writer

from .models import Colour, Result, Source

HEADERS = ["排名", "类别内排名", "机构编码", "机构名称", "类别", "基础分", "加分", "扣分", "总分", "红线", "颜色",
           "状态", "有效来源", "财政性资金招投标"]
FILLS = {"green": "C8E6C9", "blue": "BBDEFB", "yellow": "FFF59D", "red": "FFCDD2"}
LINKAGE_LABELS = {"priority": "优先", "eligible": "正常", "restricted": "限制", "excluded": "禁入"}


def result_rows(results) -> list[list]:
    rows = []
    for r in results:
        rows.append([
            r.rank, r.category_rank, r.institution.code, r.institution.name, r.institution.get_category_display(),
            r.basic, r.bonus, r.deduction, r.total, "是" if r.red_line else "否", str(Colour(r.colour).label),
            str(Result.Status(r.status).label), "、".join(str(Source(s).label) for s in r.sources),
            LINKAGE_LABELS.get(r.fiscal_tender, r.fiscal_tender),
        ])
    return rows


def results_csv(results) -> bytes:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(result_rows(results))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def results_xlsx(results, year: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年度清廉积分"
    append_row(ws, HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    filled = (HEADERS.index("颜色") + 1, HEADERS.index("总分") + 1)
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
