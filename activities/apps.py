from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "activities"
    verbose_name = _("年度活动与通知")

    def ready(self) -> None:
        from core import portal
        from core.queue import register_reaper

        from . import selectors, services

        portal.register("activities:home", _("年度活动、培训与通知"), visible=selectors.may_use, order=60)
        portal.register_todo("activities-returns", _("份通知待报送"), selectors.pending_returns_count,
                             "activities:notices", lambda user: bool(selectors.writer_institution_ids(user)),
                             order=60)
        from tracking import services as tracking

        register_reaper(services.reap_stale_archives)
        from core import export_jobs

        from . import exports

        export_jobs.register(exports.LEDGER_KIND, exports.ledger_file, back_url="activities:ledger")
        tracking.listen(services.TRACKING_SOURCE, services.on_tracked_change)
