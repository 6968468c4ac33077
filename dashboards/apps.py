from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboards"
    verbose_name = _("数据看板")

    def ready(self) -> None:
        from . import signals  # noqa: F401 (connects the cache warm-up to aggregation and publishing)
