"""Results change only through an aggregation run or a year's status (publish, reopen): warm the cache then.

The cache keys already carry `selectors.results_version`, so stale figures are never served; this
only spares the first reader the computation. Warming runs after the commit, in a Celery task.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from scoring.models import AggregationRun, Scheme


def _warm(year: int) -> None:
    from django.conf import settings

    # Only with a real worker: run eagerly, warming would only slow down the request that published.
    if settings.CELERY_TASK_ALWAYS_EAGER or not getattr(settings, "DASHBOARDS_WARM_CACHE", True):
        return
    from .tasks import warm_cache

    transaction.on_commit(lambda: warm_cache.delay(year))


@receiver(post_save, sender=AggregationRun, dispatch_uid="dashboards-warm-after-aggregation")
def after_aggregation(sender, instance: AggregationRun, **kwargs) -> None:
    if instance.status == AggregationRun.Status.SUCCEEDED:
        _warm(instance.year)


@receiver(post_save, sender=Scheme, dispatch_uid="dashboards-warm-after-status")
def after_scheme_change(sender, instance: Scheme, update_fields=None, **kwargs) -> None:
    if update_fields is None or "status" in update_fields:
        _warm(instance.year)
