"""The complaint statistics' xlsx writer (`complaints.exports.statistics_file`) at a province's size,
timed on generated figures (no database):  .venv/bin/python bench/ops/stats_export.py [1000 5000]
Run it on two commits to compare writers; the selectors' SQL is not included."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django

django.setup()
from complaints import exports  # noqa: E402
from complaints.selectors import Statistics  # noqa: E402


def figures(n):
    rows = [{"institution_id": i, "institution__code": f"I{i:05d}", "institution__name": f"institution {i}",
             "total": 40, "ratings": 20, "suggestions": 5, "complaints": 10, "reports": 5, "substantiated": 3,
             "partially": 2, "unsubstantiated": 5, "substantiation_rate": 50.0, "avg_rating": 4.25}
            for i in range(n)]
    month = {m: {"rated": 10, "satisfied": 8, "rate": 80.0} for m in range(1, 13)}
    stats = Statistics(year=2026, total=40 * n, by_kind={}, by_month={m: 3 * n for m in range(1, 13)}, by_outcome={},
                       by_institution=rows, concluded=0, substantiation_rate=None, average_handling_days=None,
                       on_time=0, on_time_rate=None, satisfaction_by_month=month)
    satisfaction = {(i, m): {"rated": 2, "satisfied": 1, "rate": 50.0} for i in range(n) for m in range(1, 13)}
    names = {i: (f"I{i:05d}", f"institution {i}") for i in range(n)}
    return stats, satisfaction, names


for n in [int(a) for a in sys.argv[1:]] or (1000, 5000):
    stats, satisfaction, names = figures(n)
    t = time.perf_counter()
    content, _type = exports.statistics_file(stats, "xlsx", satisfaction, names)
    print(f"{n} institutions: {time.perf_counter() - t:.2f} s, {len(content) // 1024} KB")
