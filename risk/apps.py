from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "risk"
    verbose_name = _("风险预警")

    def ready(self) -> None:
        from core import portal
        from core.queue import register_reaper
        from institutions import access

        from . import services

        register_reaper(services.reap_stale_screenings)

        def works_on_alerts(user) -> bool:
            return bool(services.actor_institution_ids(user)) or access.is_finance_center(user)

        portal.register("risk:queue", _("风险预警"), visible=works_on_alerts, order=60)
        portal.register("risk:summary", _("风险预警统计"), visible=lambda u: access.is_finance_center(u), order=61)
