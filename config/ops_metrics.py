"""The project's scrape-time figures for /metrics (core.metrics.register_collector): the level that
may read every app. Imported by config/urls.py, so every web process registers them.

- portal_aggregation_runs{status}: aggregation runs by status (a run stuck in `running` shows here);
- portal_complaints_received_total{channel}: complaints taken in, by channel (the intake counter);
- portal_complaints_open: complaints not yet closed.

Each scrape costs two grouped counts; they are kept METRICS_DB_FIGURES_SECONDS (default 15) per
process so that several scrapers do not multiply the queries.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from complaints.models import Complaint
from core.metrics import register_collector
from scoring.models import AggregationRun

_cache: dict = {"at": 0.0, "value": None}


def _figures() -> dict:
    ttl = getattr(settings, "METRICS_DB_FIGURES_SECONDS", 15)
    now = time.monotonic()
    if _cache["value"] is not None and now - _cache["at"] < ttl:
        return _cache["value"]
    value = {
        "runs": dict(AggregationRun.objects.order_by().values_list("status").annotate(n=Count("id"))),
        "received": dict(Complaint.objects.order_by().values_list("channel").annotate(n=Count("id"))),
        "open": Complaint.objects.exclude(status=Complaint.Status.CLOSED).count(),
    }
    _cache.update(at=now, value=value)
    return value


def project_collector():
    figures = _figures()
    runs = GaugeMetricFamily("portal_aggregation_runs", "Aggregation runs by status", labels=["status"])
    for status in AggregationRun.Status.values:
        runs.add_metric([status], figures["runs"].get(status, 0))
    yield runs
    received = CounterMetricFamily("portal_complaints_received", "Complaints taken in, by channel",
                                   labels=["channel"])
    for channel in Complaint.Channel.values:
        received.add_metric([channel], figures["received"].get(channel, 0))
    yield received
    open_ = GaugeMetricFamily("portal_complaints_open", "Complaints not yet closed")
    open_.add_metric([], figures["open"])
    yield open_


register_collector(project_collector)
