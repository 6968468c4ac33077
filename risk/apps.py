from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "risk"
    verbose_name = _("风险预警")

    def ready(self) -> None:
        from core.queue import register_reaper

        from . import services

        register_reaper(services.reap_stale_screenings)
