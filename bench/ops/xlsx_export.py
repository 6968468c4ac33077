"""The scores' xlsx writer before and after issue 16 (ws.max_row read twice per row made it quadratic),
timed in one run on the same rows:  .venv/bin/python bench/ops/xlsx_export.py [1000 5000]"""

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django

django.setup()
from decimal import Decimal  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from openpyxl import Workbook  # noqa: E402
from openpyxl.styles import PatternFill  # noqa: E402

from core.exports import append_row  # noqa: E402
from scoring import exports  # noqa: E402


def rows(n):
    return [SimpleNamespace(rank=i, category_rank=i, total=Decimal("90.5"), basic=Decimal("80"), bonus=Decimal("12"),
            deduction=Decimal("1.5"), red_line=False, colour=("green","blue","yellow","red")[i % 4], status="published",
            sources=["self"], fiscal_tender="eligible",
            institution=SimpleNamespace(code=f"I{i:05d}", name=f"机构{i}", get_category_display=lambda: "银行"))
            for i in range(1, n + 1)]

def old(results, year=2026):  # the previous writer: ws.max_row read twice per row
    wb = Workbook()
    ws = wb.active
    append_row(ws, exports.HEADERS)
    col = exports.HEADERS.index("颜色") + 1
    for result, row in zip(results, exports.result_rows(results), strict=True):
        append_row(ws, row)
        fill = PatternFill("solid", fgColor=exports.FILLS[result.colour])
        for c in (col, exports.HEADERS.index("总分") + 1):
            ws.cell(row=ws.max_row, column=c).fill = fill
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

for n in [int(a) for a in sys.argv[1:]] or (1000, 5000):
    data = rows(n)
    t = time.perf_counter()
    old(data)
    t_old = time.perf_counter() - t
    t = time.perf_counter()
    exports.results_xlsx(data, 2026)
    t_new = time.perf_counter() - t
    print(f"{n} rows: before {t_old:.2f} s, after {t_new:.2f} s, ratio {t_old / t_new:.1f}x")
