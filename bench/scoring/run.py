"""Time the scoring aggregation against the floor: one hand-written SQL GROUP BY over the same entries.

    .venv/bin/python bench/scoring/run.py --database-url postgres://postgres@127.0.0.1:5432/cf_bench \
        [--repeat 3] [--label NAME] [--profile PATH]

On a database made by generate.py, each repetition times, in this order:

(a) floor   – one SQL statement grouping every entry of the year's submitted sheets per institution
              and source (sum of basic points, sum of bonus points, number of red-line hits: what
              the rules need of the sheets, ``scoring.sheet_sums``), every row fetched to the client;
(b) first   – ``scoring.services.aggregate_year(2026)`` end to end on a year without results: it
              computes and writes every result (and moves the assessments from in_review to scored);
(c) second  – the same call again on unchanged data, which must write nothing.


Between repetitions the results are deleted and the assessments put back to ``in_review``, then the
touched tables are vacuumed (untimed), so every (b) starts from the same state. One untimed floor
query runs first to warm the caches. Medians are reported, with each figure's ratio to the floor.
After the last repetition the stored results (of each variant) are checked against the floor's sums run through
``scoring.rules.compute_from_sums``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import statistics
import subprocess
import sys
import time
from decimal import Decimal

from benchlib import YEAR, database_name, setup_django

FLOOR_SQL = """
SELECT a.institution_id, s.source,
       SUM(e.points) FILTER (WHERE i.kind = 'basic') AS basic,
       SUM(e.points) FILTER (WHERE i.kind = 'bonus') AS bonus,
       COUNT(*) FILTER (WHERE i.kind = 'red_line' AND e.hit) AS red
FROM scoring_sheetentry e
JOIN scoring_scoresheet s ON s.id = e.sheet_id
JOIN scoring_assessment a ON a.id = s.assessment_id
JOIN scoring_indicator i ON i.id = e.indicator_id
WHERE a.year = %s AND s.status = 'submitted'
GROUP BY a.institution_id, s.source
"""


def run_floor() -> tuple[float, list[tuple]]:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, [YEAR])
        rows = cursor.fetchall()
    return time.perf_counter() - start, rows


def run_aggregate(profile_path: str | None = None):
    from scoring.services import aggregate_year

    profiler = cProfile.Profile() if profile_path else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    summary = aggregate_year(YEAR, bench_district())
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - start
    if profiler:
        profiler.dump_stats(profile_path)
    return elapsed, summary


def bench_district():
    from institutions.models import District

    return District.objects.get(code="331004")  # where generate.py puts every institution


def reset_results() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM scoring_result WHERE year = %s", [YEAR])
        cursor.execute("UPDATE scoring_assessment SET state = 'in_review' WHERE year = %s AND state = 'scored'",
                       [YEAR])
        cursor.execute("VACUUM (ANALYZE) scoring_result")
        cursor.execute("VACUUM (ANALYZE) scoring_assessment")


def counts() -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scoring_assessment WHERE year = %s", [YEAR])
        (institutions,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM scoring_sheetentry")
        (entries,) = cursor.fetchone()
    return institutions, entries


def verify(rows: list[tuple]) -> int:
    """Recompute every result from the floor's sums and compare with what aggregate_year stored."""
    from collections import defaultdict

    from scoring import rules
    from scoring.models import Result
    from scoring.services import scheme_for, scheme_params

    params = scheme_params(scheme_for(bench_district(), YEAR))
    sheets: dict[int, dict] = defaultdict(lambda: {"present": [], "basic": {}, "bonus": Decimal(0), "red": False})
    for institution_id, source, basic, bonus, red in rows:
        acc = sheets[institution_id]
        acc["present"].append(source)
        acc["basic"][source] = basic or Decimal(0)
        if source == "inspection":
            acc["bonus"] = bonus or Decimal(0)
        acc["red"] = acc["red"] or red > 0
    stored = {r.institution_id: r for r in Result.objects.filter(year=YEAR)}
    mismatches = 0
    for institution_id, acc in sheets.items():
        values = rules.compute_from_sums(params, acc["present"], acc["basic"], acc["bonus"], acc["red"])
        result = stored.get(institution_id)
        if result is None or (result.total, result.basic, result.bonus, result.red_line, result.colour) != (
                values.total, values.basic, values.bonus, values.red_line, values.colour):
            mismatches += 1
    return mismatches + abs(len(stored) - len(sheets))


def machine_facts() -> dict[str, str]:
    from django import get_version
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
        settings = {}
        for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    try:
        memory = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout.split("\n")[1]
        memory = memory.split()[1] + " GiB"
    except (OSError, IndexError):
        memory = "?"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "postgresql": server_version,
        "postgresql settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
        "python": platform.python_version(),
        "django": get_version(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--label", help="name of the data set in the table (default: the database name)")
    parser.add_argument("--profile", metavar="PATH", help="write a cProfile of the last first run to PATH")
    parser.add_argument("--no-verify", action="store_true", help="skip the check of the stored results")
    args = parser.parse_args(argv)
    label = args.label or database_name(args.database_url)
    setup_django(args.database_url)

    facts = machine_facts()
    for key, value in facts.items():
        print(f"{key}: {value}")
    institutions, entries = counts()
    print(f"{label}: {institutions:,} institutions, {entries:,} entries, {args.repeat} repetition(s)")

    variants = [("aggregate_year", run_aggregate)]
    run_floor()  # warm the caches, untimed
    floors: list[float] = []
    timings: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _ in variants}
    for repetition in range(1, args.repeat + 1):
        last = repetition == args.repeat
        reset_results()
        elapsed, rows = run_floor()
        floors.append(elapsed)
        print(f"  #{repetition} (load average {os.getloadavg()[0]:.2f}): floor {elapsed:.3f} s "
              f"({len(rows):,} rows)", flush=True)
        for name, job in variants:
            reset_results()
            first, summary = job(args.profile if last and name == "aggregate_year" else None)
            if summary.institutions != institutions or summary.written != institutions:
                raise SystemExit(f"{name}: first run wrote {summary.written} of {institutions} results: {summary}")
            second, again = job(None)
            if again.written or again.removed:
                raise SystemExit(f"{name}: second run was not idempotent: {again}")
            timings[name][0].append(first)
            timings[name][1].append(second)
            print(f"      {name}: first {first:.3f} s (wrote {summary.written:,}), second {second:.3f} s "
                  f"(wrote {again.written}; load average {os.getloadavg()[0]:.2f})", flush=True)
            if last and not args.no_verify:
                mismatches = verify(rows)
                print(f"      verify {name}: {mismatches} result(s) differ from the floor's sums")
                if mismatches:
                    raise SystemExit(1)

    floor = statistics.median(floors)
    print()
    print("| data set | institutions | entries | floor: SQL GROUP BY (s) | aggregation | first run (s) | × floor "
          "| second run, idempotent (s) | × floor |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for name, (firsts, seconds) in timings.items():
        first, second = statistics.median(firsts), statistics.median(seconds)
        print(f"| {label} | {institutions:,} | {entries:,} | {floor:.3f} | {name} | {first:.3f} | "
              f"{first / floor:.2f} | {second:.3f} | {second / floor:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
