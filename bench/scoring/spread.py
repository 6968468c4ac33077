"""The year's aggregation spread over Celery workers (issue 16), against the SQL floor.

    .venv/bin/python bench/scoring/generate.py --size nation --districts 3000 \
        --database-url postgres://postgres@127.0.0.1:5432/cf_bench_spread
    .venv/bin/python bench/scoring/spread.py --workers 1 2 --changed 100 \
        --database-url postgres://postgres@127.0.0.1:5432/cf_bench_spread --broker redis://127.0.0.1:6379/9

For each number of workers (``--workers 1 2``), in one run and in this order:

(a) floor   – the SQL floor of run.py: one statement grouping every entry of the year's submitted
              sheets per institution and source, all rows fetched (it runs on an idle machine,
              before the workers start);
(b) first   – `scoring.services.start_year_aggregation(2026)` on a year without results (every
              result deleted, every assessment back to ``in_review``, every district-year never
              aggregated, then a CHECKPOINT; the sheets' sums, stored at submission, are inputs and
              stay): one run per
              district, handed out as Celery tasks of whole districts of about
              SCORING_SPREAD_TASK_INSTITUTIONS institutions (default 2,000), run by N workers
              (``celery worker --concurrency 1`` each, or ``--concurrency``: deploy/ runs 2; the portal's
              settings, DEBUG off), timed from the call until the last district's run finished (its
              ``finished_at``); every stored result is then checked against the floor's sums run
              through the rules;
(c) changed – one basic entry of one institution in each of ``--changed`` districts changed (as a
              save does: new points, ``updated_at`` now), then
              `start_year_aggregation(2026, only_changed=True)` timed the same way; it must start
              exactly those districts, and each must write exactly one changed result.

With ``--repeat R`` each number of workers is measured R times, each time with its own floor (the floor
moves by a third between runs on a machine whose page cache does not hold the data set), every result
verified on the last; the medians of the first runs' ratios and of the re-aggregations are printed after
the table of every measurement.

The closing step (`scoring.finish_year_aggregation`) polls every SCORING_SPREAD_POLL_SECONDS and
is not part of the timing; the dashboards' cache warm-ups the runs queue come after every district
in the queue and are purged between measurements. The workers' logs show how many districts each
took. Only databases named ``cf_bench*`` are touched; the broker's database is flushed of the
bench's queue only.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO, YEAR, database_name, setup_django
from run import counts, run_floor, verify

QUEUE = "bench-spread"


def reset_year() -> None:
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM scoring_result WHERE year = %s", [YEAR])
        cursor.execute("DELETE FROM scoring_aggregationrun WHERE year = %s", [YEAR])
        cursor.execute("UPDATE scoring_assessment SET state = 'in_review' WHERE year = %s AND state = 'scored'",
                       [YEAR])
        cursor.execute("UPDATE scoring_districtyear SET aggregated_at = NULL WHERE year = %s", [YEAR])
        for table in ("scoring_result", "scoring_assessment", "scoring_aggregationrun", "scoring_districtyear"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        # The deletes' and the previous run's dirty pages written out now, so that a checkpoint the
        # server would otherwise request half-way through the timed run (1 GB of WAL at the default
        # max_wal_size) does not land in one measurement and not in the next. Superuser only.
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError as exc:  # a bench without the right keeps going
            print(f"  (no CHECKPOINT before the run: {exc})".rstrip())


def worker_env(url: str, broker: str, cache: str) -> dict:
    from cryptography.fernet import Fernet

    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": broker, "REDIS_URL": cache,
           "CELERY_TASK_DEFAULT_QUEUE": QUEUE, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "false",
           "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "COMPLAINTS_PII_KEY": Fernet.generate_key().decode(),
           "DJANGO_ALLOWED_HOSTS": "localhost",
           # As deploy/portal.env.example runs every process: a worker keeps its database connection
           # between tasks (with 0 each batch opened a new one and paid the server's cold caches again).
           "DATABASE_CONN_MAX_AGE": "60"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def start_workers(count: int, env: dict, folder: Path, concurrency: int = 1) -> list[tuple[subprocess.Popen, Path]]:
    workers = []
    for i in range(1, count + 1):
        log = folder / f"worker{i}.log"
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-Q", QUEUE, "-n",
             f"bench{i}@%h", "--concurrency", str(concurrency), "--prefetch-multiplier", "1", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        workers.append((proc, log))
    deadline = time.monotonic() + 180
    for proc, log in workers:
        while " ready." not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
    return workers


def stop_workers(workers, broker: str) -> None:
    import redis

    redis.Redis.from_url(broker).delete(QUEUE)
    for proc, _ in workers:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc, _ in workers:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def purge(broker: str) -> None:
    import redis

    redis.Redis.from_url(broker).delete(QUEUE)


def taken(workers) -> list[int]:
    """Districts each worker aggregated, from its log: `Task scoring.aggregate_districts[…] succeeded in …:
    {'runs': [1, 2, …], …}`."""
    counts = []
    for _, log in workers:
        found = re.findall(r"Task scoring\.aggregate_districts\[[^\]]+\] succeeded in [^:]+: \{'runs': \[([^\]]*)\]",
                           log.read_text())
        counts.append(sum(len(runs.split(",")) for runs in found))
    return counts


def timed_spread(only_changed: bool) -> tuple[float, list[int]]:
    """Start the year's spread aggregation; seconds until its last district's run finished."""
    from django.db import transaction
    from django.db.models import Max
    from django.utils import timezone

    from scoring import services
    from scoring.models import AggregationRun

    started = timezone.now()
    with transaction.atomic():  # the tasks are published when this commits
        runs = services.start_year_aggregation(YEAR, only_changed=only_changed)
    ids = [run.pk for run in runs]
    pending = AggregationRun.objects.filter(pk__in=ids).exclude(status=AggregationRun.Status.SUCCEEDED)
    while pending.exists():
        if pending.filter(status=AggregationRun.Status.FAILED).exists():
            failed = pending.filter(status=AggregationRun.Status.FAILED).first()
            raise SystemExit(f"run {failed.pk} failed: {failed.error}")
        time.sleep(0.05)
    finished = AggregationRun.objects.filter(pk__in=ids).aggregate(last=Max("finished_at"))["last"]
    return (finished - started).total_seconds(), ids


def change_entries(districts: int) -> list[int]:
    """One basic entry of one institution in each of `districts` districts spread over all of them,
    changed as a save would (new points within the maximum, updated_at now). Returns the institutions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "WITH d AS (SELECT district_id, row_number() OVER (ORDER BY district_id) AS n, count(*) OVER () AS total"
            "           FROM scoring_districtyear WHERE year = %s),"
            " picked AS (SELECT district_id FROM d WHERE (n - 1) %% greatest(total / %s, 1) = 0 LIMIT %s),"
            " inst AS (SELECT DISTINCT ON (i.district_id) i.id FROM institutions_institution i"
            "          JOIN picked p ON p.district_id = i.district_id ORDER BY i.district_id, i.id),"
            " entry AS (SELECT DISTINCT ON (a.institution_id) e.id FROM scoring_sheetentry e"
            "           JOIN scoring_scoresheet s ON s.id = e.sheet_id AND s.source = 'self'"
            "           JOIN scoring_assessment a ON a.id = s.assessment_id AND a.year = %s"
            "           JOIN inst ON inst.id = a.institution_id"
            "           JOIN scoring_indicator ind ON ind.id = e.indicator_id AND ind.kind = 'basic'"
            "           ORDER BY a.institution_id, e.id)"
            " UPDATE scoring_sheetentry e SET points = CASE WHEN e.points >= 1 THEN e.points - 1"
            "        ELSE e.points + 0.5 END, version = e.version + 1, updated_at = now()"
            " FROM entry, scoring_indicator ind WHERE e.id = entry.id AND ind.id = e.indicator_id"
            "   AND (e.points >= 1 OR e.points + 0.5 <= ind.max_points)"
            " RETURNING (SELECT a.institution_id FROM scoring_scoresheet s JOIN scoring_assessment a"
            "            ON a.id = s.assessment_id WHERE s.id = e.sheet_id)",
            [YEAR, districts, districts, YEAR])
        return [row[0] for row in cursor.fetchall()]


