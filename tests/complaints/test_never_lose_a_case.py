"""Never lose a case: with Redis (broker and cache) stopped, submissions still succeed and are in
PostgreSQL; once Redis is back, a real Celery worker hands the notifications that waited to core's
mail outbox and sends them.

Starts a Redis of its own on a spare port (never the shared one on 6379) and a Celery worker
process against the test database.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from complaints.models import Complaint
from tests.factories import InstitutionFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REDIS = shutil.which("redis-server")


def free_port(start: int = 6390) -> int:
    for port in range(start, start + 50):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port")


def start_redis(port: int, workdir: Path) -> subprocess.Popen:
    proc = subprocess.Popen([REDIS, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.2).close() or True, 10)
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(check, timeout: float):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting ({last})")


def reset_celery_pools(app) -> None:
    """Forget every broker connection pool (kombu keeps them in global registries keyed by URL), so
    the next publish connects afresh to whatever broker is configured, before and after this test."""
    from kombu import pools

    pools.reset()
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


@pytest.fixture
def private_redis(tmp_path):
    if not REDIS:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is missing under CI")
        pytest.skip("redis-server not installed")
    port = free_port()
    proc = start_redis(port, tmp_path)
    state = {"proc": proc, "port": port}
    yield state
    stop(state["proc"])


@pytest.fixture
def celery_against(private_redis, settings):
    from config.celery import app

    # Skip before changing anything: a skip raised after the change would never reach the restore.
    db = django_settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL (the worker is a separate process)")
    port = private_redis["port"]
    broker = f"redis://127.0.0.1:{port}/0"
    old = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "broker_connection_timeout")}
    reset_celery_pools(app)
    app.conf.update(broker_url=broker, task_always_eager=False, broker_connection_timeout=2)
    try:
        yield from _worker(app, broker, port, settings)
    finally:
        reset_celery_pools(app)
        app.conf.update(**old)


def _worker(app, broker, port, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{port}/1"}}
    settings.COMPLAINTS_RATE_SUBMIT_IP = "100/h"
    db = django_settings.DATABASES["default"]
    database_url = (f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
                    f"{db['PORT'] or 5432}/{db['NAME']}")
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker,
           "REDIS_URL": f"redis://127.0.0.1:{port}/1", "DJANGO_DEBUG": "true",
           "COMPLAINTS_EVIDENCE_ROOT": str(settings.COMPLAINTS_EVIDENCE_ROOT)}
    log = open(Path(settings.MEDIA_ROOT).parent / "worker.log", "w+")  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                               "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                              cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield {"worker": worker, "log": log}
    finally:
        stop(worker)
        log.close()


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_the_worker_fixture_skips_before_touching_celery(request, settings):
    """On SQLite the fixture skips; the Celery app's configuration must be as it was (a skip after
    the change left the broker pointing at a stopped Redis for every later test)."""
    from config.celery import app

    before = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "broker_connection_timeout")}
    settings.DATABASES = {**django_settings.DATABASES,
                          "default": {**django_settings.DATABASES["default"],
                                      "ENGINE": "django.db.backends.sqlite3"}}
    with pytest.raises(pytest.skip.Exception):
        request.getfixturevalue("celery_against")
    assert {k: app.conf[k] for k in before} == before


def submit(client, institution, text):
    return client.post("/api/v1/public/complaints/", {"public_code": institution.public_code, "kind": "report",
                                                      "description": text}, content_type="application/json")


def test_cases_survive_a_redis_outage_and_notifications_catch_up(reference_data, client, private_redis,
                                                                 celery_against, tmp_path):
    bank = InstitutionFactory(code="NL-01")
    UserFactory(username="fc-nl", roles=["finance_center"], email="fc-nl@example.invalid")

    # Redis up: a case is stored and the worker sends its notification.
    resp = submit(client, bank, "正常时提交")
    assert resp.status_code == 201
    wait_for(lambda: Complaint.objects.filter(staff_notified_at__isnull=False).count() == 1, 60)

    # Redis down (broker and cache): every submission still succeeds and is in PostgreSQL.
    stop(private_redis["proc"])
    started = time.monotonic()
    receipts = []
    for n in range(3):
        resp = submit(client, bank, f"Redis 停止时提交 {n}")
        assert resp.status_code == 201, resp.content
        receipts.append(resp.json()["receipt_code"])
    assert time.monotonic() - started < 30  # degraded, not hanging
    assert Complaint.objects.count() == 4
    assert Complaint.objects.filter(staff_notified_at__isnull=True).count() == 3
    # Tracking works without Redis too.
    assert client.get(f"/api/v1/public/complaints/{receipts[0]}/").status_code == 200

    # Redis back: the beat job's run (published as beat would) lets the worker catch up.
    private_redis["proc"] = start_redis(private_redis["port"], tmp_path)
    from complaints import tasks

    def published() -> bool:
        tasks.send_pending_notifications.apply_async(retry=False)
        return True

    wait_for(published, 30)
    try:
        wait_for(lambda: not Complaint.objects.filter(staff_notified_at__isnull=True).exists(), 90)
    except AssertionError:
        log = Path(celery_against["log"].name).read_text()
        raise AssertionError(f"notifications still pending; worker log:\n{log[-3000:]}") from None
    # The hand-over to core's mail outbox kicked its sender, on the worker too (console backend).
    pks = list(Complaint.objects.values_list("pk", flat=True))

    def mailed() -> bool:
        log = Path(celery_against["log"].name).read_text()
        return "fc-nl@example.invalid" in log and all(f"#{pk}" in log for pk in pks)

    try:
        wait_for(mailed, 60)
    except AssertionError:
        log = Path(celery_against["log"].name).read_text()
        raise AssertionError(f"mails not sent; worker log:\n{log[-3000:]}") from None
