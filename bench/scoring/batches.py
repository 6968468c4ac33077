"""Where a single process's first run goes, batch by batch (issue 16: one worker of one process).

    .venv/bin/python bench/scoring/generate.py --size province --institutions 20000 --districts 350 \
        --database-url postgres://postgres@127.0.0.1:5432/cf_bench_mid
    .venv/bin/python bench/scoring/batches.py --repeat 3 \
        --database-url postgres://postgres@127.0.0.1:5432/cf_bench_mid

Each repetition deletes the year's results (as run.py's reset does), makes the batches exactly as
`scoring.services.start_year_aggregation(2026)` hands them to Celery (its queueing captured, not
published), then runs each batch in this process in turn with `scoring.services.execute_runs`, as a
worker's task body does. For each batch it records the wall time, this process's CPU time (both of
its threads: the rules and the thread writing alongside, `core.overlap`) and the CPU time of the
PostgreSQL backend serving it (read from /proc: the database must run on this machine). The first
batch of each repetition is left out (caches, plans), and so is the second of the first.

Printed: the medians of the three per batch, and the bound they set on a single process: a batch
cannot take less than the larger of the two CPU times, however well its Python and its server work
overlap; with `--floor`, also the SQL floor of run.py against the whole run's time in batches.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from benchlib import YEAR, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="postgres://…/cf_bench… (made by generate.py)")
    parser.add_argument("--repeat", type=int, default=3, help="whole first runs, one after the other")
    parser.add_argument("--floor", action="store_true", help="also time run.py's SQL floor, three times")
    args = parser.parse_args()
    # Without a broker the portal runs tasks in process, at once: the batches must only be captured.
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")
    setup_django(args.database_url)

    from unittest import mock

    from django.db import connection
    from run import reset_results, run_floor

    from scoring import services

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    ticks = os.sysconf("SC_CLK_TCK")

    def backend_cpu() -> float:
        with open(f"/proc/{backend}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    walls, cpus, servers, totals = [], [], [], []
    for repetition in range(args.repeat):
        reset_results()
        queued: list = []
        with mock.patch.object(services, "enqueue_after_commit", lambda task, *a, into=queued: into.append((task, a))):
            services.start_year_aggregation(YEAR)
        batches = [a for task, a in queued if task.name == "scoring.aggregate_districts"]
        total = 0.0
        for number, (run_ids, institutions) in enumerate(batches):
            start, cpu, server = time.perf_counter(), time.process_time(), backend_cpu()
            services.execute_runs(run_ids, institutions)
            wall = time.perf_counter() - start
            total += wall
            if number >= (2 if repetition == 0 else 1):
                walls.append(wall)
                cpus.append(time.process_time() - cpu)
                servers.append(backend_cpu() - server)
        totals.append(total)
        print(f"run {repetition + 1}: {len(batches)} batches in {total:.2f} s", flush=True)

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms"

    print(f"per batch (median of {len(walls)}): wall {ms(walls)}, this process's CPU {ms(cpus)}, "
          f"the backend's CPU {ms(servers)}")
    bound = max(statistics.median(cpus), statistics.median(servers))
    print(f"a batch cannot take less than {bound * 1000:.0f} ms in one process: the wall time is "
          f"{statistics.median(walls) / bound:.2f}× that bound")
    if args.floor:
        floors = [run_floor()[0] for _ in range(3)]
        floor = statistics.median(floors)
        run = statistics.median(totals)
        print(f"SQL floor {floor:.2f} s (median of {', '.join(f'{f:.2f}' for f in floors)}); a whole run in "
              f"batches {run:.2f} s = {run / floor:.2f}× the floor (no Celery)")


if __name__ == "__main__":
    main()
