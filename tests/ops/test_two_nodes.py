"""Two web processes and two Celery workers on this machine against the same PostgreSQL, Redis and
local S3 server (issue 16): a complaint with a photo submitted through one web process is served by
the other; an aggregation of the year's districts is spread over both workers, one worker is killed
(SIGKILL, the whole node) while it holds a district's task, and the run still completes on the other
worker with results equal to a sequential run.

The run is made slow deterministically, not by sleeping: the test holds each district-year's row
lock (the one an aggregation takes first in its transaction) in a connection of its own and lets
the districts go one by one, and it sees which worker waits on which district from PostgreSQL
(`pg_blocking_pids`, each worker connecting with its own application_name)."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from tests.complaints.helpers import make_image
from tests.factories import InstitutionFactory, UserFactory
from tests.ops import s3
from tests.scoring.factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet

BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "")
REDIS = os.environ.get("REDIS_URL", "")
ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent
YEAR = 2026
QUEUE = "two-nodes-test"
VISIBILITY = 8

pytestmark = [pytest.mark.cluster, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _db_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def cluster(tmp_path):
    if not BROKER or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and TEST_CELERY_BROKER_URL (make test sets both when reachable)")
    import redis

    redis.Redis.from_url(BROKER).delete(QUEUE)
    with s3.moto_server() as endpoint:
        s3.client(endpoint).create_bucket(Bucket=s3.BUCKET)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": _db_url(),
               "CELERY_BROKER_URL": BROKER, "REDIS_URL": REDIS, "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
               "PORTAL_STORAGE": "s3", "PORTAL_S3_BUCKET": s3.BUCKET, "PORTAL_S3_ENDPOINT_URL": endpoint,
               "PORTAL_S3_REGION": "us-east-1", "PORTAL_S3_ACCESS_KEY": s3.KEY, "PORTAL_S3_SECRET_KEY": s3.KEY,
               "COMPLAINTS_RATE_SUBMIT_IP": "", "COMPLAINTS_RATE_SUBMIT_CODE": "", "PUBLIC_READ_RATE": "",
               "REQUEST_LOG_LEVEL": "INFO", "SCORING_SPREAD_POLL_SECONDS": "1",
               # A killed worker's unacknowledged task comes back after this many seconds (1 hour in
               # production); the survivor looks every second.
               "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY), "CELERY_UNACKED_RESTORE_INTERVAL": "1",
               "CELERY_UNACKED_MUTEX_EXPIRE": "5", "SCORING_SPREAD_TASK_INSTITUTIONS": "1"}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        ports = [s3.free_port(), s3.free_port()]
        procs, logs, workers = [], {}, {}
        try:
            for i, port in enumerate(ports, 1):
                logs[f"web{i}"] = tmp_path / f"web{i}.log"
                procs.append(subprocess.Popen(
                    [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1",
                     "--timeout", "120"], cwd=ROOT, env=env, stdout=logs[f"web{i}"].open("w"),
                    stderr=subprocess.STDOUT, start_new_session=True))
            for i in (1, 2):
                logs[f"worker{i}"] = tmp_path / f"worker{i}.log"
                workers[f"worker{i}"] = subprocess.Popen(
                    [str(BIN / "celery"), "-A", "config", "worker", "-Q", QUEUE, "-n", f"node{i}@%h",
                     "--concurrency", "1", "--prefetch-multiplier", "1", "--loglevel", "INFO", "--without-gossip",
                     "--without-mingle", "--without-heartbeat"], cwd=ROOT, env={**env, "PGAPPNAME": f"worker{i}"},
                    stdout=logs[f"worker{i}"].open("w"), stderr=subprocess.STDOUT, start_new_session=True)
                procs.append(workers[f"worker{i}"])
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            deadline = time.monotonic() + 120
            for url in urls:
                while True:
                    with contextlib.suppress(requests.RequestException):
                        if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                            break
                    assert time.monotonic() < deadline, f"{url} never became ready: {logs}"
                    time.sleep(1)
            for name in workers:
                while " ready." not in logs[name].read_text():
                    assert time.monotonic() < deadline, f"{name} never became ready: {logs[name].read_text()}"
                    time.sleep(0.5)
            yield {"urls": urls, "env": env, "logs": logs, "endpoint": endpoint, "workers": workers}
        finally:
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            redis.Redis.from_url(BROKER).delete(QUEUE)


def _session_cookie(user) -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {settings.SESSION_COOKIE_NAME: session.session_key}


def test_two_web_processes_and_two_workers(cluster):
    from complaints.models import Complaint, EvidenceImage
    from institutions.models import District
    from scoring import services
    from scoring.models import AggregationRun, Result

    web1, web2 = cluster["urls"]
    bank = InstitutionFactory(code="TWO-01", name="双节点银行")
    finance = UserFactory(username="fc", roles=["finance_center"], is_staff=True)

    # A complaint with a photo through web 1 ...
    photo = make_image("JPEG", size=(80, 60))
    answer = requests.post(f"{web1}/api/v1/public/complaints/", timeout=60, data={
        "public_code": bank.public_code, "kind": "report", "description": "双节点测试", "anonymous": "true"},
        files={"images": ("a.jpg", photo, "image/jpeg")})
    assert answer.status_code == 201, answer.text
    case = Complaint.objects.get(institution=bank)
    image = EvidenceImage.objects.get(complaint=case)
    assert f"private/complaints/{image.working.name}" in s3.keys(cluster["endpoint"])
    # ... is served by web 2, to the district's finance center only.
    served = requests.get(f"{web2}/complaints/{case.pk}/images/1/", cookies=_session_cookie(finance), timeout=60,
                          allow_redirects=False)
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("image/")
    assert served.content == s3.keys(cluster["endpoint"])[f"private/complaints/{image.working.name}"]
    assert served.headers.get("X-Request-ID")
    other = UserFactory(username="fc2", roles=["finance_center"], roles__districts=["331002"])
    assert requests.get(f"{web2}/complaints/{case.pk}/images/1/", cookies=_session_cookie(other), timeout=60,
                        allow_redirects=False).status_code == 404

    # The year's aggregation, spread over both workers, one of them killed mid-run.
    scheme = build_scheme(YEAR)
    districts = [District.objects.get(code=code) for code in ("331002", "331004", "331003", "331081")]
    for district in districts:
        services.district_year(district, YEAR)
        for i in range(3):
            assessment = assessment_for(InstitutionFactory(code=f"A{district.code}{i}", district=district), scheme)
            for source, values in WORKED_SHEETS.items():
                fill_sheet(assessment, source, {k: (v - i if isinstance(v, Decimal) and v > i else v)
                                                for k, v in values.items()})
    gates = {district.pk: _Gate(district.pk) for district in districts}
    try:
        sent = subprocess.run([str(BIN / "celery"), "-A", "config", "call", "scoring.aggregate_year", "--args",
                               f"[{YEAR}]", "--queue", QUEUE], cwd=ROOT, env=cluster["env"], capture_output=True,
                              text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        # Each worker takes a district and waits at its gate.
        held = _wait_for(lambda: _waiting(gates) if len(_waiting(gates)) == 2 else None, cluster,
                         "both workers waiting")
        first = held["worker1"]
        # Worker 1 finishes its district, takes the next one and waits again: it has done a district
        # and holds another one, half-way (its run `running`, its transaction open), when it is killed.
        gates[first].open()
        victim = _wait_for(lambda: _waiting(gates).get("worker1") not in (None, first)
                           and _waiting(gates).get("worker1"), cluster, "worker 1 taking a second district")
        assert _succeeded_runs(cluster["logs"]["worker1"]), "worker 1 finished its first district"
        killed_run = AggregationRun.objects.get(district_id=victim, year=YEAR)
        assert killed_run.status == AggregationRun.Status.RUNNING
        worker1 = cluster["workers"]["worker1"]
        os.killpg(worker1.pid, signal.SIGKILL)
        worker1.wait(timeout=30)
    finally:
        for gate in gates.values():
            gate.open()
    done_by_worker1 = _succeeded_runs(cluster["logs"]["worker1"])

    # The survivor finishes the others and, once the killed worker's message is visible again, redoes
    # its district; the closing step sees every district succeeded.
    runs = AggregationRun.objects.filter(year=YEAR)
    _wait_for(lambda: (runs.count() == len(districts) and not runs.exclude(status="succeeded").exists())
              or None, cluster, "every district's run succeeded", timeout=120)
    _wait_for(lambda: any("finish_year_aggregation" in line and "succeeded" in line
                          for line in cluster["logs"]["worker2"].read_text().splitlines()) or None,
              cluster, "the closing step finished")
    done_by_worker2 = _succeeded_runs(cluster["logs"]["worker2"])
    assert AggregationRun.objects.get(pk=killed_run.pk).status == AggregationRun.Status.SUCCEEDED
    assert not runs.filter(status__in=["running", "queued", "failed"]).exists()
    assert done_by_worker1 and done_by_worker2, "both workers finished districts"
    assert killed_run.pk not in done_by_worker1 and killed_run.pk in done_by_worker2, "the killed one is redone"
    assert set(done_by_worker1) | set(done_by_worker2) == set(runs.values_list("pk", flat=True))
    assert Result.objects.filter(district_id=victim, run=killed_run).count() == 3

    spread = sorted(Result.objects.values_list("institution__code", "total", "rank", "colour"))
    assert len(spread) == 3 * len(districts)
    for district in districts:  # a sequential run over the same data changes nothing
        assert services.aggregate_year(YEAR, district).changed == 0
    assert sorted(Result.objects.values_list("institution__code", "total", "rank", "colour")) == spread


class _Gate:
    """Holds a district-year's row lock in a connection of its own until opened."""

    def __init__(self, district_id: int):
        import psycopg2

        s = connection.settings_dict
        self.conn = psycopg2.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                                     host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432)
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (self.pid,) = cursor.fetchone()
            cursor.execute("SELECT id FROM scoring_districtyear WHERE district_id = %s AND year = %s FOR UPDATE",
                           [district_id, YEAR])
            assert cursor.fetchone()
        self.district_id = district_id

    def open(self) -> None:
        if not self.conn.closed:
            self.conn.commit()
            self.conn.close()


def _waiting(gates: dict) -> dict:
    """{worker: district id} of the workers whose aggregation waits at a gate."""
    by_pid = {gate.pid: gate.district_id for gate in gates.values()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT application_name, pg_blocking_pids(pid) FROM pg_stat_activity"
                       " WHERE application_name LIKE 'worker%%' AND wait_event_type = 'Lock'")
        rows = cursor.fetchall()
    return {name: by_pid[pid] for name, pids in rows for pid in pids if pid in by_pid}


def _succeeded_runs(log: Path) -> list[int]:
    """The runs a worker's log shows finished (one district per task here):
    `Task scoring.aggregate_districts[…] succeeded in …: {'runs': [7], …}`."""
    return [int(m) for m in re.findall(
        r"Task scoring\.aggregate_districts\[[^\]]+\] succeeded in [^:]+: \{'runs': \[(\d+)\]", log.read_text())]


def _wait_for(check, cluster, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        logs = {name: log.read_text()[-3000:] for name, log in cluster["logs"].items()}
        assert time.monotonic() < deadline, f"{what}: {logs}"
        time.sleep(0.2)
    return found