def measure(args, count: int, env: dict, institutions: int, verify_now: bool, label: str):
    """One measurement of `count` workers: floor, first run (verified when `verify_now`), changed
    entries, re-aggregation. Returns (floor, first, districts per worker, changed institutions,
    changed districts, re-aggregation seconds)."""
    from django.db import connection

    from scoring.models import AggregationRun, Result

    reset_year()
    purge(args.broker)
    connection.close()
    load = os.getloadavg()[0]
    floor, rows = run_floor()
    print(f"[{count} worker(s) × {args.concurrency} process(es)]{' ' + label if label else ''} floor {floor:.3f} s "
          f"({len(rows):,} rows; load average {load:.2f})", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-spread-") as folder:
        workers = start_workers(count, env, Path(folder), args.concurrency)
        try:
            load = os.getloadavg()[0]
            first, started = timed_spread(only_changed=False)
            started = len(started)
            per_worker = taken(workers)
            print(f"    first run: {first:.3f} s, {started:,} district tasks ({first / floor:.2f}× floor; "
                  f"districts per worker {per_worker}; load average {load:.2f} → {os.getloadavg()[0]:.2f})",
                  flush=True)
            if Result.objects.filter(year=YEAR).count() != institutions:
                raise SystemExit("not every institution has a result")
            if verify_now:
                mismatches = verify(rows)
                print(f"    verify: {mismatches} result(s) differ from the floor's sums", flush=True)
                if mismatches:
                    raise SystemExit(1)
            purge(args.broker)  # the cache warm-ups queued behind the districts
            time.sleep(2)
            changed = change_entries(args.changed)
            changed_districts = len(set(Result.objects.filter(year=YEAR, institution_id__in=changed)
                                        .values_list("district_id", flat=True)))
            load = os.getloadavg()[0]
            again, rerun = timed_spread(only_changed=True)
            restarted = len(rerun)
            written = sum(AggregationRun.objects.filter(pk__in=rerun).values_list("results_written", flat=True))
            print(f"    re-aggregation after {len(changed)} institutions in {changed_districts} districts changed: "
                  f"{again:.3f} s, {restarted} district tasks, {written} results rewritten "
                  f"(load average {load:.2f} → {os.getloadavg()[0]:.2f})", flush=True)
            if restarted != changed_districts:
                raise SystemExit(f"re-aggregation started {restarted} districts, {changed_districts} changed")
            if verify_now:
                from scoring import services

                redone = sorted(set(AggregationRun.objects.filter(pk__in=rerun).values_list("district_id",
                                                                                           flat=True)))
                summaries = services.aggregate_districts(YEAR, redone)  # whole districts, in process
                differ = sum(summary.changed for summary in summaries.values())
                print(f"    verify: a whole run of those {len(redone)} districts rewrites {differ} result(s)",
                      flush=True)
                if differ:
                    raise SystemExit(1)
        finally:
            stop_workers(workers, args.broker)
    return floor, first, per_worker, changed, changed_districts, again


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--broker", required=True, help="redis://…/N: the Celery broker (its bench queue is purged)")
    parser.add_argument("--cache", help="redis://…/N for the portal's cache (default: the broker's server, db+1)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--changed", type=int, default=100, help="districts changed before the re-aggregation")
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measurements of each number of workers (each with its own floor; medians printed)")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="worker processes of each worker (celery --concurrency; deploy/ runs 2)")
    args = parser.parse_args(argv)
    database_name(args.database_url)
    cache = args.cache or args.broker.rsplit("/", 1)[0] + "/" + str(int(args.broker.rsplit("/", 1)[1] or 0) + 1)
    os.environ.update({"CELERY_BROKER_URL": args.broker, "REDIS_URL": cache, "CELERY_TASK_DEFAULT_QUEUE": QUEUE})
    setup_django(args.database_url)


    from scoring.models import DistrictYear

    institutions, entries = counts()
    districts = DistrictYear.objects.filter(year=YEAR).count()
    print(f"{database_name(args.database_url)}: {institutions:,} institutions in {districts:,} districts, "
          f"{entries:,} entries; nproc {os.cpu_count()}")
    env = worker_env(args.database_url, args.broker, cache)
    run_floor()  # warm the caches, untimed
    lines = []
    summary = []
    for count in args.workers:
        ratios, seconds, agains = [], [], []
        for repetition in range(1, args.repeat + 1):
            verify_now = not args.no_verify and repetition == args.repeat
            floor, first, per_worker, changed, changed_districts, again = measure(
                args, count, env, institutions, verify_now, f"#{repetition}" if args.repeat > 1 else "")
            ratios.append(first / floor)
            seconds.append(first)
            agains.append(again)
            lines.append(f"| {count} | {args.concurrency} | {institutions:,} | {districts:,} | {entries:,} | "
                         f"{floor:.2f} | {first:.2f} | {first / floor:.2f} | {' / '.join(map(str, per_worker))} | "
                         f"{len(changed)} in {changed_districts} | {again:.2f} |")
        if args.repeat > 1:
            summary.append(f"| {count} | {args.concurrency} | {args.repeat} | {statistics.median(seconds):.2f} | "
                           f"**{statistics.median(ratios):.2f}** ({min(ratios):.2f}–{max(ratios):.2f}) | "
                           f"**{statistics.median(agains):.2f}** ({min(agains):.2f}–{max(agains):.2f}) |")
    print()
    print("| workers | processes each | institutions | districts | entries | floor (s) | first run (s) | × floor "
          "| districts per worker | changed institutions | re-aggregation (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|")
    print("\n".join(lines))
    if summary:
        print()
        print("| workers | processes each | repetitions | first run, median (s) | × floor, median (range) "
              "| re-aggregation, median (range) (s) |")
        print("|---:|---:|---:|---:|---:|---:|")
        print("\n".join(summary))


if __name__ == "__main__":
    sys.exit(main())
