"""CPU cost of one request inside the Django process (no HTTP server, no load generator): a steadier
figure than requests per second on a shared machine. Uses the benchmark database of run.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cf_complaints_bench .venv/bin/python bench/complaints/cpu.py
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.complaints.settings_bench")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
os.environ.setdefault("COMPLAINTS_RATE_SUBMIT_IP", "100000000/h")
os.environ.setdefault("COMPLAINTS_RATE_SUBMIT_CODE", "100000000/h")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.test import Client  # noqa: E402

from institutions.models import Institution  # noqa: E402


def measure(fn, n: int = 300) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - wall) / n * 1000, (time.process_time() - cpu) / n * 1000


def main() -> None:
    code = Institution.objects.get(code="BENCH-01").public_code
    client = Client()
    anonymous = json.dumps({"public_code": code, "kind": "complaint", "anonymous": True, "description": "压测"})
    named = json.dumps({"public_code": code, "kind": "report", "anonymous": False, "contact_name": "张三",
                        "contact_phone": "13800000000", "description": "压测"})

    def ping():
        return client.get("/bench/ping")

    def submit_anonymous():
        return client.post("/api/v1/public/complaints/", anonymous, content_type="application/json")

    def submit_named():
        return client.post("/api/v1/public/complaints/", named, content_type="application/json")

    for _ in range(20):
        ping(), submit_anonymous()
    print("| request | wall ms | CPU ms (Django process) |")
    print("|---|---:|---:|")
    for name, fn in (("trivial view", ping), ("anonymous submission", submit_anonymous),
                     ("named submission", submit_named)):
        wall, cpu = measure(fn)
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
