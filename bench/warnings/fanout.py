"""Benchmark: fan-out of one district-wide warning to 100,000 employees with one Celery worker.

Goal (issue 5): under 60 s from publishing to every delivery written, one worker, this machine.

    createdb -h 127.0.0.1 -U postgres cf_warnings_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cf_warnings_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/warnings/fanout.py [--employees 100000] [--institutions 400]

Use a database of its own: the script migrates it and fills it with bench institutions and
employees (kept between runs; the warnings are recreated each run). It starts one worker
(`celery -A config worker --concurrency=1`), publishes through services.publish exactly as the API
does (the fan-out task is queued on commit), and waits until the warning is marked delivered.
It then measures, in this process: a second fan-out of the same warning (idempotent: adds
nothing), the same INSERT … SELECT for a fresh warning without the broker, the batched
bulk_create(ignore_conflicts=True) alternative for comparison, and the reads at that scale.
Figures are recorded in docs/warnings.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--institutions", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3, help="publish-and-deliver runs with the worker (median shown)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ or "CELERY_BROKER_URL" not in os.environ:
        print("Set DATABASE_URL (a database of its own) and CELERY_BROKER_URL; see the docstring.", file=sys.stderr)
        return 2

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    population = populate(args.employees, args.institutions)
    print(f"population: {population['employees']:,} active employees in {population['institutions']} institutions "
          f"(created in {population['seconds']:.1f} s)")
    rows = []
    log_path = Path(tempfile.gettempdir()) / "bench-warnings-worker.log"
    worker = start_worker(log_path)
    try:
        rows += bench_with_worker(args.runs, args.timeout, log_path)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    rows += bench_in_process()
    print()
    print("| measurement | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


def populate(employees: int, institutions: int) -> dict:
    from django.db import connection

    from institutions.models import District, Employee, Institution
    from institutions.usc import make_usc_code

    started = time.perf_counter()
    district = District.objects.get(code="331004")
    existing = set(Institution.objects.filter(code__startswith="BENCH-").values_list("code", flat=True))
    Institution.objects.bulk_create([
        Institution(code=f"BENCH-{n:04d}", name=f"压测机构{n:04d}", category=("bank", "insurance", "securities",
                    "private_lending")[n % 4], usc_code=make_usc_code(f"91331004MB{n:07d}"), district=district)
        for n in range(1, institutions + 1) if f"BENCH-{n:04d}" not in existing
    ])
    per = employees // institutions
    missing = []
    have = dict(Employee.objects.filter(institution__code__startswith="BENCH-").values("institution_id")
                .annotate(n=django_count()).values_list("institution_id", "n"))
    for institution in Institution.objects.filter(code__startswith="BENCH-").order_by("code"):
        missing += [Employee(institution=institution, name=f"员工{n:04d}", employee_no=f"E{n:05d}")
                    for n in range(have.get(institution.pk, 0) + 1, per + 1)]
    Employee.objects.bulk_create(missing, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"employees": Employee.objects.filter(is_active=True, institution__district=district).count(),
            "institutions": Institution.objects.filter(district=district).count(),
            "seconds": time.perf_counter() - started}


def django_count():
    from django.db.models import Count

    return Count("id")


def start_worker(log_path: Path) -> subprocess.Popen:
    from config.celery import app

    log = log_path.open("w")
    worker = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", "worker", "--concurrency=1", "--pool=prefork",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", f"bench-warnings-{os.getpid()}@%h"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return worker
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited; see {log_path}")
    worker.terminate()
    raise SystemExit("the worker did not answer within 60 s")


def bench_user():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from institutions.models import District
    from institutions.services import grant_role

    user, _created = get_user_model().objects.get_or_create(username="bench-finance")
    user.groups.add(Group.objects.get(name="finance_center"))
    grant_role(user, "finance_center", District.objects.get(code="331004"))  # district roles are grants now
    return get_user_model().objects.get(pk=user.pk)


def clean_slate() -> None:
    """Drop earlier bench warnings (their deliveries cascade) and vacuum, so runs start alike."""
    from django.db import connection

    from warnings_feed.models import Warning

    Warning.objects.filter(title__startswith="[bench]").delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE warnings_feed_delivery")


def publish_and_wait(timeout: float, log_path: Path) -> tuple[int, float, float]:
    from warnings_feed import services
    from warnings_feed.models import Delivery, Warning

    draft = services.Draft(title="[bench] 员工黄小明酒后驾车被查处", body="压测：全区警示。", case_type="drunk_driving",
                           severity="high", scope="district", district_code="331004")
    started = time.perf_counter()
    warning = services.publish(bench_user(), draft)  # commits; the fan-out task is queued on commit
    queued = time.perf_counter() - started
    while not Warning.objects.filter(pk=warning.pk, fanned_out_at__isnull=False).exists():
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"not delivered within {timeout} s; see {log_path}")
        time.sleep(0.02)
    end_to_end = time.perf_counter() - started
    return Delivery.objects.filter(warning=warning).count(), queued, end_to_end


def bench_with_worker(runs: int, timeout: float, log_path: Path) -> list[tuple[str, str]]:
    results = []
    for _ in range(runs):
        clean_slate()
        results.append(publish_and_wait(timeout, log_path))
    time.sleep(0.5)  # let the worker write its last log line
    tasks = [float(t) for t in re.findall(r"warnings_feed\.fan_out\[[^\]]+\] succeeded in ([0-9.]+)s",
                                          log_path.read_text())]
    delivered = results[-1][0]
    ends = sorted(r[2] for r in results)
    median = ends[len(ends) // 2]
    return [
        ("employees reached by one district-wide warning", f"{delivered:,}"),
        ("publish (service call, commit, task queued)", f"{statistics.median(r[1] for r in results) * 1000:.0f} ms"),
        (f"**publish → every delivery written, one worker** (median of {runs})", f"**{median:.2f} s**"),
        ("each run", ", ".join(f"{r[2]:.2f} s" for r in results)),
        ("fan-out task run time in the worker (each run)", ", ".join(f"{t:.2f} s" for t in tasks) or "n/a"),
        ("deliveries per second (median run, end to end)", f"{delivered / median:,.0f}"),
    ]


def bench_in_process() -> list[tuple[str, str]]:
    from django.db import transaction
    from django.utils import timezone

    from warnings_feed import selectors, services
    from warnings_feed.models import Delivery, Warning

    rows = []
    warning = Warning.objects.filter(title__startswith="[bench]").latest("pk")
    started = time.perf_counter()
    added = services.fan_out(warning.pk)
    rows.append(("running the fan-out again (idempotent)",
                 f"{added} rows added, {time.perf_counter() - started:.2f} s"))

    second = Warning.objects.create(title="[bench] 第二条", body="压测", scope="district", district=warning.district,
                                    publish_at=timezone.now())
    started = time.perf_counter()
    added = services.fan_out(second.pk)
    rows.append(("the same INSERT … SELECT in process, for a fresh warning (no broker)",
                 f"{added:,} rows, {time.perf_counter() - started:.2f} s"))

    third = Warning.objects.create(title="[bench] 第三条", body="压测", scope="district", district=warning.district,
                                   publish_at=timezone.now())
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        batch: list[Delivery] = []
        for employee_id, institution_id in selectors.recipients(third).values_list("id", "institution_id").iterator(
                chunk_size=5000):
            batch.append(Delivery(warning=third, employee_id=employee_id, institution_id=institution_id,
                                  delivered_at=now))
            if len(batch) == 5000:
                Delivery.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        Delivery.objects.bulk_create(batch, ignore_conflicts=True)
    rows.append(("for comparison: bulk_create(ignore_conflicts) in batches of 5,000",
                 f"{Delivery.objects.filter(warning=third).count():,} rows, {time.perf_counter() - started:.2f} s"))
    services.rebuild_tallies([third.pk])  # written past the services: recount its tallies (not timed)

    # Reads at that scale: a third of the staff read it, a fifth acknowledged.
    ids = list(Delivery.objects.filter(warning=warning).order_by("pk").values_list("pk", flat=True)[:33_000])
    Delivery.objects.filter(pk__in=ids).update(read_at=now)
    Delivery.objects.filter(pk__in=ids[:20_000]).update(acknowledged_at=now)
    started = time.perf_counter()
    rebuilt = services.rebuild_tallies([warning.pk])
    rows.append(("recounting that warning's acknowledgement tallies after the bulk update",
                 f"{rebuilt:,} tallies corrected, {(time.perf_counter() - started) * 1000:.0f} ms"))
    started = time.perf_counter()
    per_institution = selectors.rates_by_institution(warning_ids=[warning.pk])
    rows.append(("rates of that warning per institution (GROUP BY)",
                 f"{len(per_institution)} rows, {(time.perf_counter() - started) * 1000:.0f} ms"))
    started = time.perf_counter()
    overall = selectors.rates_by_institution()
    rows.append(("rates per institution over all deliveries",
                 f"{sum(r.delivered for r in overall):,} deliveries, {(time.perf_counter() - started) * 1000:.0f} ms"))
    started = time.perf_counter()
    pending = selectors.not_acknowledged(warning, institution_ids=[per_institution[-1].key])
    names = [d.employee.name for d in pending[:100]]
    rows.append(("a head's 'not acknowledged' page (first 100)",
                 f"{len(names)} rows, {(time.perf_counter() - started) * 1000:.0f} ms"))
    rows.append(("employee feed (API list) at that scale", feed_timing(warning)))
    return rows


def feed_timing(warning) -> str:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from institutions.models import Employee

    user, _created = get_user_model().objects.get_or_create(username="bench-employee")
    employee = Employee.objects.filter(institution__code__startswith="BENCH-").order_by("pk").first()
    Employee.objects.filter(user=user).exclude(pk=employee.pk).update(user=None)
    Employee.objects.filter(pk=employee.pk).update(user=user)
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    client.get("/api/v1/warnings/")
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/warnings/")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return f"{len(queries)} queries, {elapsed * 1000:.0f} ms"


if __name__ == "__main__":
    sys.exit(main())
