"""Intake throughput: public text submissions per second and their latency, with gunicorn against
PostgreSQL, next to a trivial Django view on the same server (the ceiling).

    .venv/bin/python bench/complaints/run.py --duration 20 --concurrency 16 --workers 4

Everything runs on 127.0.0.1: its own database (cf_complaints_bench, created and migrated), its own
Redis on a spare port (broker and cache, as in production), gunicorn with production settings
(DEBUG off). Prints a JSON summary and a Markdown table for docs/complaints.md. Every accepted
submission is checked to be in the database afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.complaints.loadgen import _request, run  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")


def free_port(start: int) -> int:
    for port in range(start, start + 100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port")


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # 127.0.0.1 only
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def ensure_database(dsn_base: str, name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(f"{dsn_base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="cf_complaints_bench")
    parser.add_argument("--out", default="")
    args = parser.parse_args()

    from cryptography.fernet import Fernet

    ensure_database(args.pg, args.db)
    redis_port = free_port(6391)
    http_port = free_port(8765)
    tmp = Path(tempfile.mkdtemp(prefix="complaints-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.complaints.settings_bench",
        "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "COMPLAINTS_PII_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": f"{args.pg}/{args.db}", "DATABASE_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0", "REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
        # Counted in Redis as in production, but high enough that one address may send everything.
        "COMPLAINTS_RATE_SUBMIT_IP": "100000000/h", "COMPLAINTS_RATE_SUBMIT_CODE": "100000000/h",
        "COMPLAINTS_EVIDENCE_ROOT": str(tmp / "evidence"), "LOG_LEVEL": "WARNING",
    }
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup = subprocess.run([PY, "manage.py", "shell", "-c", (
        "from institutions.models import District, Institution\n"
        "from institutions.usc import make_usc_code\n"
        "from complaints.models import Complaint\n"
        "i, _ = Institution.objects.get_or_create(code='BENCH-01', defaults={'name': '压测银行', 'category': 'bank',"
        " 'usc_code': make_usc_code('91331004MA9999999'), 'district': District.objects.get(code='331004')})\n"
        "print(i.public_code, Complaint.objects.count())")], cwd=ROOT, env=env, check=True, capture_output=True,
        text=True)
    public_code, before = setup.stdout.split()[-2], int(setup.stdout.split()[-1])

    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port",
                              str(redis_port), "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = subprocess.Popen([GUNICORN, "bench.complaints.wsgi:application", "-b", f"127.0.0.1:{http_port}",
                               "--workers", str(args.workers), "--threads", str(args.threads),
                               "--keep-alive", "30", "--log-level", "warning", "--access-logfile", "/dev/null"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "gunicorn.log", "w"))  # noqa: SIM115
    results = []
    try:
        wait_http(f"http://127.0.0.1:{http_port}/bench/ping")
        ping = _request("GET", "/bench/ping", b"", "")
        results.append(run("trivial Django view (ceiling)", http_port, lambda: ping,
                           concurrency=args.concurrency, duration=args.duration, warmup=args.warmup).summary())
        counter = itertools.count()

        def anonymous():
            body = json.dumps({"public_code": public_code, "kind": "complaint", "anonymous": True,
                               "description": f"压测：柜员办理业务时要求收取额外费用（第{next(counter)}次）"},
                              ensure_ascii=False).encode()
            return _request("POST", "/api/v1/public/complaints/", body, "application/json")

        results.append(run("public text submission (anonymous)", http_port, anonymous,
                           concurrency=args.concurrency, duration=args.duration, warmup=args.warmup).summary())

        def named():
            body = json.dumps({"public_code": public_code, "kind": "report", "anonymous": False,
                               "contact_name": "压测人", "contact_phone": "13800000000",
                               "description": f"压测：举报信贷员收受购物卡（第{next(counter)}次）"},
                              ensure_ascii=False).encode()
            return _request("POST", "/api/v1/public/complaints/", body, "application/json")

        results.append(run("public text submission (named, PII encrypted)", http_port, named,
                           concurrency=args.concurrency, duration=args.duration, warmup=args.warmup).summary())
    finally:
        server.terminate()
        server.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=10)
    after = int(subprocess.run([PY, "manage.py", "shell", "-c",
                                "from complaints.models import Complaint; print(Complaint.objects.count())"],
                               cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.split()[-1])
    created = after - before
    report = {"workers": args.workers, "threads": args.threads, "concurrency": args.concurrency,
              "duration_s": args.duration, "cpu_count": os.cpu_count(), "rows_created": created,
              "submissions_accepted": sum(r["accepted_all"] for r in results[1:]),
              "results": results}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print()
    print(f"gunicorn sync workers={args.workers} threads={args.threads}, {args.concurrency} keep-alive connections, "
          f"{args.duration:.0f} s per run after {args.warmup:.0f} s warm-up, {os.cpu_count()} CPUs")
    print()
    print("| endpoint | req/s | p50 ms | p95 ms | p99 ms | non-2xx | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        non2xx = sum(n for s, n in r["statuses"].items() if not 200 <= int(s) < 300)
        print(f"| {r['name']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {non2xx} "
              f"| {r['errors']} |")
    print()
    print(f"Accepted submissions (warm-up included): {report['submissions_accepted']}; "
          f"rows created in PostgreSQL: {created}")
    if args.out:
        Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
