"""A push that a warning arrived (notifications, issue #17): each institution a warning was delivered
to gets «收到 1 条新的警示信息» on its chosen channels (SMS duty phone, DingTalk / WeCom robot). Never the
warning's title, text or names: people read those in the portal, where acknowledgement is recorded.

A beat job sweeps warnings fanned out since its last run (notifications' cursor); messages are keyed
per warning and institution, so a sweep run twice sends nothing twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from institutions.models import Institution
from notifications import services as notifications

from .models import Delivery, Warning

KIND = "warnings_feed.arrived"
BATCH = 200


def push_arrivals(now=None) -> int:
    """Queue the pushes of warnings fanned out since the last sweep; returns the messages stored."""
    now = now or timezone.now()

    def sweep(since):
        warnings = list(Warning.objects.filter(fanned_out_at__gt=since, fanned_out_at__lte=now)
                        .order_by("fanned_out_at", "pk").values_list("pk", "fanned_out_at")[:BATCH])
        stored = 0
        for warning_id, _ in warnings:
            ids = Delivery.objects.filter(warning_id=warning_id).values("institution_id").distinct()
            for institution in Institution.objects.filter(pk__in=ids).only("pk", "name"):
                stored += notifications.notify(f"{KIND}:{warning_id}:{institution.pk}", KIND,
                                               {"institution": institution.name}, institutions=[institution])
        return stored, (warnings[-1][1] if warnings else None)

    with transaction.atomic():
        return notifications.advance_cursor(KIND, now - timedelta(days=1), sweep)


@shared_task(name="warnings_feed.push_arrivals", ignore_result=True)
def push_arrivals_task() -> int:
    return push_arrivals()
