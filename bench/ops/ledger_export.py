"""The activity ledger's xlsx writer before and after issue 16 #7 (in-request workbook with every cell
kept, `get_category_display` per row → write-only workbook, labels once), timed in one run on the
same generated rows:  .venv/bin/python bench/ops/ledger_export.py [2000 8000]"""

import datetime as dt
import io
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django

django.setup()
from openpyxl import Workbook  # noqa: E402

from activities import exports  # noqa: E402
from activities.models import ActivityKind, KindCategory  # noqa: E402
from core.exports import append_row  # noqa: E402


def rows(n):
    kinds = [ActivityKind(name=f"kind{i}", category=c) for i, c in enumerate(KindCategory.values)]
    clauses = [SimpleNamespace(number=f"{i}.1") for i in range(1, 4)]
    district = SimpleNamespace(name="district")
    return [SimpleNamespace(
        institution=SimpleNamespace(code=f"I{i:05d}", name=f"institution {i}", district=district),
        held_on=dt.date(2026, 1 + i % 12, 1 + i % 28), kind=kinds[i % len(kinds)], title=f"activity {i}",
        place="hall", organiser="office", participant_count=i % 90, clauses=SimpleNamespace(all=lambda: clauses),
        files_count=i % 4, description="description " * 10) for i in range(n)]


def old(activities):  # the previous view's writer
    wb = Workbook()
    ws = wb.active
    append_row(ws, [str(h) for h in exports.HEADERS])
    for a in activities:
        append_row(ws, [a.institution.code, a.institution.name, a.institution.district.name, a.held_on, a.kind.name,
                        a.kind.get_category_display(), a.title, a.place, a.organiser, a.participant_count,
                        "、".join(f"{c.number}" for c in a.clauses.all()), a.files_count, a.description])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


for n in [int(a) for a in sys.argv[1:]] or (2000, 8000):
    data = rows(n)
    t = time.perf_counter()
    old(data)
    t_old = time.perf_counter() - t
    t = time.perf_counter()
    exports.ledger_xlsx(data)
    t_new = time.perf_counter() - t
    print(f"{n} rows: before {t_old:.2f} s, after {t_new:.2f} s, ratio {t_old / t_new:.1f}x")
