"""Operations (API.md, "Operations"): /healthz, /readyz, /metrics, request ids and JSON logs."""

import json
import logging
import os
import re
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client

from core import health
from core.logs import JsonFormatter
from core.request_id import RequestIdFilter
from tests.factories import UserFactory

BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "")
DEAD_REDIS = "redis://127.0.0.1:1"


# --- /healthz -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_healthz_is_exactly_the_contract(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_checks_no_dependency():
    # A dead database: the process still serves, so a balancer must not take it out.
    with mock.patch.object(connections["default"], "cursor", side_effect=OperationalError("down")):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_probes_answer_a_balancer_probing_by_address(settings):
    settings.ALLOWED_HOSTS = ["portal.example.cn"]
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert Client().get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    # Any other page for that host is still refused (the host check is not switched off).
    assert Client().get("/accounts/login/", HTTP_HOST="10.1.2.3:8000").status_code == 400


@pytest.mark.django_db
def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405
    assert client.head("/healthz").status_code == 200


# --- /readyz --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_readyz_ok_names_its_checks(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_readyz_503_names_the_database(settings):
    settings.CELERY_BROKER_URL = ""
    with mock.patch.object(connections["default"], "cursor", side_effect=OperationalError("down")):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] != "ok"
    assert body["failed"] == ["database"]
    assert body["checks"]["database"].startswith("fail")
    assert body["checks"]["cache"] == "ok"


@pytest.mark.django_db
def test_readyz_503_names_the_cache(settings):
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = {"default": {"BACKEND": "core.cache.ForgivingRedisCache", "LOCATION": DEAD_REDIS,
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_503_names_the_broker(settings):
    settings.CELERY_BROKER_URL = f"{DEAD_REDIS}/0"
    settings.READYZ_BROKER_TIMEOUT = 0.3
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"].startswith("fail")


@pytest.mark.django_db
@pytest.mark.skipif(not BROKER, reason="TEST_CELERY_BROKER_URL is not set")
def test_readyz_checks_a_configured_broker(settings):
    settings.CELERY_BROKER_URL = BROKER
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


# --- /metrics -------------------------------------------------------------------------------------

def _value(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.mark.django_db
def test_metrics_counts_requests_by_view_and_status(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    client = Client()
    before = _value(client.get("/metrics").content.decode(), "portal_http_requests_total",
                    view="healthz", status="200") or 0
    client.get("/healthz")
    client.get("/healthz")
    client.get("/api/v1/warnings/")  # anonymous: 401 or 403, labelled by the API view's name
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert _value(text, "portal_http_requests_total", view="healthz", status="200") == before + 2
    assert re.search(r'portal_http_requests_total\{method="GET",status="40[13]",view="api:[^"]+"\}', text)
    assert 'portal_http_request_duration_seconds_bucket{le="0.3",method="GET",view="healthz"}' in text
    # The project's figures: aggregation runs and the intake counter.
    assert _value(text, "portal_aggregation_runs", status="running") == 0
    assert _value(text, "portal_complaints_received_total", channel="form") is not None
    assert _value(text, "portal_queued_tasks_waiting") == 0


@pytest.mark.django_db
def test_metrics_count_celery_tasks(settings):
    from core.tasks import drain_queued_tasks

    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    before = _value(Client().get("/metrics").content.decode(), "portal_celery_tasks_total",
                    task="core.drain_queued_tasks", state="success") or 0
    drain_queued_tasks.delay()
    text = Client().get("/metrics").content.decode()
    assert _value(text, "portal_celery_tasks_total", task="core.drain_queued_tasks", state="success") == before + 1
    assert 'portal_celery_task_duration_seconds_count{task="core.drain_queued_tasks"}' in text


@pytest.mark.django_db
def test_metrics_refused_to_other_addresses_and_tokens(settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.METRICS_BEARER_TOKEN = ""
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.3.4.5").status_code == 200
    # No token configured: no bearer opens it.
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.9", HTTP_AUTHORIZATION="Bearer ").status_code == 403
    # A signed-in superuser is no exception: the setting decides.
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.9").status_code == 403


@pytest.mark.django_db
def test_metrics_bearer_token(settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_BEARER_TOKEN = "s3cret-token"
    client = Client()
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token s3cret-token").status_code == 403
    assert client.get("/metrics").status_code == 403
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 405


@pytest.mark.django_db
def test_metrics_behind_a_proxy_use_the_proxy_header(settings):
    settings.METRICS_ALLOWED_IPS = ["10.9.0.0/16"]
    settings.COMPLAINTS_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="10.9.1.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.9.1.1", HTTP_X_REAL_IP="8.8.8.8").status_code == 403


@pytest.mark.django_db
@pytest.mark.skipif(not BROKER, reason="TEST_CELERY_BROKER_URL is not set")
def test_metrics_report_queue_lengths(settings):
    import redis

    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    settings.CELERY_BROKER_URL = BROKER
    settings.METRICS_CELERY_QUEUES = ["ops-test-queue"]
    r = redis.Redis.from_url(BROKER)
    r.delete("ops-test-queue")
    r.rpush("ops-test-queue", "a", "b", "c")
    try:
        text = Client().get("/metrics").content.decode()
    finally:
        r.delete("ops-test-queue")
    assert _value(text, "portal_celery_queue_length", queue="ops-test-queue") == 3


# --- request ids and logs -------------------------------------------------------------------------

class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []
        self.addFilter(RequestIdFilter())

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def request_log():
    handler = _Capture()
    logger = logging.getLogger("portal.request")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(old)


@pytest.mark.django_db
def test_request_ids_in_responses_and_logs(request_log):
    client = Client()
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc")
    assert response["X-Request-ID"] == "lb-1234.abc"
    assert request_log[-1].request_id == "lb-1234.abc"
    assert request_log[-1].status == 200 and request_log[-1].path == "/healthz"
    # An id a client could use to forge log lines is replaced by a fresh one.
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nFAKE LINE")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert request_log[-1].request_id == response["X-Request-ID"]
    # Two requests, two ids.
    assert client.get("/accounts/login/")["X-Request-ID"] != client.get("/accounts/login/")["X-Request-ID"]


def test_json_log_lines():
    record = logging.LogRecord("portal.request", logging.INFO, __file__, 1, "GET %s %s", ("/x", 200), None)
    record.path = "/x"
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["message"] == "GET /x 200"
    assert data["level"] == "INFO" and data["logger"] == "portal.request"
    assert data["request_id"] == "-" and data["path"] == "/x"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exc_info"]


def test_log_format_setting_switches_to_json():
    import subprocess
    import sys

    code = ("import django, logging; django.setup(); "
            "logging.getLogger('portal.request').warning('hello %s', 'world')")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_FORMAT": "json"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    line = [x for x in out.stderr.splitlines() if "hello" in x][-1]
    data = json.loads(line)
    assert data["message"] == "hello world" and data["request_id"] == "-"


def test_health_module_checks_are_independent():
    # Every check answers; one raising is reported, not raised.
    with mock.patch.object(health, "check_database", side_effect=RuntimeError("x")), \
            mock.patch.object(health, "check_cache", return_value=None), \
            mock.patch.object(health, "broker_url", return_value=""):
        assert health.run_checks() == {"database": "fail: RuntimeError", "cache": "ok"}
