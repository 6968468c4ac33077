from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app shares: errors, rate limits, tabular imports, storage, calendar, the portal's links."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = _("公共组件")

    def ready(self) -> None:
        from . import audit

        audit.register_defaults()
        # Operations (issue 16): request ids and metrics follow Celery tasks too.
        from . import metrics, request_id

        request_id.bind_celery_signals()
        metrics.bind_celery_signals()
        from . import export_jobs
        from .queue import register_reaper

        register_reaper(export_jobs.reap_stale)
