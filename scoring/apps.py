from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scoring"
    verbose_name = _("清廉积分")

    def ready(self) -> None:
        from core import queue

        from . import services

        # Runs left queued or running (undelivered task, killed worker) are marked failed.
        queue.register_reaper(services.reap_stale_runs)
        # The role home's to-do counts (core.portal.register_todo).
        from . import todos

        todos.register()
