"""Time every dashboard data endpoint on the province data set, cold (empty cache) and warm.

    REDIS_URL=redis://127.0.0.1:6379/8 .venv/bin/python bench/dashboards/run.py \
        --database-url postgres://postgres@127.0.0.1:5432/cf_bench_dashboards [--repeat 5]

Requests go through Django's full stack in process (middleware, authentication, the view, JSON
rendering): the server's time, without the network. For each endpoint: "cold" is the median of
`--repeat` requests each made right after clearing the cache (what the first reader after an
aggregation or a publish waits when the cache was not warmed), "warm" the median of `--repeat`
requests served from the cache; plus the number of SQL queries of a cold request. The cache is
Django's configured one (Redis when REDIS_URL is set, as in production).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))

from benchlib import database_name, setup_django

YEAR = 2026
GOAL_MS = 300


def endpoints(institution_code: str) -> list[tuple[str, str]]:
    district = f"?district=331004&year={YEAR}"
    out = [(f"district {name}", f"/api/v1/dashboards/district/{name}/{district}")
           for name in ("colours", "ranking", "distribution", "items", "trend", "complaints", "satisfaction",
                        "violations", "acknowledgements")]
    out += [("district rows: colours=red", f"/api/v1/dashboards/district/rows/colours/{district}&key=red"),
            ("district rows: item 3", f"/api/v1/dashboards/district/rows/items/{district}&key=3"),
            ("district rows: complaints March", f"/api/v1/dashboards/district/rows/complaints/{district}&key=3"),
            ("district rows: acknowledgements", f"/api/v1/dashboards/district/rows/acknowledgements/{district}")]
    out += [(f"institution {name}", f"/api/v1/dashboards/institutions/{institution_code}/{name}/?year={YEAR}")
            for name in ("history", "items", "complaints", "employees")]
    out += [("city league", f"/api/v1/dashboards/city/league/?year={YEAR}"),
            ("city trend", f"/api/v1/dashboards/city/trend/?year={YEAR}")]
    return out


# How each endpoint is served: "results" figures are cached until the results change (the cold column
# is the first reader after the cache was cleared), "live" ones are computed on every request.
LIVE = ("district complaints", "district satisfaction", "district violations", "district acknowledgements",
        "district rows: complaints March", "district rows: acknowledgements", "institution complaints",
        "institution employees")


def served(label: str) -> str:
    if label in LIVE:
        return "live (never cached)"
    if label.startswith("city"):
        return "results version + day"
    return "results version"


def timed(client, path: str) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code} {response.content[:300]!r}")
    return elapsed, len(queries)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    database_name(args.database_url)
    setup_django(args.database_url)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    from institutions.models import District, Institution
    from institutions.services import grant_role

    settings.ALLOWED_HOSTS = ["testserver"]
    User = get_user_model()
    finance, _ = User.objects.get_or_create(username="bench-finance")
    grant_role(finance, "finance_center", District.objects.get(code="331004"))
    city, _ = User.objects.get_or_create(username="bench-city")
    grant_role(city, "city", District.objects.get(code="3310"))
    clients = {}
    for name, user in (("finance", finance), ("city", city)):
        clients[name] = Client()
        clients[name].force_login(user)
    institution = Institution.objects.order_by("code").first()
    print(f"cache: {settings.CACHES['default']['BACKEND']}; {Institution.objects.count():,} institutions; "
          f"{args.repeat} repetitions (medians)")
    print("| endpoint | served | queries | cold ms | warm ms |\n|---|---|---:|---:|---:|")
    worst_cold = worst_warm = 0.0
    for label, path in endpoints(institution.code):
        client = clients["city" if label.startswith("city") else "finance"]
        timed(client, path)  # warm PostgreSQL's buffers, untimed
        colds, warms, queries = [], [], 0
        for _ in range(args.repeat):
            cache.clear()
            elapsed, queries = timed(client, path)
            colds.append(elapsed)
        for _ in range(args.repeat):
            warms.append(timed(client, path)[0])
        cold, warm = statistics.median(colds), statistics.median(warms)
        worst_cold, worst_warm = max(worst_cold, cold), max(worst_warm, warm)
        print(f"| {label} | {served(label)} | {queries} | {cold:.0f} | {warm:.1f} |", flush=True)
    print(f"worst cold {worst_cold:.0f} ms, worst warm {worst_warm:.1f} ms (goal {GOAL_MS} ms)")


if __name__ == "__main__":
    main()
