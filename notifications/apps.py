from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        from core import portal

        def signed_in(user) -> bool:
            return bool(getattr(user, "is_authenticated", False))

        portal.register("notifications:overview", _("消息与推送"), visible=signed_in, order=90, nav=False)
