"""The aggregation through a REAL Celery worker and broker (Redis), started by the API.

Runs when TEST_CELERY_BROKER_URL is set (``make test`` sets it when Redis is reachable). Without it
the test is skipped, except under CI=true, where a missing broker must fail the run instead.
"""

from __future__ import annotations

import os
import time

import pytest
from django.db import connections

from scoring.models import AggregationRun, Result
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory

from .factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet

BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def reset_connection_pools(app) -> None:
    """Forget the app's broker connection and producer pools, so the next use looks them up for the
    current broker URL. Not closed: kombu keeps them in process-wide registries keyed by URL, shared
    with whatever used that URL before (closing one would break eager tasks of later tests)."""
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def celery_worker(settings):
    """A worker thread consuming from the test broker, with the app switched to it for this test only."""
    if not BROKER:
        if IN_CI:
            pytest.fail("CI=true but TEST_CELERY_BROKER_URL is not set: the Celery integration test cannot run")
        pytest.skip("TEST_CELERY_BROKER_URL is not set")
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from config.celery import app

    keys = ("broker_url", "task_always_eager", "task_eager_propagates", "broker_connection_retry_on_startup")
    saved = {key: app.conf[key] for key in keys}
    settings.CELERY_BROKER_URL = BROKER
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=BROKER, task_always_eager=False, task_eager_propagates=False,
                    broker_connection_retry_on_startup=False)
    reset_connection_pools(app)  # connections made for another broker URL must not be reused

    def close_worker_connections(**kwargs):
        connections.close_all()  # the worker thread's own database connection

    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("celery")  # stale messages from an earlier, aborted run
        with start_worker(app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=30) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_worker_connections)
        app.conf.update(saved)
        reset_connection_pools(app)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_aggregation_runs_on_a_real_worker(celery_worker):
    scheme = build_scheme(2031)
    for code in ("C001", "C002"):
        assessment = assessment_for(InstitutionFactory(code=code), scheme)
        for source, values in WORKED_SHEETS.items():
            fill_sheet(assessment, source, values, submit=code == "C001" or source != "third_party")
    client = client_for(UserFactory(username="fc", roles=["finance_center"]))

    started = client.post("/api/v1/aggregations/", {"year": 2031}, format="json")
    assert started.status_code == 202, started.content
    run_id = started.json()["id"]
    assert started.json()["status"] == "queued"

    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/aggregations/{run_id}/").json()
        seen.append(body["status"])
        if body["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert body["status"] == "succeeded", (body, seen)
    assert body["progress"] == 100 and body["institutions"] == 2 and body["changed"] == 2
    assert body["started_at"] and body["finished_at"]

    run = AggregationRun.objects.get(pk=run_id)
    results = {r.institution.code: r for r in Result.objects.filter(year=2031).select_related("institution")}
    assert {code: (str(r.total), r.status, r.run_id) for code, r in results.items()} == {
        "C001": ("98.00", "final", run.pk), "C002": ("98.00", "provisional", run.pk)}
    scores = client.get("/api/v1/scores/?year=2031").json()
    assert [(r["institution"]["code"], r["rank"]) for r in scores["results"]] == [("C001", 1), ("C002", 1)]
