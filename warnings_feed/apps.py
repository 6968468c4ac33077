from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarningsFeedConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "warnings_feed"
    verbose_name = _("警示信息")
