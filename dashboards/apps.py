from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboards"
    verbose_name = _("数据看板")

    def ready(self) -> None:
        from core import portal, queue
        from institutions import access
        from scoring import services as scoring_services

        from . import services

        # Scoring calls this explicitly once results of a (year, district) changed and committed.
        scoring_services.on_results_changed(services.results_changed)
        # Reports left queued or generating (undelivered task, killed worker) are marked failed.
        queue.register_reaper(services.reap_stale_reports)

        def sees_dashboards(user) -> bool:
            return access.is_finance_center(user) or bool(access.user_roles(user) & {"institution_head", "city"})

        portal.register("dashboards:index", _("数据看板"), visible=sees_dashboards, order=10)
